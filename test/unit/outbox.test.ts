import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Outbox, type Clock } from '../../agent/publish/outbox.js';
import { backoffDelay } from '../../agent/lib/backoff.js';
import { faultFs } from '../helpers/fault-fs.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';

const entry = (seq: number) => ({ seq, topic: `t/${seq}`, payload: `{"seq":${seq}}` });
const fresh = () => tempDir('percept-outbox-');
const limits = { maxEvents: 100, maxAgeMs: 60_000 };

/** A clock the test moves: wall (may step) and monotonic (only forward). */
function testClock(wall = Date.UTC(2026, 10, 28)): Clock & { wallMs: number; monoMs: number } {
  const c = { wallMs: wall, monoMs: 0, wall: () => c.wallMs, mono: () => c.monoMs };
  return c;
}

/** Drains like the publisher does: next(), then delivered(). */
function drain(box: Outbox): number[] {
  const out: number[] = [];
  for (let e = box.next(); e; e = box.next()) {
    out.push(JSON.parse(e.payload).seq);
    box.delivered(e);
  }
  return out;
}

test('entries survive in seq order until acknowledged', () => {
  const dir = fresh();
  const box = new Outbox(dir, limits);
  for (const s of [3, 1, 2]) box.put(entry(s));
  assert.deepEqual(box.pending(), [1, 2, 3]);
  assert.deepEqual(box.read(2), { ...entry(2), retain: false });
  box.remove(1);
  // A new process on the same state directory sees what is left.
  assert.deepEqual(new Outbox(dir, limits).pending(), [2, 3]);
  assert.throws(() => box.put(entry(2)), /already pending/, 'a seq is never stored twice');
});

test('bounded by count: the oldest go, counted and warned about', () => {
  const { log, lines: warnings } = logLines();
  const box = new Outbox(fresh(), { maxEvents: 3, maxAgeMs: 60_000 }, log);
  for (let s = 1; s <= 5; s++) box.put(entry(s));
  assert.deepEqual(box.pending(), [3, 4, 5]);
  assert.equal(box.dropped, 2);
  assert.match(warnings.join('\n'), /^warn: .*dropped the 1 oldest undelivered entry \(beyond mqtt.outboxMaxEvents; 2 in all\)/m);
});

test('seqs from 10^12 up (13+ digits) sort numerically and deliver, next to old 12-digit names', () => {
  const dir = fresh();
  mkdirSync(join(dir, 'outbox'));
  writeFileSync(join(dir, 'outbox', '999999999999.json'), JSON.stringify({ topic: 't/old', payload: '{"seq":999999999999}', storedAt: Date.now() }));
  const box = new Outbox(dir, limits);
  for (const s of [1e12 + 1, 1e12, 2 ** 53 - 1]) box.put(entry(s));
  const again = new Outbox(dir, limits);
  assert.deepEqual(again.pending(), [999999999999, 1e12, 1e12 + 1, 2 ** 53 - 1]);
  assert.deepEqual(drain(again), [999999999999, 1e12, 1e12 + 1, 2 ** 53 - 1]);
  assert.deepEqual(readdirSync(join(dir, 'outbox')), []);
});

test('bad entries (garbage, a directory, no topic, no payload, a foreign name) are quarantined; the rest is delivered', () => {
  const dir = fresh();
  const { log, lines: warnings } = logLines();
  const good = new Outbox(dir, limits);
  for (const s of [1, 3, 5, 7]) good.put(entry(s));
  const ob = join(dir, 'outbox');
  writeFileSync(join(ob, '2.json'), '\u0000garbage{');
  mkdirSync(join(ob, '00000000000000000004.json'));
  writeFileSync(join(ob, '6.json'), JSON.stringify({ payload: '{}' }));
  writeFileSync(join(ob, '8.json'), JSON.stringify({ topic: 'a/b' }));
  writeFileSync(join(ob, '99999999999999999999.json'), JSON.stringify({ topic: 'a/b', payload: '{}' }));
  const box = new Outbox(dir, limits, log);
  assert.deepEqual(drain(box), [1, 3, 5, 7]);
  assert.equal(box.quarantined, 5);
  assert.equal(readdirSync(join(ob, 'quarantine')).length, 5);
  assert.deepEqual(readdirSync(ob), ['quarantine']);
  assert.match(warnings.join('\n'), /^warn: .*bad entry 6\.json \(no valid "topic"\) moved to/m);
  assert.equal(box.highestKey, 8, 'quarantined names still count as used seqs');
});

test('an entry that goes bad after start is quarantined when met, and next() moves on', () => {
  const dir = fresh();
  const box = new Outbox(dir, limits);
  for (const s of [1, 2, 3]) box.put(entry(s));
  writeFileSync(join(dir, 'outbox', '00000000000000000002.json'), 'not json');
  assert.deepEqual(drain(box), [1, 3]);
  assert.equal(box.quarantined, 1);
});

test('age: a clock stepped forward never drops a new entry in put; sweep drops by monotonic age', () => {
  const clock = testClock();
  const box = new Outbox(fresh(), { ...limits, clock });
  box.put(entry(1));
  clock.wallMs += 365 * 24 * 3600_000; // NTP arrives a year later
  box.put(entry(2));
  assert.deepEqual(box.pending(), [1, 2], 'nothing dropped inside put');
  assert.equal(box.sweep(), 0, 'a wall-clock step does not age anything');
  clock.monoMs += 30_000;
  box.put(entry(3));
  clock.monoMs += 40_000; // 1 and 2 are 70 s old, 3 is 40 s old
  assert.equal(box.sweep(), 2);
  assert.deepEqual(box.pending(), [3]);
  assert.equal(box.dropped, 2);
});

test('age of entries from an earlier run: their wall age at load; future or pre-2024 times count as new', () => {
  const dir = fresh();
  const clock = testClock();
  const writer = new Outbox(dir, { ...limits, clock });
  writer.put(entry(1));
  clock.wallMs += 120_000;
  writer.put(entry(2));
  // A restart 30 s later with the clock right: 1 is 150 s old, 2 is 30 s old.
  clock.wallMs += 30_000;
  const later = new Outbox(dir, { ...limits, clock });
  assert.equal(later.sweep(), 1);
  assert.deepEqual(later.pending(), [2]);
  // A restart on a device whose clock is back at 1970: nothing is judged old.
  clock.wallMs = 1000;
  assert.equal(new Outbox(dir, { ...limits, clock }).sweep(), 0);
  writeFileSync(join(dir, 'outbox', '3.json'), JSON.stringify({ topic: 't', payload: '{}', createdAt: 5000 }));
  clock.wallMs = Date.UTC(2026, 10, 28);
  const afterNtp = new Outbox(dir, { ...limits, clock });
  afterNtp.sweep();
  assert.deepEqual(afterNtp.pending(), [2, 3], 'an entry written before the clock was set is not dropped as 56 years old');
});

test('disk full: entries held in memory (bounded, drops counted), degraded says why, written back when space returns', () => {
  const dir = fresh();
  const fs = faultFs();
  const { log, lines: warnings } = logLines();
  const box = new Outbox(dir, { ...limits, memoryMax: 3, fs }, log);
  box.put(entry(1));
  fs.full = true;
  assert.doesNotThrow(() => {
    for (let s = 2; s <= 6; s++) box.put(entry(s));
  });
  assert.match(box.degraded ?? '', /ENOSPC/);
  assert.equal(box.inMemory, 3);
  assert.equal(box.dropped, 2, 'beyond memoryMax the oldest held ones go, counted');
  assert.deepEqual(box.pending(), [1, 4, 5, 6]);
  assert.equal(box.retry(), false);
  fs.full = false;
  assert.equal(box.retry(), true);
  assert.equal(box.degraded, null);
  assert.equal(box.inMemory, 0);
  assert.deepEqual(new Outbox(dir, limits).pending(), [1, 4, 5, 6], 'on disk now');
  assert.match(warnings.join('\n'), /^warn: .*writable again/m);
});

test('disk full with the broker up: held entries are delivered from memory, in order', () => {
  const fs = faultFs();
  const box = new Outbox(fresh(), { ...limits, fs });
  box.put(entry(1));
  fs.full = true;
  box.put(entry(2));
  box.put(entry(3));
  assert.deepEqual(drain(box), [1, 2, 3]);
});

test('reconnect backoff: exponential, capped, jittered', () => {
  const mid = () => 0.5;
  assert.deepEqual(
    [1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 5000, mid)),
    [1000, 2000, 4000, 5000, 5000],
  );
  assert.equal(
    backoffDelay(3, 1000, 60_000, () => 0),
    2000,
    '−50 %',
  );
  assert.equal(
    backoffDelay(3, 1000, 60_000, () => 0.999),
    5996,
    '+50 %',
  );
  assert.equal(
    backoffDelay(20, 1000, 5000, () => 0.999),
    5000,
    'never above the cap',
  );
});
