import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBox, decodeCandidates, sigmoid, type Candidate } from '../../agent/detect/ssd-decode.js';
import { iou, nonMaxSuppression } from '../../agent/detect/nms.js';

const V = [10, 10, 5, 5];

test('a zero encoding decodes to its prior box', () => {
  const priors = [0.1, 0.2, 0.3, 0.6];
  assert.deepEqual(
    decodeBox([0, 0, 0, 0], priors, 0, V).map((v) => +v.toFixed(12)),
    [0.1, 0.2, 0.3, 0.6],
  );
});

test('known value: shift and scale against a prior', () => {
  // prior centre (0.5, 0.5), size 0.2 × 0.4; ty = 1 → +0.1·0.2; th = 5·ln 2 → height × 2.
  const b = decodeBox([1, -2, 5 * Math.log(2), 0], [0.4, 0.3, 0.6, 0.7], 0, V);
  const expected = [0.52 - 0.2, 0.42 - 0.2, 0.52 + 0.2, 0.42 + 0.2];
  b.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12, `${i}: ${v} vs ${expected[i]}`));
});

test('candidates: sigmoid of the face column, thresholded', () => {
  const priors = [0, 0, 1, 1, 0, 0, 0.5, 0.5];
  const logits = [9, 2, 0, 9, -3, 0]; // anchor 0: face logit 2; anchor 1: −3
  const c = decodeCandidates(new Float32Array(8), logits, priors, 2, 3, 1, V, 0.5);
  assert.equal(c.length, 1);
  assert.equal(c[0]!.index, 0);
  assert.ok(Math.abs(c[0]!.score - sigmoid(2)) < 1e-12);
});

test('iou known values', () => {
  assert.equal(iou([0, 0, 1, 1], [0, 0, 1, 1]), 1);
  assert.equal(iou([0, 0, 1, 1], [2, 2, 3, 3]), 0);
  assert.ok(Math.abs(iou([0, 0, 2, 2], [1, 1, 3, 3]) - 1 / 7) < 1e-12);
});

test('NMS keeps the best of overlapping boxes and every separate one', () => {
  const c = (index: number, score: number, box: [number, number, number, number]): Candidate => ({ index, score, box });
  const kept = nonMaxSuppression(
    [
      c(0, 0.6, [0, 0, 1, 1]),
      c(1, 0.9, [0.05, 0.05, 1.05, 1.05]), // overlaps 0 by ~0.82: wins
      c(2, 0.7, [2, 2, 3, 3]),
      c(3, 0.8, [0, 0.6, 1, 1.6]), // overlaps 1 by < 0.5: kept
    ],
    0.5,
    10,
  );
  assert.deepEqual(
    kept.map((k) => k.index),
    [1, 3, 2],
  );
  assert.deepEqual(
    nonMaxSuppression([c(0, 0.9, [0, 0, 1, 1]), c(1, 0.8, [2, 2, 3, 3])], 0.5, 1).map((k) => k.index),
    [0],
  );
});
