// The tracker and the visit state machine on synthetic sequences (timestamps are the clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IouTracker } from '../../agent/track/tracker.js';
import { VisitBook, type VisitEvent } from '../../agent/track/visits.js';
import { toPrediction } from '../../agent/classify/labels.js';
import type { Detection } from '../../agent/detect/detector.js';

const FRAME = { width: 1000, height: 1000 };
const det = (x: number, y = 400, s = 100): Detection => ({ box: { x, y, w: s, h: s }, score: 0.9 });
const female = (p: number) => ({ gender: toPrediction('gender', [1 - p, p]) });

function setup(minHits = 2) {
  let n = 0;
  const tracker = new IouTracker({ iouThreshold: 0.2, minHits, maxUnseenMs: 1000 });
  const book = new VisitBook({ reclassifyMs: 2000, maxSamples: 3, edgeMargin: 0.02 }, () => `p${++n}`);
  const events: VisitEvent[] = [];
  const step = (dets: Detection[], ts: number, classify?: (i: number) => ReturnType<typeof female>) => {
    events.push(...book.onTracks(tracker.update(dets, ts), ts));
    const due = book.due(ts, 8, FRAME);
    book.markPending(due, ts);
    due.forEach((v, i) => events.push(...book.onClassified(v, classify ? classify(i) : female(0.9), ts)));
  };
  return { tracker, book, events, step };
}

test('a person walks in, stays, leaves: one entered, one left with the dwell time', () => {
  const { events, step } = setup();
  for (let i = 0; i < 30; i++) step([det(100 + i * 10)], i * 100);
  for (let i = 30; i < 45; i++) step([], i * 100);
  assert.deepEqual(events.map((e) => [e.type, e.person]), [['entered', 'p1'], ['left', 'p1']]);
  assert.equal(events[0]!.ts, 100, 'entered once confirmed (second frame)');
  assert.equal(events[1]!.lastSeen - events[1]!.firstSeen, 2900);
  assert.equal(events[1]!.samples, 2, 're-classified after reclassifyMs');
  assert.equal(events[1]!.attributes.gender!.label, 'female');
});

test('a single-frame false positive never enters', () => {
  const { events, step } = setup();
  step([det(500)], 0);
  for (let i = 1; i < 20; i++) step([], i * 100);
  assert.deepEqual(events, []);
});

test('a short gap (missed detections) keeps the same visit', () => {
  const { events, step } = setup();
  for (let i = 0; i < 5; i++) step([det(300)], i * 100);
  for (let i = 5; i < 10; i++) step([], i * 100); // 500 ms unseen < maxUnseenMs
  for (let i = 10; i < 15; i++) step([det(300)], i * 100);
  for (let i = 15; i < 30; i++) step([], i * 100);
  assert.deepEqual(events.map((e) => e.type), ['entered', 'left']);
});

test('two people at once get separate visits and ids', () => {
  const { events, step } = setup();
  for (let i = 0; i < 10; i++) step([det(100), det(700)], i * 100);
  for (let i = 10; i < 25; i++) step([], i * 100);
  assert.deepEqual(events.map((e) => e.type).sort(), ['entered', 'entered', 'left', 'left']);
  assert.equal(new Set(events.map((e) => e.person)).size, 2);
});

test('faces at the frame border are not classified, so no visit enters on a cut-off face', () => {
  const { events, step, book } = setup();
  for (let i = 0; i < 5; i++) step([det(0)], i * 100);
  assert.equal(events.length, 0);
  assert.equal([...book.visits.values()][0]!.samples, 0);
  step([det(50)], 500);
  assert.deepEqual(events.map((e) => e.type), ['entered']);
});

test('fusion averages the samples: the majority label wins, samples are counted', () => {
  const { events, step } = setup();
  const answers = [0.9, 0.2, 0.8];
  let call = 0;
  for (let i = 0; i < 60; i++) step([det(300)], i * 100, () => female(answers[call++]!));
  for (let i = 60; i < 75; i++) step([], i * 100);
  const left = events.find((e) => e.type === 'left')!;
  assert.equal(left.samples, 3);
  assert.equal(left.attributes.gender!.label, 'female');
  assert.ok(Math.abs(left.attributes.gender!.p - (0.9 + 0.2 + 0.8) / 3) < 1e-9);
});

test('a classification that returns after the visit ended is ignored', () => {
  const tracker = new IouTracker({ iouThreshold: 0.2, minHits: 1, maxUnseenMs: 100 });
  const book = new VisitBook({ reclassifyMs: 2000, maxSamples: 3, edgeMargin: 0 }, () => 'p');
  book.onTracks(tracker.update([det(300)], 0), 0);
  const [v] = book.due(0, 8, FRAME);
  book.markPending([v!], 0);
  book.onTracks(tracker.update([], 500), 500);
  assert.deepEqual(book.onClassified(v!, female(0.9), 600), []);
});
