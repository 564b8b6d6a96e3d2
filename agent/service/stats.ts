// Per-stage latency and throughput, for the stats topic, the exit summary and benchmarks.
import { CpuMeter } from './cpu-meter.js';

const WINDOW = 2048;

export class StageTimer {
  private readonly samples: number[] = [];
  private next = 0;
  count = 0;
  totalMs = 0;

  add(ms: number): void {
    this.count++;
    this.totalMs += ms;
    if (this.samples.length < WINDOW) this.samples.push(ms);
    else this.samples[this.next++ % WINDOW] = ms;
  }

  quantile(q: number): number {
    if (!this.samples.length) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  }

  summary() {
    const r = (v: number) => Math.round(v * 100) / 100;
    return { n: this.count, meanMs: r(this.count ? this.totalMs / this.count : 0), p50Ms: r(this.quantile(0.5)), p99Ms: r(this.quantile(0.99)) };
  }

  /** The samples added since `count` was `from` (at most the window's last 2048), oldest first. */
  samplesSince(from: number): number[] {
    const k = Math.min(this.count - from, this.samples.length);
    if (k <= 0) return [];
    if (this.samples.length < WINDOW) return this.samples.slice(-k);
    const ordered = [...this.samples.slice(this.next % WINDOW), ...this.samples.slice(0, this.next % WINDOW)];
    return ordered.slice(-k);
  }
}

export const STAGES = ['capture', 'motion', 'detect', 'track', 'classify', 'publish'] as const;
export type Stage = (typeof STAGES)[number];

/** One value per stage, keyed by stage in its type too (Object.fromEntries alone gives any string). */
export function perStage<T>(value: (s: Stage) => T): Record<Stage, T> {
  return Object.fromEntries(STAGES.map((s) => [s, value(s)])) as Record<Stage, T>;
}

export class PipelineStats {
  readonly stages = perStage(() => new StageTimer());
  /** Media-clock ms from a track's confirmation to its "entered" event. */
  readonly enterLatency = new StageTimer();
  /** Wall-clock ms from the arrival of the confirming frame to the "entered" event. */
  readonly enterLatencyWall = new StageTimer();
  readonly startedAt = Date.now();
  /** The agent's CPU share between two stats messages. */
  private readonly cpu = new CpuMeter();
  frames = 0;
  dropped = 0;
  faces = 0;
  classifierCalls = 0;
  classifiedFaces = 0;
  classifyFailures = 0;
  detectFailures = 0;
  /** Detection passes on the whole frame, and on regions of it only (motion gating, issue 22). */
  fullPasses = 0;
  regionPasses = 0;
  /** Frames handed over whole, only at detection size, and of those fetched whole afterwards. */
  readonly capture = { wholeFrames: 0, smallFrames: 0, fetchedWhole: 0 };
  events = 0;

  snapshot<E extends object>(extra: E = {} as E) {
    const elapsedS = (Date.now() - this.startedAt) / 1000;
    return {
      uptimeS: Math.round(elapsedS),
      fps: Math.round((this.frames / Math.max(elapsedS, 1e-3)) * 100) / 100,
      cpuPercent: this.cpu.sinceLast(),
      frames: this.frames,
      droppedFrames: this.dropped,
      faces: this.faces,
      classifierCalls: this.classifierCalls,
      classifiedFaces: this.classifiedFaces,
      classifyFailures: this.classifyFailures,
      detectFailures: this.detectFailures,
      detect: { fullPasses: this.fullPasses, regionPasses: this.regionPasses },
      capture: { ...this.capture },
      events: this.events,
      stages: perStage((s) => this.stages[s].summary()),
      enterLatency: this.enterLatency.summary(),
      ...memoryFigures(),
      ...extra,
    };
  }
}

/** RSS, and of it the main isolate's JS heap and the memory outside it (buffers): a growing heap is a JS leak, growth elsewhere is native (allocator, onnxruntime, workers). */
function memoryFigures(): { rssMB: number; heapUsedMB: number; externalMB: number } {
  const m = process.memoryUsage();
  const mb = (b: number) => Math.round(b / 1048576);
  return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external) };
}
