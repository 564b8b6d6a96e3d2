// npm run build && node dist/scripts/soak-probe.js [--warm 8] [--max-batch 8]: the memory probe behind
// the batch warm-up (agent/inference/warmup-shapes.ts). Opens the default attribute and embedding nets
// as the agent does (one worker each, 2 intra-op threads) and feeds them zero batches: first batch 1
// only, then each larger size for the first time, then sizes at random; prints the process RSS after
// each phase. Run with the unit's environment (MALLOC_ARENA_MAX=2) on 2026-12-07 (load average ~28):
// without warm-up RSS grew 102 MiB after load, with --warm 8 it grew 51 MiB (the rest is the main thread's
// own input buffers, which grow with the batch too); the final level differed by run (±40 MiB), not by
// warm-up in any consistent way.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadManifest } from '../agent/inference/manifest.js';
import { WorkerSession } from '../agent/inference/worker-session.js';
import { DEFAULT_MODELS } from '../agent/inference/default-models.js';
import type { TensorData } from '../agent/inference/worker-protocol.js';

const { values: opt } = parseArgs({
  options: {
    warm: { type: 'string', default: '0' },
    'max-batch': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '10' },
  },
});
const maxBatch = Number(opt['max-batch']);
const rounds = Number(opt.rounds);
if (!(maxBatch >= 1) || !(rounds >= 1)) throw new Error('--max-batch and --rounds must be ≥ 1');

const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const options = { providers: ['cpu'], intraOpThreads: 2, verifySha256: false, timeoutMs: 120_000, warmBatches: Number(opt.warm) };
const t0 = performance.now();
const sessions: WorkerSession[] = [];
for (const dir of [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression, DEFAULT_MODELS.embedder])
  sessions.push(await WorkerSession.open(loadManifest(dir), options));
const openS = (performance.now() - t0) / 1000;

function zeros(s: WorkerSession, n: number): Record<string, TensorData> {
  const m = s.loaded.manifest;
  const dims = [n, ...m.input.shape.slice(1).map(Number)];
  return { [m.input.name]: { data: new Float32Array(dims.reduce((a, d) => a * d, 1)), dims } };
}
const perFaceMs: Record<number, number[]> = {};
async function call(n: number): Promise<void> {
  let ms = 0;
  for (const s of sessions) ms += (await s.run(zeros(s, n))).runMs;
  (perFaceMs[n] ??= []).push(ms / n);
}

const phases: { phase: string; rssMiB: number }[] = [{ phase: `opened (warm-up ${options.warmBatches}, ${openS.toFixed(1)} s)`, rssMiB: rssMiB() }];
const mark = (phase: string) => {
  phases.push({ phase, rssMiB: rssMiB() });
  process.stdout.write(`${phase}: RSS ${phases.at(-1)!.rssMiB.toFixed(1)} MiB\n`);
};
process.stdout.write(`${phases[0]!.phase}: RSS ${phases[0]!.rssMiB.toFixed(1)} MiB (MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 'unset'})\n`);
for (let n = 1; n <= maxBatch; n++) {
  for (let i = 0; i < rounds; i++) await call(n);
  mark(`batch ${n} first seen, ${rounds} calls`);
}
for (let k = 0; k < 3; k++) {
  for (let i = 0; i < rounds * 4; i++) await call(1 + Math.floor(Math.random() * maxBatch));
  mark(`random batches, ${rounds * 4} calls`);
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
process.stdout.write(
  `per-face ms (median, all three nets): ${Object.entries(perFaceMs)
    .map(([n, v]) => `${n}: ${median(v).toFixed(1)}`)
    .join(', ')}\n`,
);
process.stdout.write(`growth after load: ${(phases.at(-1)!.rssMiB - phases[0]!.rssMiB).toFixed(1)} MiB\n`);
for (const s of sessions) await s.close();
