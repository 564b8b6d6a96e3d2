import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ageGroupProbs, decodeOutput, softmax, toContractOrder } from '../../agent/classify/outputs.js';
import { CONTRACT_LABELS } from '../../agent/contract/labels.js';

test('softmax known values', () => {
  const s = softmax([0, Math.log(3)]);
  assert.ok(Math.abs(s[0]! - 0.25) < 1e-12 && Math.abs(s[1]! - 0.75) < 1e-12);
  assert.ok(Math.abs(softmax([1000, 1000])[0]! - 0.5) < 1e-12, 'stable for large logits');
});

test('age binning: sums to 1, splits evenly at a group edge, peaks in the right group', () => {
  const p = ageGroupProbs(30, 4.5);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.ok(Math.abs(p[3]! - p[4]!) < 1e-6, '30 years sits on the 20-29 / 30-39 edge');
  const q = ageGroupProbs(86.9, 4.5);
  assert.ok(q[8]! > 0.99, '86.9 years is 70+');
  const r = ageGroupProbs(45, 0.5);
  assert.ok(r[5]! > 0.999, '45 years with a tiny sigma is 40-49');
});

test('labels are reordered into the contract order by name', () => {
  const faceApiOrder = ['neutral', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'];
  const probs = [0.7, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03];
  const c = toContractOrder('emotion', faceApiOrder, probs);
  assert.equal(c[CONTRACT_LABELS.emotion.indexOf('neutral')], 0.7);
  assert.equal(c[CONTRACT_LABELS.emotion.indexOf('happy')], 0.1);
  const pred = decodeOutput({ name: 'e', shape: ['batch', 7], task: 'emotion', type: 'probabilities', labels: faceApiOrder }, probs);
  assert.equal(pred.label, 'neutral');
  assert.deepEqual(Object.keys(pred.probs), CONTRACT_LABELS.emotion);
});

test('softmax-logits outputs are normalised; regression outputs keep the years', () => {
  const g = decodeOutput({ name: 'g', shape: ['batch', 2], task: 'gender', type: 'softmax-logits', labels: ['female', 'male'] }, [0, Math.log(3)]);
  assert.equal(g.label, 'male');
  assert.ok(Math.abs(g.probs.male! - 0.75) < 1e-12);
  const a = decodeOutput({ name: 'a', shape: ['batch', 1], task: 'age', type: 'regression-years', sigmaYears: 4.5 }, [86.94]);
  assert.equal(a.label, '70+');
  assert.equal(a.years, 86.9);
});
