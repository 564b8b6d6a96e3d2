// percept bench: the real pipeline on the reference clip (or --source), measured end to end and per
// stage, plus a classifier micro-benchmark against raw onnxruntime on the same tensors. Prints figures;
// --json writes them, --report writes Markdown with an SVG plot, --duration turns it into a soak run.
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaults, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadOpenCV } from '../capture/opencv.js';
import { OpenCvSource } from '../capture/opencv-source.js';
import { requireFullPixels } from '../capture/frame.js';
import { SsdDetector } from '../detect/ssd-detector.js';
import { OnnxClassifier } from '../classify/onnx-classifier.js';
import { DEFAULT_MODELS } from '../inference/default-models.js';
import { inputSize, loadManifest } from '../inference/manifest.js';
import { faceCrop, writeInput } from '../inference/preprocess.js';
import { Agent } from '../service/agent.js';
import { createLogger } from '../lib/logging.js';
import { perStage, STAGES } from '../service/stats.js';
import { ensureDemoClip } from './demo.js';
import { compareHuman, type HumanResult } from './bench-human.js';
import { benchDetectors } from './bench-detectors.js';
import { benchPrecisions } from './bench-precisions.js';
import { chooseDetectorDir } from '../detect/open-detector.js';

export interface BenchArgs {
  source?: string;
  json?: string;
  report?: string;
  duration?: number;
  compare?: string;
  model?: string;
}

export interface TimelinePoint {
  t: number;
  fps: number;
  stages: Record<string, number>;
}

const mb = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;

/** RSS growth from the first sample to the last, in %; 0 with fewer than two. */
function growthPct(series: { rssMB: number }[]): number {
  const [first] = series;
  const last = series.at(-1);
  return first && last && series.length > 1 ? Math.round(((last.rssMB - first.rssMB) / first.rssMB) * 1000) / 10 : 0;
}

function progress(label: string, fraction: number, extra: string): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const done = Math.round(Math.min(1, fraction) * width);
  process.stderr.write(`\r${label} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${Math.round(fraction * 100)}% ${extra}   `);
}

/** Classifier ms/face at batch 1/4/8, and the agent's classify call against raw session.run on the same tensors. */
async function classifierBench(config: Config, clip: string) {
  const cv = await loadOpenCV();
  const session = { providers: config.inference.providers, intraOpThreads: config.inference.threads, verifySha256: false };
  const detector = await SsdDetector.open(cv, DEFAULT_MODELS.detector, config.detector, session);
  const dirs = config.classifier.models.length ? config.classifier.models : [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression];
  const classifier = await OnnxClassifier.open(cv, dirs, config.classifier.cropMargin, session);
  // A frame with a face, for real crops.
  const src = new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });
  await src.open();
  let frame = null;
  let box = null;
  for await (const f of src.frames()) {
    const d = await detector.detect(f);
    if (d.length && f.index > 20) {
      frame = f;
      box = d[0]!.box;
      break;
    }
  }
  await src.close();
  await detector.close();
  if (!frame || !box) throw new Error(`no face found in ${clip} for the classifier benchmark`);
  const fullMat = await requireFullPixels(frame);
  const raw = await Promise.all(
    dirs.map(async (dir) => {
      const loaded = loadManifest(dir);
      const s = await ort.InferenceSession.create(loaded.modelPath, {
        executionProviders: config.inference.providers,
        intraOpNumThreads: config.inference.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      return { loaded, s };
    }),
  );
  const out: { batch: number; msPerFace: number; rawMsPerFace: number; overhead: number }[] = [];
  const reps = 30;
  for (const batch of [1, 4, 8]) {
    const boxes = Array.from({ length: batch }, () => box!);
    await classifier.classify(frame, boxes); // warm-up
    let agentMs = 0;
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      await classifier.classify(frame, boxes);
      agentMs += performance.now() - t;
    }
    // Raw: the same tensors, sessions with the same options, run one after the other on this thread.
    const feeds = raw.map(({ loaded, s }) => {
      const m = loaded.manifest;
      const { width, height } = inputSize(m);
      const data = new Float32Array(batch * 3 * width * height);
      boxes.forEach((b, i) => writeInput(cv, fullMat, faceCrop(b, m.input.cropMargin ?? config.classifier.cropMargin), m, data, i));
      return { s, feed: { [m.input.name]: new ort.Tensor('float32', data, [batch, 3, height, width]) } };
    });
    for (const { s, feed } of feeds) await s.run(feed);
    let rawMs = 0;
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      for (const { s, feed } of feeds) await s.run(feed);
      rawMs += performance.now() - t;
    }
    const r2 = (v: number) => Math.round(v * 100) / 100;
    out.push({ batch, msPerFace: r2(agentMs / reps / batch), rawMsPerFace: r2(rawMs / reps / batch), overhead: r2(agentMs / rawMs) });
  }
  await classifier.close();
  await Promise.all(raw.map((r) => r.s.release()));
  return out;
}

export async function runBench(a: BenchArgs) {
  const clip = a.source ?? (await ensureDemoClip());
  const soak = (a.duration ?? 0) > 0;
  const config = validateConfig(
    {
      ...defaults(),
      source: { uri: clip, loop: soak },
      state: { dir: join(process.env.TMPDIR ?? '/tmp', `percept-bench-${process.pid}`) },
      device: { id: 'bench' },
      mqtt: { embeddedPort: 0 },
      log: { level: 'warn' },
      ...(a.model ? { classifier: { models: [a.model] } } : {}),
    },
    'bench',
  );
  const rssStart = mb();
  const startedAt = new Date().toISOString();
  const log = createLogger(config.log);
  // Every frame is read and processed as fast as the machine allows: frames/s is throughput.
  const agent = new Agent({ config, log, exitOnEof: !soak });
  await agent.start();
  const timeline: TimelinePoint[] = [];
  const rssSeries: { t: number; rssMB: number }[] = [];
  const t0 = performance.now();
  let lastFrames = 0;
  let lastTotals = perStage(() => ({ n: 0, ms: 0 }));
  const sampler = setInterval(() => {
    const t = (performance.now() - t0) / 1000;
    const st = agent.stats;
    const stages: Record<string, number> = {};
    for (const s of STAGES) {
      const n = st.stages[s].count - lastTotals[s].n;
      stages[s] = n ? Math.round(((st.stages[s].totalMs - lastTotals[s].ms) / n) * 100) / 100 : 0;
    }
    lastTotals = perStage((s) => ({ n: st.stages[s].count, ms: st.stages[s].totalMs }));
    timeline.push({ t: Math.round(t * 10) / 10, fps: st.frames - lastFrames, stages });
    lastFrames = st.frames;
    if (soak && Math.round(t) % 10 === 0) rssSeries.push({ t: Math.round(t), rssMB: mb() });
    progress(soak ? 'soak' : 'bench', soak ? t / a.duration! : st.frames / 140, `${st.frames} frames`);
  }, 1000);
  let stopTimer: NodeJS.Timeout | null = null;
  if (soak) stopTimer = setTimeout(() => agent.requestStop(), a.duration! * 1000);
  await agent.run();
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (stopTimer) clearTimeout(stopTimer);
  const snapshot = agent.statsSnapshot();
  await agent.shutdown('shutdown');
  if (process.stderr.isTTY) process.stderr.write('\n');
  const classifier = await classifierBench(config, clip);
  const detectors = await benchDetectors(clip, config);
  // --model: that model in each precision exported beside it (fp32, -fp16, -int8), side by side.
  const precisions = a.model ? await benchPrecisions(a.model, config) : null;
  const rssEnd = mb();
  let human: HumanResult | null = null;
  if (a.compare === 'human') human = await compareHuman(clip, snapshot.frames / wallS);
  const visits = snapshot.visits;
  const result = {
    startedAt,
    source: clip,
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    models: {
      classifier: config.classifier.models.length ? config.classifier.models : 'face-api age-gender + face-expression',
      detector: basename(chooseDetectorDir(config.detector.model).dir),
    },
    frames: snapshot.frames,
    wallS: Math.round(wallS * 100) / 100,
    fps: Math.round((snapshot.frames / wallS) * 100) / 100,
    stages: perStage((s) => {
      const x = snapshot.stages[s];
      return { ...x, fps: x.meanMs > 0 ? Math.round((1000 / x.meanMs) * 10) / 10 : null };
    }),
    enterLatencyMs: snapshot.enterLatency,
    enterLatencyWallMs: agent.stats.enterLatencyWall.summary(),
    classifier,
    detectors,
    precisions,
    agentOverhead: classifier.find((c) => c.batch === 1)!.overhead,
    visits,
    classifierCallsPerPerson: visits.left ? Math.round((snapshot.classifiedFaces / Math.max(1, visits.entered)) * 100) / 100 : 0,
    rssMB: { start: rssStart, end: rssEnd, growthPct: Math.round(((rssEnd - rssStart) / rssStart) * 1000) / 10 },
    soak: soak
      ? {
          durationS: a.duration,
          rss: rssSeries,
          growthPct: growthPct(rssSeries),
        }
      : null,
    human,
    timeline,
  };
  return result;
}

export type BenchResult = Awaited<ReturnType<typeof runBench>>;
