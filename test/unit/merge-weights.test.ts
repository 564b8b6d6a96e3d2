// The merge arithmetic against a direct transcription of peft's formulas (design §1), in both storage
// layouts an ONNX may use for a Linear weight. The PEFT-produced end-to-end check is in pe-core.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLinearWeight } from '../../agent/inference/merge/merge-weights.js';

function seeded(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}

const out = 5;
const inp = 7;
const rank = 3;
const scale = 2 / 3;
const rnd = seeded(7);
const W = Float32Array.from({ length: out * inp }, rnd);
const A = Float32Array.from({ length: rank * inp }, rnd);
const B = Float32Array.from({ length: out * rank }, rnd);
const M = Float32Array.from({ length: out }, () => 1 + 0.1 * rnd());

/** (W + s·B·A) and, with m, (m / ‖row‖) · row — written as plainly as the formulas read. */
function reference(magnitude?: Float32Array): number[][] {
  const rows = [...Array(out)].map((_, o) =>
    [...Array(inp)].map((_, i) => W[o * inp + i]! + scale * [...Array(rank)].reduce((acc, _, k) => acc + B[o * rank + k]! * A[k * inp + i]!, 0)),
  );
  if (!magnitude) return rows;
  return rows.map((row, o) => {
    const norm = Math.hypot(...row);
    return row.map((v) => (magnitude[o]! / norm) * v);
  });
}

for (const dora of [false, true]) {
  test(`${dora ? 'DoRA' : 'LoRA'} merge equals the formula, in (out, in) and transposed (in, out) storage`, () => {
    const expected = reference(dora ? M : undefined);
    const factors = { a: A, b: B, rank, scale, ...(dora ? { magnitude: M } : {}) };
    const outIn = W.slice();
    mergeLinearWeight(outIn, 'out-in', out, inp, factors);
    const inOut = new Float32Array(out * inp);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) inOut[i * out + o] = W[o * inp + i]!;
    mergeLinearWeight(inOut, 'in-out', out, inp, factors);
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inp; i++) {
        assert.ok(Math.abs(outIn[o * inp + i]! - expected[o]![i]!) < 1e-6, `out-in [${o}, ${i}]`);
        assert.ok(Math.abs(inOut[i * out + o]! - expected[o]![i]!) < 1e-6, `in-out [${o}, ${i}]`);
      }
    }
    assert.ok(Math.abs(outIn[0]! - W[0]!) > 1e-3, 'the adapter changed the weight');
  });
}

test('mismatched sizes are refused, not merged into garbage', () => {
  assert.throws(() => mergeLinearWeight(W.slice(), 'out-in', out, inp, { a: A, b: B, rank: 2, scale }), /sizes do not agree/);
});
