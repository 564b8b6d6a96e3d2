// Every error that ends a command maps to its sysexits code, whichever layer defines it: systemd's
// Restart=on-failure and the installer's scripts tell "fix the config" (78) from a crash (1) by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, EXIT_CANTCREAT, EXIT_CONFIG, EXIT_FAILURE, EXIT_MODEL, EXIT_SOURCE } from '../../agent/lib/exit-codes.js';
import { ConfigError } from '../../agent/config/errors.js';
import { ModelError } from '../../agent/inference/manifest.js';
import { SourceError } from '../../agent/capture/opencv-source.js';
import { StateDirError } from '../../agent/lib/state-dir.js';

test('each error class ends a command with its own exit code; anything else is 1', () => {
  assert.equal(exitCodeFor(new ConfigError('file', [{ path: 'mqtt.url', message: 'bad' }])), EXIT_CONFIG);
  assert.equal(exitCodeFor(new ModelError('/m', ['no model.json'])), EXIT_MODEL);
  assert.equal(exitCodeFor(new SourceError('/dev/video9', 'cannot open')), EXIT_SOURCE);
  assert.equal(exitCodeFor(new StateDirError('read-only')), EXIT_CANTCREAT);
  assert.equal(exitCodeFor(new Error('boom')), EXIT_FAILURE);
  assert.equal(exitCodeFor('a string thrown'), EXIT_FAILURE);
  assert.equal(exitCodeFor(null), EXIT_FAILURE);
  assert.deepEqual([EXIT_CONFIG, EXIT_MODEL, EXIT_SOURCE, EXIT_CANTCREAT], [78, 65, 66, 73], 'the sysexits values the README documents');
});
