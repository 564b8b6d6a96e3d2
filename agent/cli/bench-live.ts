// percept bench --live: the agent as a user runs it — a clip played at its own frame rate as a camera
// would send it (the file source's real-time mode, frames dropped when the pipeline is busy, exactly as
// `percept run` plays a file), the whole pipeline with the real models in the default configuration and
// the embedded broker. After a warm-up it measures the agent's CPU share (all its processes: this one
// with every thread, and the capture process), frames/s processed, detections/s, frame → entered latency,
// and beside them the decode-only floor of the same clip (the capture process reading it in real time,
// nothing else). By default an empty scene and a busy one (made into .cache/bench/ when missing).
import { existsSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deepMerge, defaults, envOverrides, validateConfig } from '../config/load.js';
import { loadOpenCV } from '../capture/opencv.js';
import { OpenCvSource } from '../capture/opencv-source.js';
import { makeBenchClip, BENCH_CLIP, BENCH_SECONDS, type BenchScene } from '../capture/bench-clips.js';
import { PACKAGE_ROOT } from '../inference/default-models.js';
import { Agent } from '../service/agent.js';
import { captureCpuMs, cpuPercent, cpuSample } from '../service/cpu-meter.js';
import { createLogger } from '../lib/logging.js';
import type { EventPayload } from '../publish/payloads.js';

export interface LiveArgs {
  /** One clip instead of the two scenes. */
  clip?: string;
  /** Measured seconds (default 30). */
  seconds?: number;
  /** Warm-up seconds before measuring (default 15). */
  warmup?: number;
}

export const BENCH_CLIP_DIR = join(PACKAGE_ROOT, '.cache/bench');
const OPEN_TIMEOUT_MS = 60_000;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** The scene's clip in .cache/bench/, made the first time. */
export async function ensureBenchClip(scene: BenchScene): Promise<string> {
  const path = join(BENCH_CLIP_DIR, `live-${scene}.mp4`);
  if (!existsSync(path)) {
    process.stderr.write(
      `making the ${scene}-scene clip ${path} (${BENCH_CLIP.width}x${BENCH_CLIP.height}, ${BENCH_CLIP.fps} fps, ${BENCH_SECONDS[scene]} s, H.264)…\n`,
    );
    makeBenchClip(await loadOpenCV(), scene, path);
  }
  return path;
}

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
};

/** The agent playing the clip as a camera: CPU, frames/s and latency over `seconds` after `warmup`. */
async function measureAgent(clip: string, warmupS: number, seconds: number) {
  // PERCEPT_* variables apply as they do to `percept run` (e.g. PERCEPT_MOTION_ENABLED=false for the
  // full-frame figures beside the motion-gated ones); the bench's own settings below win.
  const config = validateConfig(
    {
      ...(deepMerge(defaults(), envOverrides(process.env)) as object),
      // A loaded machine can take more than the default 15 s to start a capture process: the bench
      // measures CPU, it does not test the open deadline.
      source: { uri: clip, loop: true, openTimeoutMs: OPEN_TIMEOUT_MS },
      state: { dir: join(process.env.TMPDIR ?? tmpdir(), `percept-bench-live-${process.pid}`) },
      device: { id: 'bench-live' },
      mqtt: { embeddedPort: 0 },
      log: { level: 'warn' },
    },
    'bench --live',
  );
  // exitOnEof off: the file is played in real time and frames are dropped when busy, as `percept run` does.
  // Frame → entered as the issue measures it: from the first frame the face was detected in (firstSeen,
  // the frame's time — wall clock for a clip played in real time) to when the event was made (ts), so
  // it includes visit.minDwellMs, the wait for evidence and the processing lag.
  let measuring = false;
  const fromFirstSight: number[] = [];
  const onEvent = (p: EventPayload) => {
    if (measuring && p.type === 'entered') fromFirstSight.push(Date.parse(p.ts) - Date.parse(p.firstSeen));
  };
  const agent = new Agent({ config, log: createLogger(config.log), exitOnEof: false, onEvent });
  await agent.start();
  const running = agent.run();
  try {
    await sleep(warmupS * 1000);
    measuring = true;
    const st = agent.stats;
    const from = {
      cpu: cpuSample(),
      capture: captureCpuMs(),
      frames: st.frames,
      dropped: st.dropped,
      detect: st.stages.detect.count,
      entered: st.enterLatencyWall.count,
    };
    await sleep(seconds * 1000);
    const to = { cpu: cpuSample(), capture: captureCpuMs(), frames: st.frames, dropped: st.dropped, detect: st.stages.detect.count };
    const wallS = (to.cpu.wallMs - from.cpu.wallMs) / 1000;
    const latencies = st.enterLatencyWall.samplesSince(from.entered);
    return {
      cpuPercent: cpuPercent(from.cpu, to.cpu),
      captureProcessPercent: r1(((to.capture - from.capture) / 1000 / wallS) * 100),
      framesPerS: r1((to.frames - from.frames) / wallS),
      droppedPerS: r1((to.dropped - from.dropped) / wallS),
      detectionsPerS: r1((to.detect - from.detect) / wallS),
      enterLatencyWallMs: { n: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
      enteredFromFirstSightMs: {
        n: fromFirstSight.length,
        p50: quantile(fromFirstSight, 0.5),
        p99: quantile(fromFirstSight, 0.99),
        minDwellMs: config.visit.minDwellMs,
      },
    };
  } finally {
    agent.requestStop();
    await running;
    await agent.shutdown('shutdown');
  }
}

/**
 * The decode-only floor: the capture process reading the clip at its own rate and handing each frame to
 * this process, which drops it — as the detection-size copy of the default config, the least the agent
 * ever takes of a frame (whole frames cost the capture process about twice as much at 720p). Its own CPU,
 * and with the hand-over to the main thread counted.
 */
async function measureDecodeFloor(clip: string, warmupS: number, seconds: number) {
  const src = new OpenCvSource(await loadOpenCV(), clip, { loop: true, realtime: true, imageIntervalMs: 0, openTimeoutMs: OPEN_TIMEOUT_MS });
  const { inputWidth, inputHeight } = defaults().detector;
  src.need({ full: false, fit: { maxWidth: inputWidth, maxHeight: inputHeight } });
  await src.open();
  let frames = 0;
  const reading = (async () => {
    for await (const f of src.frames()) {
      void f;
      frames++;
    }
  })();
  try {
    await sleep(warmupS * 1000);
    const from = { cpu: cpuSample(), capture: captureCpuMs(), frames };
    await sleep(seconds * 1000);
    const to = { cpu: cpuSample(), capture: captureCpuMs(), frames };
    const wallS = (to.cpu.wallMs - from.cpu.wallMs) / 1000;
    return {
      captureProcessPercent: r1(((to.capture - from.capture) / 1000 / wallS) * 100),
      withHandOverPercent: cpuPercent(from.cpu, to.cpu),
      framesPerS: r1((to.frames - from.frames) / wallS),
    };
  } finally {
    await src.close();
    await reading;
  }
}

export async function runBenchLive(a: LiveArgs) {
  const seconds = a.seconds ?? 30;
  const warmupS = a.warmup ?? 15;
  const clips: { scene: string; clip: string }[] = a.clip
    ? [{ scene: basename(a.clip), clip: a.clip }]
    : [
        { scene: 'empty', clip: await ensureBenchClip('empty') },
        { scene: 'busy', clip: await ensureBenchClip('busy') },
      ];
  const scenes = [];
  for (const { scene, clip } of clips) {
    if (!existsSync(clip)) throw new Error(`bench --live: no clip ${clip}`);
    process.stderr.write(`bench --live: ${scene}: the agent (${warmupS} s warm-up, ${seconds} s measured)…\n`);
    const agent = await measureAgent(clip, warmupS, seconds);
    process.stderr.write(`bench --live: ${scene}: decode floor…\n`);
    // The floor needs no model warm-up: a few seconds for the capture process to start and settle.
    const decodeFloor = await measureDecodeFloor(clip, Math.min(warmupS, 3), seconds);
    scenes.push({ scene, clip, ...agent, decodeFloor });
  }
  return {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverage1m: r1(loadavg()[0]!) },
    warmupS,
    seconds,
    cpuUnit: 'percent of one core (2 cores fully busy = 200)',
    scenes,
  };
}

export type BenchLiveResult = Awaited<ReturnType<typeof runBenchLive>>;

export function benchLiveLines(r: BenchLiveResult): string[] {
  const head = [
    'scene',
    'agent CPU %',
    'capture proc %',
    'frames/s',
    'dropped/s',
    'detect/s',
    'entered p50/p99 ms (n)',
    '1st sight→entered p50/p99 (n)',
    'decode floor % (+hand-over)',
    'floor frames/s',
  ];
  const rows = r.scenes.map((s) => [
    s.scene,
    String(s.cpuPercent),
    String(s.captureProcessPercent),
    String(s.framesPerS),
    String(s.droppedPerS),
    String(s.detectionsPerS),
    s.enterLatencyWallMs.n ? `${s.enterLatencyWallMs.p50}/${s.enterLatencyWallMs.p99} (${s.enterLatencyWallMs.n})` : '— (0)',
    s.enteredFromFirstSightMs.n ? `${s.enteredFromFirstSightMs.p50}/${s.enteredFromFirstSightMs.p99} (${s.enteredFromFirstSightMs.n})` : '— (0)',
    `${s.decodeFloor.captureProcessPercent} (${s.decodeFloor.withHandOverPercent})`,
    String(s.decodeFloor.framesPerS),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [
    `percept bench --live — ${r.warmupS} s warm-up, ${r.seconds} s measured; ${r.machine.cpus} cores, load average ${r.machine.loadAverage1m}, ${r.machine.node}`,
    `  CPU in percent of ONE core (${r.machine.cpus} cores fully busy = ${r.machine.cpus * 100}); the agent: all its processes`,
    `  entered: from the frame that confirmed the visit; 1st sight→entered: from the first frame the face was detected in (includes visit.minDwellMs ${r.scenes[0]?.enteredFromFirstSightMs.minDwellMs ?? '?'} ms)`,
    line(head),
    ...rows.map(line),
  ];
}
