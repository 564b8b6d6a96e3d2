import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../../agent/lib/durable.js';
import { Outbox } from '../../agent/publish/outbox.js';
import { StateStore } from '../../agent/publish/state-store.js';
import { faultFs } from '../helpers/fault-fs.js';
import { tempDir } from '../helpers/temp.js';

/** The calls with fds and the directory replaced by names, so the order reads plainly. */
function shape(calls: string[], dir: string): string[] {
  return calls.map((c) =>
    c
      .replaceAll(dir, 'D')
      .replace(/ \d+$/, ' fd')
      .replace(/^(open|write|fsync|close) \d+/, '$1 fd'),
  );
}

test('durable write: tmp written and fsynced, renamed, then the directory fsynced', () => {
  const dir = tempDir('percept-durable-');
  const fs = faultFs();
  writeDurable(join(dir, 'x.json'), '{"a":1}', fs);
  assert.deepEqual(shape(fs.calls, dir), [
    'open D/x.json.tmp w',
    'write fd',
    'fsync fd',
    'close fd',
    'rename D/x.json.tmp D/x.json',
    'open D r',
    'fsync fd',
    'close fd',
  ]);
  assert.equal(readFileSync(join(dir, 'x.json'), 'utf8'), '{"a":1}');
});

test('a failed durable write leaves the old file and no tmp behind', () => {
  const dir = tempDir('percept-durable-');
  const fs = faultFs();
  writeDurable(join(dir, 'x.json'), 'old', fs);
  fs.full = true;
  assert.throws(() => writeDurable(join(dir, 'x.json'), 'new', fs), /ENOSPC/);
  assert.equal(readFileSync(join(dir, 'x.json'), 'utf8'), 'old');
  assert.equal(existsSync(join(dir, 'x.json.tmp')), false);
});

test('the outbox and the state store fsync the directory after each rename', () => {
  const dir = tempDir('percept-durable-');
  const fs = faultFs();
  new Outbox(dir, { maxEvents: 10, maxAgeMs: 60_000, fs }).put({ seq: 1, topic: 't', payload: '{}' });
  const state = new StateStore(dir, { fs });
  state.commit(1);
  const calls = shape(fs.calls, dir);
  for (const file of ['D/outbox/00000000000000000001.json', 'D/state.json']) {
    const rename = calls.indexOf(`rename ${file}.tmp ${file}`);
    assert.ok(rename >= 0, `${file} renamed: ${calls.join(', ')}`);
    assert.deepEqual(calls.slice(rename + 1, rename + 3), [`open ${file.slice(0, file.lastIndexOf('/'))} r`, 'fsync fd']);
  }
});
