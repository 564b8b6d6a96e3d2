// Opening hours, the daily summary and the watchdog heartbeat, with injected clocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpen, parseDays, SummaryBook } from '../../agent/features/schedule.js';
import { Heartbeat } from '../../agent/service/systemd-notify.js';

const at = (iso: string) => new Date(iso);

test('day lists', () => {
  assert.deepEqual([...parseDays('mon-fri')].sort(), [1, 2, 3, 4, 5]);
  assert.deepEqual([...parseDays('fri-mon')].sort(), [0, 1, 5, 6]);
  assert.deepEqual([...parseDays('sat,sun')].sort(), [0, 6]);
  assert.equal(parseDays('daily').size, 7);
  assert.throws(() => parseDays('someday'), /"someday" is not a day/);
});

test('opening hours in the configured time zone', () => {
  const rules = [{ days: 'mon-fri', from: '08:00', to: '20:00' }];
  // 2026-11-27 is a Friday. 07:30 UTC is 08:30 in Berlin (UTC+1 in winter).
  assert.equal(isOpen(at('2026-11-27T07:30:00Z'), rules, 'UTC'), false);
  assert.equal(isOpen(at('2026-11-27T07:30:00Z'), rules, 'Europe/Berlin'), true);
  assert.equal(isOpen(at('2026-11-27T19:59:00Z'), rules, 'UTC'), true);
  assert.equal(isOpen(at('2026-11-27T20:00:00Z'), rules, 'UTC'), false);
  assert.equal(isOpen(at('2026-11-28T12:00:00Z'), rules, 'UTC'), false, 'Saturday');
  assert.equal(isOpen(at('2026-11-28T12:00:00Z'), [], 'UTC'), true, 'no rules: always open');
});

test('hours past midnight belong to the day they started', () => {
  const rules = [{ days: 'fri', from: '22:00', to: '02:00' }];
  assert.equal(isOpen(at('2026-11-27T23:00:00Z'), rules, 'UTC'), true);
  assert.equal(isOpen(at('2026-11-28T01:30:00Z'), rules, 'UTC'), true, 'Saturday 01:30 is still Friday night');
  assert.equal(isOpen(at('2026-11-29T01:30:00Z'), rules, 'UTC'), false, 'Sunday 01:30 is not');
});

test('daily summary: visits per local hour by label, counts only; rollover starts a new day', () => {
  const book = new SummaryBook('Europe/Berlin', at('2026-11-27T06:00:00Z'));
  book.add(at('2026-11-27T08:10:00Z'), { age: '70+', gender: 'female', emotion: 'neutral' });
  book.add(at('2026-11-27T08:50:00Z'), { age: '20-29', gender: 'male', emotion: 'happy' });
  book.add(at('2026-11-27T13:00:00Z'), { gender: 'male' });
  const s = book.current();
  assert.equal(s.date, '2026-11-27');
  assert.equal(s.visits, 3);
  assert.deepEqual(
    s.byHour.map((h) => [h.hour, h.visits]),
    [
      [9, 2],
      [14, 1],
    ],
    'Berlin local hours',
  );
  assert.equal(s.byHour[0]!.gender.male, 1);
  assert.equal(s.byHour[0]!.age['70+'], 1);
  assert.ok(!JSON.stringify(s).includes('person'));
  const done = book.rollover(at('2026-11-27T23:00:00Z'));
  assert.equal(done.visits, 3);
  assert.equal(book.current().date, '2026-11-28');
  assert.equal(book.current().visits, 0);
});

test('watchdog heartbeat: alive while progress is recent, not after a stall', () => {
  let now = 0;
  const hb = new Heartbeat(30_000, () => now);
  now = 10_000;
  assert.equal(hb.alive(), true);
  hb.beat();
  now = 39_000;
  assert.equal(hb.alive(), true);
  now = 40_001; // no frame for more than the watchdog period: a stall
  assert.equal(hb.alive(), false);
  hb.beat();
  assert.equal(hb.alive(), true);
});
