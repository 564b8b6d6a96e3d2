import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../agent/publish/outbox.js';
import { backoffDelay } from '../../agent/lib/backoff.js';

const entry = (seq: number) => ({ seq, topic: `t/${seq}`, payload: `{"seq":${seq}}` });

test('events survive in seq order until acknowledged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'percept-outbox-'));
  const box = new Outbox(dir, { maxEvents: 100, maxAgeMs: 60_000 });
  for (const s of [3, 1, 2]) box.put(entry(s));
  assert.deepEqual(box.pending(), [1, 2, 3]);
  assert.deepEqual(box.read(2), entry(2));
  box.remove(1);
  // A new process on the same state directory sees what is left.
  assert.deepEqual(new Outbox(dir, { maxEvents: 100, maxAgeMs: 60_000 }).pending(), [2, 3]);
});

test('bounded by count and age: the oldest go, counted and warned about', () => {
  const dir = mkdtempSync(join(tmpdir(), 'percept-outbox-'));
  const warnings: string[] = [];
  const box = new Outbox(dir, { maxEvents: 3, maxAgeMs: 60_000 }, (m) => warnings.push(m));
  for (let s = 1; s <= 5; s++) box.put(entry(s));
  assert.deepEqual(box.pending(), [3, 4, 5]);
  assert.equal(box.dropped, 2);
  assert.match(warnings.join('\n'), /dropped the 1 oldest undelivered event\(s\) \(2 in all\)/);
  const old = new Date(Date.now() - 120_000);
  utimesSync(join(dir, 'outbox', '000000000003.json'), old, old);
  box.put(entry(6));
  assert.deepEqual(box.pending(), [4, 5, 6], 'an event older than maxAge is dropped');
  assert.equal(box.dropped, 3);
});

test('reconnect backoff: exponential, capped, jittered', () => {
  const mid = () => 0.5;
  assert.deepEqual([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 5000, mid)), [1000, 2000, 4000, 5000, 5000]);
  assert.equal(backoffDelay(3, 1000, 60_000, () => 0), 2000, '−50 %');
  assert.equal(backoffDelay(3, 1000, 60_000, () => 0.999), 5996, '+50 %');
  assert.equal(backoffDelay(20, 1000, 5000, () => 0.999), 5000, 'never above the cap');
});
