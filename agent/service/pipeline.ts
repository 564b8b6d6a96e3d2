// The data path: frames → faces → tracks → visits, with classification running beside it. Detection is
// awaited per frame (or every detector.intervalMs, tracks coasting between); classification is not: at
// most one classifier call is in flight, requests wait in a bounded queue, a per-second budget caps the
// faces classified, and frames keep flowing while it runs — a slow classifier never stalls the rest.
import type { CV } from '../capture/opencv.js';
import type { Frame, FrameSource } from '../capture/frame.js';
import { LatestFrame } from '../capture/latest-frame.js';
import type { Classifier } from '../classify/classifier.js';
import type { FaceDetector } from '../detect/detector.js';
import type { Tracker } from '../track/tracker.js';
import type { AudiencePerson, Visit, VisitBook, VisitEvent } from '../track/visits.js';
import type { ClassificationQueue } from '../track/classify-queue.js';
import type { FacesPerSecondLimit } from '../track/faces-per-second.js';
import { faceQuality, sharpness, type QualityOptions } from '../track/quality.js';
import type { Logger } from '../lib/logging.js';
import type { PipelineStats } from './stats.js';

export interface PipelineDeps {
  cv: CV;
  source: FrameSource;
  detector: FaceDetector;
  classifier: Classifier;
  tracker: Tracker;
  visits: VisitBook;
  queue: ClassificationQueue<Visit>;
  budget: FacesPerSecondLimit;
  quality: QualityOptions;
  stats: PipelineStats;
  log: Logger;
  /** Read on every frame (hot-reloadable). */
  settings: { readonly maxBatch: number; readonly detectIntervalMs: number };
  /** Read every frame of the source (no "latest frame wins") and end open visits at its end. */
  everyFrame: boolean;
  emit: (event: VisitEvent, frame: { width: number; height: number }) => void;
  /** Called after every processed frame (and once at the end) with who is present: the watchdog's heartbeat too. */
  onFrame?: (frame: FrameDone) => void;
}

export interface FrameDone {
  /** Media clock of the frame. */
  ts: number;
  width: number;
  height: number;
  people: AudiencePerson[];
}

export class Pipeline {
  private stopping = false;
  private inflight: Promise<void> | null = null;
  private latest: LatestFrame | null = null;
  private frameSize = { width: 1, height: 1 };
  private clock = 0;
  private lastDetect = -Infinity;
  /** Arrival time (performance.now) of recent frames by their timestamp, for frame → entered latency. */
  private readonly arrivals = new Map<number, number>();

  constructor(private readonly d: PipelineDeps) {}

  /** Runs until the source ends or stop() is called; then ends every open visit. */
  async run(): Promise<void> {
    const { d } = this;
    const frames: AsyncIterable<Frame> = d.everyFrame ? d.source.frames() : (this.latest = new LatestFrame(d.source.frames()));
    let waitStart = performance.now();
    for await (const frame of frames) {
      if (this.stopping) break;
      d.stats.stages.capture.add(performance.now() - waitStart);
      await this.process(frame);
      if (this.latest) d.stats.dropped = this.latest.dropped;
      waitStart = performance.now();
    }
    if (this.latest?.error) d.log.error(`capture failed: ${this.latest.error.message}`);
    await this.inflight;
    this.emitAll(d.visits.endAll(this.clock, d.tracker));
    this.announce();
  }

  stop(): void {
    this.stopping = true;
  }

  private async process(frame: Frame): Promise<void> {
    const { d } = this;
    this.arrivals.set(frame.ts, performance.now());
    if (this.arrivals.size > 300) this.arrivals.delete(this.arrivals.keys().next().value!);
    this.frameSize = { width: frame.width, height: frame.height };
    this.clock = frame.ts;
    const interval = d.settings.detectIntervalMs;
    const detectNow = interval <= 0 || frame.ts - this.lastDetect >= interval;
    let t = performance.now();
    const detections = detectNow ? await d.detector.detect(frame) : null;
    if (detections) {
      this.lastDetect = frame.ts;
      d.stats.stages.detect.add(performance.now() - t);
      d.stats.faces += detections.length;
    }
    d.stats.frames++;

    t = performance.now();
    const update = detections ? d.tracker.update(detections, frame.ts) : d.tracker.coast(frame.ts);
    this.emitAll(d.visits.onTracks(update, frame.ts));
    for (const v of d.visits.visits.values()) {
      // Crops are cut on detection passes only: a coasting box is a prediction, not a face.
      d.visits.setQuality(v, detections ? this.quality(frame, v) : 0);
    }
    this.emitAll(d.visits.tick(frame.ts));
    d.stats.stages.track.add(performance.now() - t);
    this.announce();

    const q = d.queue;
    q.prune((v) => d.visits.isOpen(v));
    for (const v of d.visits.wanting(frame.ts)) q.offer(v);
    if (!this.inflight && detections) {
      const n = Math.min(d.settings.maxBatch, d.budget.available(frame.ts));
      const due = n > 0 ? q.take(n, (v) => d.visits.classifiable(v)) : [];
      if (due.length) {
        d.budget.spend(due.length);
        this.inflight = this.classify(frame, due).finally(() => { this.inflight = null; });
      }
    }
  }

  private announce(): void {
    this.d.onFrame?.({ ts: this.clock, ...this.frameSize, people: this.d.visits.present() });
  }

  private quality(frame: Frame, v: Visit): number {
    const { track } = v;
    if (!track.visible) return 0;
    // Size and edge first: sharpness costs a resize and a Laplacian, only worth it for a usable face.
    if (faceQuality(track.box, track.score, Infinity, frame, this.d.quality) === 0) return 0;
    return faceQuality(track.box, track.score, sharpness(this.d.cv, frame.mat, track.box), frame, this.d.quality);
  }

  private async classify(frame: Frame, due: Visit[]): Promise<void> {
    const { d } = this;
    d.visits.markPending(due, frame.ts);
    const qualities = due.map((v) => v.quality);
    const t = performance.now();
    try {
      const result = await d.classifier.classify(frame, due.map((v) => v.track.box));
      d.stats.stages.classify.add(performance.now() - t);
      d.stats.classifierCalls++;
      d.stats.classifiedFaces += due.length;
      due.forEach((v, i) => this.emitAll(d.visits.onClassified(v, result.faces[i] ?? null, qualities[i]!, this.clock)));
    } catch (err) {
      d.log.error(`classification failed: ${(err as Error).message}`);
      due.forEach((v) => d.visits.onClassified(v, null, 0, this.clock));
    }
  }

  private emitAll(events: VisitEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'entered' && ev.confirmedAt !== null) {
        this.d.stats.enterLatency.add(ev.ts - ev.confirmedAt);
        const arrived = this.arrivals.get(ev.confirmedAt);
        if (arrived !== undefined) this.d.stats.enterLatencyWall.add(performance.now() - arrived);
      }
      this.d.emit(ev, this.frameSize);
    }
  }
}
