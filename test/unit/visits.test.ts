// Tracker + visit state machine on synthetic sequences: the timestamps are the clock, the "classifier"
// answers from a script per person, so every case is exact and repeatable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../agent/track/tracker.js';
import { VisitBook, type VisitEvent } from '../../agent/track/visits.js';
import type { Detection } from '../../agent/detect/detector.js';
import { gender, harness, types, VISIT_OPTS as OPTS, type Face } from '../helpers/visit-harness.js';

const det = (x: number, y = 400, s = 100, score = 0.9): Detection => ({ box: { x, y, w: s, h: s }, score });
/** Person "a" at x. */
const at = (x: number, y = 400, s = 100, score = 0.9): Face => ({ who: 'a', x, y, s, score });

test('walk in, stay, leave: one entered (once seen for visit.minDwellMs), one left with the dwell', () => {
  const h = harness();
  h.frames(30, (i) => [at(100 + i * 10)]);
  h.leave();
  assert.deepEqual(types(h.events), ['entered:p1', 'left:p1']);
  assert.equal(h.events[0]!.ts, 500, 'entered once seen for minDwellMs (500 ms): classification was immediate');
  assert.equal(h.events[0]!.ts - h.events[0]!.firstSeen, 500);
  assert.equal(h.events[1]!.lastSeen - h.events[1]!.firstSeen, 2900);
  assert.equal(h.events[1]!.ts, h.events[1]!.lastSeen + 5000, 'left when the grace ran out, dwell up to the last sight');
  assert.equal(h.events[1]!.attributes.gender!.label, 'female');
});

test('a one-frame false positive never becomes a visit', () => {
  const h = harness();
  h.frames(1, () => [at(500)]);
  h.leave();
  assert.equal(h.events.length, 0);
  assert.equal(h.tracker.confirmedTotal, 0);
});

test('occlusion: hidden for half a second is the same visit', () => {
  const h = harness();
  h.frames(10, (i) => [at(300 + i * 5)]);
  h.frames(5, () => []); // 500 ms hidden; the track coasts
  h.frames(10, (i) => [at(375 + i * 5)]);
  h.leave();
  assert.deepEqual(types(h.events), ['entered:p1', 'left:p1']);
});

test('two people crossing keep their identities (constant-velocity prediction)', () => {
  const h = harness({ appearance: false, answer: (who) => gender(who === 'a' ? 0.9 : 0.1) });
  // A walks right, B walks left, same height; their boxes overlap in the middle frames.
  h.frames(40, (i) => [
    { who: 'a', x: 100 + i * 20 },
    { who: 'b', x: 880 - i * 20, y: 410 },
  ]);
  h.leave();
  const byPerson = new Map<string, VisitEvent[]>();
  for (const e of h.events) byPerson.set(e.person, [...(byPerson.get(e.person) ?? []), e]);
  assert.equal(byPerson.size, 2, `visits: ${types(h.events)}`);
  const a = byPerson.get('p1')!.find((e) => e.type === 'left')!;
  const b = byPerson.get('p2')!.find((e) => e.type === 'left')!;
  assert.ok(a.box.x > 500, `A ended on the right (x=${a.box.x})`);
  assert.ok(b.box.x < 400, `B ended on the left (x=${b.box.x})`);
  assert.equal(a.attributes.gender!.label, 'female');
  assert.equal(b.attributes.gender!.label, 'male');
  assert.ok(!h.events.some((e) => e.type === 'updated'), 'no label swap at the crossing');
});

test('a face shrinking into the distance stays one visit and stops being classified when too small', () => {
  const h = harness({ visit: { reclassifyMs: 500, minGapMs: 500 } });
  h.frames(40, (i) => {
    const s = 120 - i * 2.5;
    return [at(400 + i, 300, s)];
  }); // 120 px → 22.5 px
  h.leave();
  assert.deepEqual(types(h.events), ['entered:p1', 'left:p1']);
  const left = h.events[1]!;
  assert.ok(left.samples >= 2);
  // Classifiable only while ≥ 40 px: frames 0–32 (3.2 s); with a 500 ms gap that is at most 7 calls.
  assert.ok((h.calls.get('p1') ?? 0) <= 7);
  assert.ok(left.samples < 40);
});

test('a single misclassified sample never changes the published label', () => {
  // Samples: female, female, MALE (one bad frame), female, female.
  const h = harness({ visit: { reclassifyMs: 1000, minGapMs: 1000 }, answer: (_p, call) => gender(call === 3 ? 0.01 : 0.9) });
  h.frames(60, () => [at(300)]);
  h.leave();
  assert.deepEqual(
    h.events.map((e) => e.type),
    ['entered', 'left'],
  );
  assert.equal(h.events[1]!.attributes.gender!.label, 'female');
  assert.equal(h.events[1]!.samples, 5);
});

test('a sustained change is published once as "updated", after margin, samples and time', () => {
  // The first two samples say male, then every sample says female.
  const h = harness({ visit: { reclassifyMs: 1000, minGapMs: 1000, maxSamples: 10 }, answer: (_p, call) => gender(call <= 2 ? 0.05 : 0.95) });
  h.frames(100, () => [at(300)]);
  h.leave();
  assert.deepEqual(
    h.events.map((e) => e.type),
    ['entered', 'updated', 'left'],
  );
  assert.equal(h.events[0]!.attributes.gender!.label, 'male');
  assert.equal(h.events[1]!.attributes.gender!.label, 'female');
  assert.ok(h.events[1]!.samples >= 4);
});

test('labels follow the quality-weighted majority of the samples', () => {
  const h = harness({ visit: { reclassifyMs: 1000, minGapMs: 1000 }, answer: (_p, call) => gender([0.8, 0.3, 0.7, 0.9, 0.2][call - 1]!) });
  h.frames(60, () => [at(300)]);
  h.leave();
  const left = h.events.find((e) => e.type === 'left')!;
  assert.equal(left.attributes.gender!.label, 'female');
  assert.ok(Math.abs(left.attributes.gender!.p - (0.8 + 0.3 + 0.7 + 0.9 + 0.2) / 5) < 1e-9, 'equal qualities: the plain mean');
});

test('a clearly better crop earns an earlier re-classification; the schedule stays within budget', () => {
  const h = harness();
  h.frames(10, () => [at(300, 300, 50)]); // quality 50/112
  h.frames(10, () => [at(300, 300, 110)]); // a much better crop, more than minGap later
  h.frames(80, () => [at(300, 300, 110)]);
  // first call at confirmation, one for the better crop, then every 4 s: ≤ 3 per 10 s after the first second.
  assert.ok((h.calls.get('p1') ?? 0) <= 4, `calls: ${h.calls.get('p1')}`);
  assert.ok((h.calls.get('p1') ?? 0) >= 3);
});

test('a face never classifiable is still announced after the enter timeout, without labels', () => {
  const h = harness();
  h.frames(50, () => [at(300, 300, 30)]); // 30 px: tracked, never classified
  h.leave();
  assert.deepEqual(
    h.events.map((e) => e.type),
    ['entered', 'left'],
  );
  assert.equal(h.events[0]!.ts - h.events[0]!.confirmedAt!, 3000);
  assert.deepEqual(h.events[0]!.attributes, {});
});

test('a classification that returns after the visit ended is ignored', () => {
  const tracker = new Tracker({ iouThreshold: 0.2, minHits: 1, maxUnseenMs: 100, tentativeUnseenMs: 100 });
  const book = new VisitBook(OPTS, () => 'p');
  book.onTracks(tracker.update([det(300)], 0), 0);
  const v = [...book.visits.values()][0]!;
  book.setQuality(v, 1);
  book.markPending([v], 0);
  book.onTracks(tracker.update([], 500), 500);
  assert.deepEqual(book.onClassified(v, gender(0.9), 1, 600), []);
});

test('tracks coast between detection passes', () => {
  const tracker = new Tracker({ iouThreshold: 0.2, minHits: 2, maxUnseenMs: 1000, tentativeUnseenMs: 300 });
  for (let i = 0; i < 10; i++) tracker.update([det(100 + i * 10)], i * 100);
  const t = [...tracker.tracks.values()][0]!;
  const before = t.box.x;
  tracker.coast(1000);
  tracker.coast(1100);
  assert.ok(t.box.x > before + 10, `predicted onwards: ${before} → ${t.box.x}`);
  const r = tracker.update([det(220)], 1200);
  assert.equal(r.started.length, 0, 'the next detection continues the track');
});
