// models eval on shipped face crops: the box given to the agent's classifier is the image inset by the
// model's margin, so the agent's own crop (box grown by margin × larger side) is exactly the whole image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxForCrop } from '../../agent/cli/eval/run-model.js';
import { splitCsv } from '../../agent/cli/eval/datasets.js';
import { faceCrop } from '../../agent/inference/preprocess.js';

test("a crop's face box grows back to the whole image under the agent's crop", () => {
  for (const [w, h, margin] of [
    [100, 100, 0.2],
    [224, 224, 0],
    [448, 600, 0.2],
    [120, 90, 0.35],
  ] as const) {
    const region = faceCrop(boxForCrop(w, h, margin), margin);
    for (const [k, v] of Object.entries({ x: 0, y: 0, w, h }))
      assert.ok(Math.abs(region[k as 'x'] - v) < 1e-9, `${w}×${h} margin ${margin}: ${k} ${region[k as 'x']}, expected ${v}`);
  }
});

test('CSV fields: quoted commas and doubled quotes', () => {
  assert.deepEqual(splitCsv('a.jpg, "more than 70","say ""hi"", then",'), ['a.jpg', 'more than 70', 'say "hi", then', '']);
});
