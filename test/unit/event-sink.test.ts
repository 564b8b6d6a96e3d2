import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventSink, type EventSinkOptions } from '../../agent/publish/event-sink.js';
import { SummaryStore } from '../../agent/publish/summary-store.js';
import { SummaryBook } from '../../agent/features/schedule.js';
import { defaultStateDir, StateDirError } from '../../agent/lib/state-dir.js';
import type { EventPayload } from '../../agent/contract/payloads.js';
import { faultFs } from '../helpers/fault-fs.js';
import { visitEvent } from '../helpers/visit-events.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';

const fresh = () => tempDir('percept-sink-');

function sinkOn(stateDir: string, extra: Partial<EventSinkOptions> = {}) {
  const { log, lines } = logLines();
  const sink = new EventSink({ stateDir, eventTopic: (t) => `p/d/events/${t}`, maxEvents: 100, maxAgeMs: 3600_000, log, ...extra });
  return { sink, lines };
}

const ev = (type: EventPayload['type'], person = 'x') => visitEvent(type, person);

function drainSeqs(sink: EventSink): { topic: string; seq?: number; retain?: boolean }[] {
  const out = [];
  for (let e = sink.next(); e; e = sink.next()) {
    out.push({ topic: e.topic, seq: JSON.parse(e.payload).seq as number | undefined, retain: e.retain });
    sink.delivered(e);
  }
  return out;
}

test('the sink numbers events durably, continues across restarts, and delivers events before records', () => {
  const dir = fresh();
  const a = sinkOn(dir);
  const first = a.sink.emit(ev('entered'));
  assert.equal(first.seq, 1);
  assert.deepEqual(Object.keys(first).slice(0, 3), ['schema', 'seq', 'type']);
  a.sink.record('p/d/summary/daily', { date: '2026-11-27', final: true }, true);
  a.sink.emit(ev('left'));
  assert.equal(a.sink.depth, 3);
  a.sink.close();
  const b = sinkOn(dir);
  assert.match(b.lines.join('\n'), /^info: 2 undelivered event\(s\) from an earlier run wait in the outbox \(seq 1…2\)/m);
  assert.equal(b.sink.emit(ev('entered')).seq, 3);
  assert.deepEqual(drainSeqs(b.sink), [
    { topic: 'p/d/events/entered', seq: 1, retain: false },
    { topic: 'p/d/events/left', seq: 2, retain: false },
    { topic: 'p/d/events/entered', seq: 3, retain: false },
    { topic: 'p/d/summary/daily', seq: undefined, retain: true },
  ]);
  b.sink.close();
});

for (const [name, content] of [
  ['corrupt', '{"seq":'],
  ['empty', ''],
  ['negative', '{"seq":-5}'],
  ['non-numeric', '{"seq":"12"}'],
] as const) {
  test(`a ${name} state file: the seq is recovered from the outbox (pending and quarantined), logged, no exit`, () => {
    const dir = fresh();
    const a = sinkOn(dir);
    for (let i = 0; i < 5; i++) a.sink.emit(ev('entered'));
    a.sink.close();
    // seq 5 went bad and was quarantined, 4 is pending: the next must be 6, not 1 or 5.
    writeFileSync(join(dir, 'outbox', '00000000000000000005.json'), 'garbage');
    writeFileSync(join(dir, 'state.json'), content);
    const b = sinkOn(dir);
    assert.match(b.lines.join('\n'), /^warn: state file .*state\.json was bad .*seq recovered from the outbox: the next event is 6/m);
    assert.equal(b.sink.emit(ev('left')).seq, 6);
    assert.ok(
      readdirSync(dir).some((f) => f.startsWith('state.json.bad-')),
      'the bad file is kept aside',
    );
    assert.equal(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).seq, 6);
    b.sink.close();
  });
}

test('a state file behind the outbox (crash between store and commit): the seq resumes above the outbox', () => {
  const dir = fresh();
  const a = sinkOn(dir);
  for (let i = 0; i < 3; i++) a.sink.emit(ev('entered'));
  a.sink.close();
  writeFileSync(join(dir, 'state.json'), '{"seq":1}');
  const b = sinkOn(dir);
  assert.equal(b.sink.emit(ev('left')).seq, 4);
  b.sink.close();
});

test('a state directory that cannot be written: StateDirError (exit 73) naming the fix', () => {
  const parent = fresh();
  writeFileSync(join(parent, 'file'), '');
  assert.throws(
    () => sinkOn(join(parent, 'file', 'state')),
    (err: unknown) => err instanceof StateDirError && err.exitCode === 73 && /--state-dir/.test(err.message),
  );
});

test('default state directory: system dir for root, $XDG_STATE_HOME/percept or ~/.local/state/percept for a user', () => {
  assert.equal(defaultStateDir({}, 0, '/root'), '/var/lib/percept');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 1000, '/home/u'), '/x/state/percept');
  assert.equal(defaultStateDir({}, 1000, '/home/u'), '/home/u/.local/state/percept');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: 'relative' }, 1000, '/home/u'), '/home/u/.local/state/percept', 'a relative XDG path is ignored (spec)');
  assert.equal(defaultStateDir({ STATE_DIRECTORY: '/var/lib/private/percept' }, 61000, '/'), '/var/lib/private/percept', 'systemd StateDirectory=');
});

test('disk full: the sink keeps numbering, reports degraded, never reuses a seq, writes everything back', () => {
  const dir = fresh();
  const fs = faultFs();
  const a = sinkOn(dir, { fs });
  a.sink.emit(ev('entered'));
  fs.full = true;
  const seqs = [2, 3, 4].map(() => a.sink.emit(ev('updated')).seq);
  assert.deepEqual(seqs, [2, 3, 4]);
  assert.match(a.sink.degraded ?? '', /ENOSPC/);
  assert.equal(a.sink.stats().inMemory, 3);
  fs.full = false;
  assert.equal(a.sink.retry(), true);
  assert.equal(a.sink.degraded, null);
  a.sink.close();
  const b = sinkOn(dir);
  assert.deepEqual(b.sink.pending, [1, 2, 3, 4]);
  assert.equal(b.sink.emit(ev('left')).seq, 5);
  b.sink.close();
});

test('the daily summary survives a restart mid-day; a day that ended while down goes out as final', () => {
  const dir = fresh();
  mkdirSync(dir, { recursive: true });
  const tz = 'Europe/Berlin';
  const store = new SummaryStore(dir);
  const morning = new SummaryBook(tz, new Date('2026-11-27T07:00:00Z'), store.load() ?? undefined);
  morning.add(new Date('2026-11-27T08:00:00Z'), { age: '20-29', gender: 'male', emotion: 'happy' });
  morning.add(new Date('2026-11-27T09:00:00Z'), { gender: 'female' });
  store.save(morning.current());
  // Restart at 15:00 the same day: the morning is still there and counting goes on.
  const afternoon = new SummaryBook(tz, new Date('2026-11-27T14:00:00Z'), new SummaryStore(dir).load() ?? undefined);
  assert.equal(afternoon.current().visits, 2);
  afternoon.add(new Date('2026-11-27T14:05:00Z'), { gender: 'male' });
  assert.equal(afternoon.current().visits, 3);
  store.save(afternoon.current());
  // Down over midnight, restarted the next morning: yesterday is not today's, so it is finished.
  const saved = new SummaryStore(dir).load()!;
  const next = new SummaryBook(tz, new Date('2026-11-28T07:00:00Z'), saved);
  assert.equal(next.current().visits, 0);
  assert.notEqual(saved.date, next.date);
  assert.equal(saved.visits, 3);
  // A bad file is moved aside and the day starts from zero.
  writeFileSync(join(dir, 'summary.json'), '{"date":"2026-11-28","visits":"x"}');
  const { log, lines } = logLines();
  assert.equal(new SummaryStore(dir, log).load(), null);
  assert.match(lines.join(), /warn: .*unreadable; moved to/);
});
