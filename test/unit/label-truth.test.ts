// Label truth (issue 24, item 1): every payload carries the arg-max of the fused probabilities, hysteresis
// only decides when an `updated` is sent, and `entered` waits for evidence (or says it had none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gender, harness, VISIT_OPTS, type Face } from '../helpers/visit-harness.js';
import { toPrediction } from '../../agent/contract/labels.js';
import type { FaceAttributes } from '../../agent/classify/classifier.js';
import type { VisitEvent } from '../../agent/track/visits.js';
import { rng } from '../helpers/rng.js';

const at = (x: number): Face => ({ who: 'a', x });
/** The shipped evidence rule (config/percept.yaml), not the harness's enter-at-once default. */
const EVIDENCE = { ...VISIT_OPTS.hysteresis, enterMinSamples: 2, enterMinP: { age: 0.35, gender: 0.75, emotion: 0.5 } };

function assertArgMax(e: VisitEvent): void {
  for (const [task, pred] of Object.entries(e.attributes)) {
    const best = Math.max(...Object.values(pred.probs));
    assert.equal(pred.p, pred.probs[pred.label], `${e.type} ${task}: p is the label's own probability`);
    assert.equal(pred.p, best, `${e.type} ${task}: "${pred.label}" at ${pred.p} while another label has ${best}`);
  }
}

for (const [name, answers, updates] of [
  // One wrong first sample, then clear ones: the hysteresis is met, an `updated` says female.
  ['a long visit', [0.39, 0.95, 0.95, 0.95, 0.95], 1],
  // One wrong first sample and one right one before the person leaves: too little for an `updated`, but the
  // fused arg-max is female already, and that is what `left` says.
  ['a short visit', [0.39, 0.75], 0],
] as const)
  test(`a label whose first sample is wrong ends right in "left" (${name})`, () => {
    const h = harness({ visit: { reclassifyMs: 1000, minGapMs: 1000, maxSamples: answers.length }, answer: (_p, call) => gender(answers[call - 1] ?? 0.9) });
    h.frames(80, () => [at(300)]);
    h.leave();
    const types = h.events.map((e) => e.type);
    assert.deepEqual(types, ['entered', ...Array<string>(updates).fill('updated'), 'left']);
    assert.equal(h.events[0]!.attributes.gender!.label, 'male', 'entered: what the one sample said (the harness enters at once)');
    const left = h.events.at(-1)!;
    assert.equal(left.attributes.gender!.label, 'female');
    h.events.forEach(assertArgMax);
  });

test('no payload ever names a label below another one in its own probabilities (random samples, three tasks)', () => {
  const r = rng(24);
  const random = (n: number) => {
    const raw = Array.from({ length: n }, () => r() ** 3);
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / sum);
  };
  const answer = (): FaceAttributes => ({
    gender: toPrediction('gender', random(2)),
    age: toPrediction('age', random(9)),
    emotion: toPrediction('emotion', random(7)),
  });
  let events = 0;
  for (let run = 0; run < 10; run++) {
    const h = harness({ visit: { reclassifyMs: 300, minGapMs: 200, maxSamples: 12, hysteresis: EVIDENCE }, answer });
    h.frames(60, (i) => [at(200 + i * 3), { who: 'b', x: 900 - i * 2 }]);
    h.leave();
    h.events.forEach(assertArgMax);
    events += h.events.length;
  }
  assert.ok(events >= 40, `${events} events checked`);
});

test('"entered" waits for a second sample when the first is not confident, and says it is confident then', () => {
  const h = harness({ visit: { reclassifyMs: 4000, minGapMs: 1000, hysteresis: EVIDENCE }, answer: (_p, call) => gender(call === 1 ? 0.39 : 0.9) });
  h.frames(40, () => [at(300)]);
  const entered = h.events.find((e) => e.type === 'entered')!;
  assert.equal(entered.samples, 2, 'held back over the first, unsure sample');
  assert.equal(h.calls.get(entered.person), 2, 'the second sample came after minGapMs, not after reclassifyMs');
  assert.equal(entered.attributes.gender!.confident, true);
  assert.equal(entered.attributes.gender!.label, 'female', 'fused (0.39 + 0.9) / 2 = 0.645 female');
});

test('"entered" does not wait when the first sample is confident', () => {
  const h = harness({ visit: { hysteresis: EVIDENCE }, answer: () => gender(0.95) });
  h.frames(20, () => [at(300)]);
  const entered = h.events.find((e) => e.type === 'entered')!;
  assert.equal(entered.samples, 1);
  assert.equal(entered.attributes.gender!.confident, true);
});

test('at the enter timeout an unsure visit is announced with confident: false, and becomes confident later', () => {
  // One sample only until the timeout (maxSamples 1): announced at enterTimeoutMs, saying so.
  const h = harness({ visit: { maxSamples: 1, enterTimeoutMs: 1500, hysteresis: EVIDENCE }, answer: () => gender(0.6) });
  h.frames(30, () => [at(300)]);
  const entered = h.events.find((e) => e.type === 'entered')!;
  assert.equal(entered.samples, 1);
  assert.equal(entered.attributes.gender!.confident, false);
  assert.ok(entered.ts - entered.confirmedAt! >= 1500, 'sent at the timeout, not before');
  h.leave();
  assert.equal(h.events.at(-1)!.attributes.gender!.confident, false, 'still one sample at 0.6 when the visit ends');
});

test('a confirmed fragment shorter than visit.minDwellMs vanishes without events and is counted', () => {
  for (const frames of [3, 4]) {
    // Confirmed after 2 detections, gone after 300–400 ms: where two people cross, a face half out of view.
    const h = harness({ answer: () => gender(0.95) });
    h.frames(frames, () => [at(300)]);
    h.leave();
    assert.deepEqual(h.events, [], `${frames} frames: no visit`);
    assert.equal(h.book.fragmentsDropped, 1);
  }
});

test('visit.minPasses: a face found in fewer detection passes is no visit, however long its track lives', () => {
  // Found twice (confirmed), then never again: its track lives on for maxUnseenMs, coasting.
  const run = (minPasses: number) => {
    const h = harness({ answer: () => gender(0.95), reid: { minDwellMs: 0, minPasses } });
    h.frames(2, () => [at(300)]);
    h.leave();
    return h.events.map((e) => e.type);
  };
  assert.deepEqual(run(3), []);
  assert.deepEqual(run(2), ['entered', 'left']);
});
