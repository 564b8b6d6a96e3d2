// percept bench --model DIR: the attribute model in every precision found beside it (DIR, DIR-fp16 and
// DIR-int8, as export.py --fp16/--int8 write them), ms per face of raw session.run on one input. Rounds
// are interleaved so that load from elsewhere on the machine falls on every precision alike, and CPU time
// is given beside wall time for the same reason. For a PE model the large model's figures are estimated:
// its multiply-accumulates (counted from the architecture) × the ms per GMAC measured here.
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Config } from '../config/schema.js';
import { inputSize, loadManifest, precisionOf, type LoadedManifest, type Precision } from '../inference/manifest.js';

export interface PrecisionFigures {
  precision: Precision;
  name: string;
  /** Wall clock per face, median of the rounds, batch 1. */
  msPerFace: number;
  /** CPU time of the process per face (all onnxruntime threads, which do not spin here), median of the rounds. */
  cpuMsPerFace: number;
  /** fp32's ms per face over this one's: wall clock, and CPU time (steadier on a loaded machine). */
  speedup: number;
  cpuSpeedup: number;
  /** PE models: GMAC per face, and the CPU ms per GMAC that gives. */
  gmac?: number;
  cpuMsPerGmac?: number;
}

export interface PrecisionBench {
  figures: PrecisionFigures[];
  /** PE-Core-L CPU ms per face per precision: GMAC(L) × CPU ms/GMAC measured on this model. An estimate, not a measurement. */
  largeEstimate: { precision: Precision; cpuMsPerFace: number }[] | null;
  largeGmac: number;
  /** 1-minute load average when the rounds began and ended, and the cores: other work shows in the wall times. */
  load: { before: number; after: number; cores: number };
}

interface PeShape {
  width: number;
  depth: number;
  patch: number;
  size: number;
}

const PE_WIDTH_DEPTH: Record<string, [number, number]> = { tiny: [192, 12], small: [384, 12], base: [768, 12], large: [1024, 24] };
const PE_LARGE: PeShape = { width: 1024, depth: 24, patch: 14, size: 336 };

/** PE-Core's shape from a manifest name as export.py writes it (pe-core-tiny-patch16-384-…). */
export function peShape(name: string): PeShape | null {
  const m = /^pe-core-(tiny|small|base|large)-patch(\d+)-(\d+)/.exec(name);
  const dims = m && PE_WIDTH_DEPTH[m[1] ?? ''];
  if (!m || !dims) return null;
  const [width, depth] = dims;
  return { width, depth, patch: Number(m[2]), size: Number(m[3]) };
}

/**
 * Multiply-accumulates of one face through a PE-Core vision tower (timm Eva, MLP ×4, class token,
 * attention pooling): linear layers 12·w² per token per block, attention 2·n²·w per block, the patch
 * embedding, the pooling's key/value projection. Checked against torch's FLOP counter on the tiny model
 * (3.19 GMAC of linear + conv; the counter leaves out attention).
 */
export function peGmac(s: PeShape): number {
  const grid = (s.size / s.patch) ** 2;
  const n = grid + 1;
  const w = s.width;
  const linear = s.depth * n * 12 * w * w + n * 2 * w * w + 10 * w * w;
  const attention = s.depth * 2 * n * n * w + 2 * n * w;
  const patchEmbed = grid * 3 * s.patch * s.patch * w;
  return (linear + attention + patchEmbed) / 1e9;
}

/** DIR and its -fp16/-int8 siblings that exist (DIR may itself be one of them). */
export function precisionSiblings(dir: string): string[] {
  const base = dir.replace(/\/+$/, '').replace(/-(fp16|int8)$/, '');
  return [base, `${base}-fp16`, `${base}-int8`].filter((d) => existsSync(`${d}/model.json`));
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const r2 = (v: number) => Math.round(v * 100) / 100;

export async function benchPrecisions(dir: string, config: Config, rounds = 10): Promise<PrecisionBench> {
  const loadBefore = loadavg()[0]!;
  const models = await Promise.all(
    precisionSiblings(dir).map(async (d) => {
      const loaded: LoadedManifest = loadManifest(d);
      const session = await ort.InferenceSession.create(loaded.modelPath, {
        executionProviders: config.inference.providers,
        intraOpNumThreads: config.inference.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Spinning threads burn CPU while they wait: without it, CPU time is the work each precision does.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      return { loaded, session, wall: [] as number[], cpu: [] as number[] };
    }),
  );
  const [first] = models;
  if (!first) throw new Error(`${dir}: no model to bench`);
  try {
    const { width, height } = inputSize(first.loaded.manifest);
    const data = Float32Array.from({ length: 3 * width * height }, (_, i) => ((i * 7919) % 255) / 127.5 - 1);
    const feed = (m: LoadedManifest) => ({ [m.manifest.input.name]: new ort.Tensor('float32', data, [1, 3, height, width]) });
    for (const m of models) await m.session.run(feed(m.loaded)); // the first run builds the kernels
    for (let i = 0; i < rounds; i++) {
      for (const m of models) {
        const c = process.cpuUsage();
        const t = performance.now();
        await m.session.run(feed(m.loaded));
        m.wall.push(performance.now() - t);
        const used = process.cpuUsage(c);
        m.cpu.push((used.user + used.system) / 1000);
      }
    }
  } finally {
    await Promise.all(models.map((m) => m.session.release()));
  }
  const load = { before: r2(loadBefore), after: r2(loadavg()[0]!), cores: availableParallelism() };
  const fp32 = models.find((m) => precisionOf(m.loaded.manifest) === 'fp32');
  const shape = peShape(first.loaded.manifest.name);
  const gmac = shape ? peGmac(shape) : undefined;
  const figures = models.map((m): PrecisionFigures => {
    const ms = median(m.wall);
    const cpu = median(m.cpu);
    return {
      precision: precisionOf(m.loaded.manifest),
      name: m.loaded.manifest.name,
      msPerFace: r2(ms),
      cpuMsPerFace: r2(cpu),
      speedup: fp32 ? r2(median(fp32.wall) / ms) : NaN,
      cpuSpeedup: fp32 ? r2(median(fp32.cpu) / cpu) : NaN,
      ...(gmac ? { gmac: r2(gmac), cpuMsPerGmac: r2(cpu / gmac) } : {}),
    };
  });
  const largeGmac = peGmac(PE_LARGE);
  return {
    figures,
    largeEstimate: gmac ? figures.map((f) => ({ precision: f.precision, cpuMsPerFace: Math.round(largeGmac * f.cpuMsPerGmac!) })) : null,
    largeGmac: r2(largeGmac),
    load,
  };
}

export function precisionLines(b: PrecisionBench | null): string[] {
  if (!b) return [];
  return [
    '  precisions (batch 1, raw session.run, median of interleaved rounds; speed-up vs fp32 in wall / CPU time;',
    `    load average ${b.load.before} → ${b.load.after} on ${b.load.cores} cores: above the core count, trust the CPU time):`,
    ...b.figures.map(
      (f) =>
        `    ${f.precision.padEnd(5)} ${String(f.msPerFace).padStart(8)} ms/face  CPU ${String(f.cpuMsPerFace).padStart(8)} ms  ×${f.speedup} / ×${f.cpuSpeedup}` +
        (f.cpuMsPerGmac ? `  (${f.gmac} GMAC, ${f.cpuMsPerGmac} CPU ms/GMAC)` : '') +
        `  ${f.name}`,
    ),
    ...(b.largeEstimate
      ? [
          `  PE-Core-L (${b.largeGmac} GMAC) ESTIMATED as GMAC × the CPU ms/GMAC above, not measured: ` +
            b.largeEstimate.map((e) => `${e.precision} ~${e.cpuMsPerFace} CPU ms/face`).join(', '),
        ]
      : []),
  ];
}
