// Prints how far int8 strays from fp32 (issue 23, item 2):
//   node dist/scripts/quant-parity.js [--pe DIR]
// on the converted face-api nets (real weights), quantized as export.py --int8 quantizes PE (MatMul/Gemm)
// and, since those nets are convolutional and have only their heads in Gemm, with Conv in int8 as well;
// with --pe, also a PE export's int8 copy (DIR-int8, from export.py --int8) on its parity fixture.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOpenCV } from '../agent/capture/opencv.js';
import { softmax } from '../agent/classify/outputs.js';
import { compareOnFaces, formatParity, parityFaces, quantizeDir, REAL_WEIGHT_NETS } from '../test/helpers/quant-parity.js';
import { logitsOnFixture } from '../test/helpers/pe-core.js';

const RECIPES: { name: string; ops: string[]; perChannel: boolean }[] = [
  { name: 'MatMul/Gemm', ops: ['MatMul', 'Gemm'], perChannel: false },
  { name: 'MatMul/Gemm per channel', ops: ['MatMul', 'Gemm'], perChannel: true },
  { name: 'MatMul/Gemm+Conv', ops: ['MatMul', 'Gemm', 'Conv'], perChannel: false },
  { name: 'MatMul/Gemm+Conv per ch.', ops: ['MatMul', 'Gemm', 'Conv'], perChannel: true },
];

/** Top-1 agreement and largest probability difference of DIR-int8 against DIR on DIR's parity fixture. */
async function peFixture(dir: string): Promise<string[]> {
  const { outputs, expected, dims } = await logitsOnFixture(`${dir}-int8`, dir);
  return Object.keys(expected).map((name) => {
    const [batch, width] = dims[name]!;
    let same = 0;
    let maxDp = 0;
    for (let b = 0; b < batch!; b++) {
      const p = softmax(expected[name]!.subarray(b * width!, (b + 1) * width!));
      const q = softmax(outputs[name]!.subarray(b * width!, (b + 1) * width!));
      if (p.indexOf(Math.max(...p)) === q.indexOf(Math.max(...q))) same++;
      p.forEach((v, i) => (maxDp = Math.max(maxDp, Math.abs(v - q[i]!))));
    }
    return `${'PE fixture'.padEnd(16)} ${'MatMul/Gemm'.padEnd(24)} ${name.padEnd(14)} n ${String(batch).padStart(4)}  top-1 agreement ${((100 * same) / batch!).toFixed(1).padStart(5)} %  max |Δp| ${maxDp.toFixed(4)}`;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pe: { type: 'string' } } });
  const work = mkdtempSync(join(tmpdir(), 'percept-quant-parity-'));
  try {
    const faces = await parityFaces(await loadOpenCV());
    process.stdout.write(`int8 vs fp32: ${faces.length} face crops from the face-api parity photos\n`);
    for (const [net, dir] of Object.entries(REAL_WEIGHT_NETS)) {
      for (const r of RECIPES) {
        const out = join(work, `${net}-${r.ops.length}-${r.perChannel}`);
        quantizeDir(dir, out, r.ops, r.perChannel);
        process.stdout.write(`${formatParity(net, r.name, await compareOnFaces(dir, out, faces)).join('\n')}\n`);
      }
    }
    if (values.pe) process.stdout.write(`${(await peFixture(values.pe)).join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
