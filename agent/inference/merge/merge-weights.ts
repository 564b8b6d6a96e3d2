// The merge arithmetic of peft (tuners/lora/layer.py, variants.py, dora.py; design §1), one weight at a time:
//   LoRA: W' = W + s·B·A
//   DoRA: W' = (m / ‖W + s·B·A‖) · (W + s·B·A), the norm taken per output row of the (out, in) weight.
// Each output row is accumulated in float64 and written back as float32. Indices are in range by the size check on entry.

export interface LoraFactors {
  /** (r, in), row-major. */
  a: Float32Array;
  /** (out, r), row-major. */
  b: Float32Array;
  rank: number;
  scale: number;
  /** DoRA only: (out,). */
  magnitude?: Float32Array;
}

/**
 * Merges in place. `weight` holds the Linear weight as the ONNX stores it: 'out-in' is PyTorch's (out, in);
 * 'in-out' is its transpose (what MatMul consumes), in which one output row is a strided column.
 */
export function mergeLinearWeight(weight: Float32Array, layout: 'out-in' | 'in-out', out: number, inp: number, f: LoraFactors): void {
  const { a, b, rank, scale, magnitude } = f;
  if (weight.length !== out * inp || a.length !== rank * inp || b.length !== out * rank) {
    throw new Error(`merge: sizes do not agree (weight ${weight.length}, [${out}, ${inp}], r=${rank})`);
  }
  if (magnitude && magnitude.length !== out) throw new Error(`merge: magnitude has ${magnitude.length} values for ${out} outputs`);
  const row = new Float64Array(inp);
  const rowStride = layout === 'out-in' ? inp : 1;
  const colStride = layout === 'out-in' ? 1 : out;
  for (let o = 0; o < out; o++) {
    const base = o * rowStride;
    for (let i = 0; i < inp; i++) row[i] = weight[base + i * colStride]!;
    for (let k = 0; k < rank; k++) {
      const coef = scale * b[o * rank + k]!;
      if (coef === 0) continue;
      const aRow = k * inp;
      for (let i = 0; i < inp; i++) row[i]! += coef * a[aRow + i]!;
    }
    let factor = 1;
    if (magnitude) {
      let sq = 0;
      for (const v of row) sq += v * v;
      factor = magnitude[o]! / Math.sqrt(sq);
    }
    for (let i = 0; i < inp; i++) weight[base + i * colStride] = row[i]! * factor;
  }
}
