import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOutput, NonFiniteOutputError } from '../../agent/classify/outputs.js';
import type { OutputSpec } from '../../agent/inference/manifest.js';

const gender: OutputSpec = { name: 'g', shape: ['batch', 2], task: 'gender', type: 'softmax-logits', labels: ['female', 'male'] };
const emotion: OutputSpec = {
  name: 'e',
  shape: ['batch', 7],
  task: 'emotion',
  type: 'probabilities',
  labels: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'],
};
const age: OutputSpec = { name: 'a', shape: ['batch', 1], task: 'age', type: 'regression-years', sigmaYears: 4.5 };

test('non-finite model outputs fail the classification with a clear error instead of "p": null', () => {
  for (const [spec, row] of [
    [gender, [NaN, 0]],
    [gender, [Infinity, 0]],
    [emotion, [NaN, 0, 0, 0, 0, 0, 0]],
    [age, [NaN]],
    [age, [-Infinity]],
  ] as const) {
    assert.throws(
      () => decodeOutput(spec, row),
      (err: unknown) => err instanceof NonFiniteOutputError && new RegExp(`model output "${spec.name}" \\(${spec.task}\\) has`).test((err as Error).message),
      `${spec.name} ${row}`,
    );
  }
  // Large but finite logits still decode (softmax subtracts the maximum).
  assert.doesNotThrow(() => decodeOutput(gender, [1e6, -1e6]));
  assert.equal(decodeOutput(gender, [0, Math.log(3)]).label, 'male');
});
