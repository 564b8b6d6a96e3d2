// The CLI's device commands reach a broker that wants the password `percept secret set` stored: the
// root-only original is used where the config names no password of its own, and never over one it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTarget } from '../../agent/cli/remote-device.js';
import { tempDir } from '../helpers/temp.js';

function withDirs(yaml: string, secret: string | null, fn: (config: string) => void): void {
  const dir = tempDir('percept-remote-cred-');
  const creds = join(dir, 'credentials');
  const before = process.env.PERCEPT_CREDENTIALS_DIR;
  try {
    writeFileSync(join(dir, 'percept.yaml'), yaml);
    if (secret !== null) {
      // the directory and the 0600 file as `percept secret set` leaves them
      mkdirSync(creds, { mode: 0o700 });
      writeFileSync(join(creds, 'mqtt-password'), `${secret}\n`, { mode: 0o600 });
    }
    process.env.PERCEPT_CREDENTIALS_DIR = creds;
    fn(join(dir, 'percept.yaml'));
  } finally {
    if (before === undefined) delete process.env.PERCEPT_CREDENTIALS_DIR;
    else process.env.PERCEPT_CREDENTIALS_DIR = before;
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the stored broker password is used when the config names none', () => {
  withDirs('mqtt:\n  url: mqtt://127.0.0.1:1883\n  username: percept\n', 's3cret', (config) => {
    const t = resolveTarget({ config, timeout: 5 });
    assert.equal(t.options.username, 'percept');
    assert.equal(t.options.password, 's3cret');
  });
});

test('a password the config names wins over the stored one; no stored one, no password', () => {
  withDirs('mqtt:\n  url: mqtt://127.0.0.1:1883\n  username: percept\n  password: fromconfig\n', 's3cret', (config) => {
    assert.equal(resolveTarget({ config, timeout: 5 }).options.password, 'fromconfig');
  });
  withDirs('mqtt:\n  url: mqtt://127.0.0.1:1883\n', null, (config) => {
    assert.equal(resolveTarget({ config, timeout: 5 }).options.password, undefined);
  });
});
