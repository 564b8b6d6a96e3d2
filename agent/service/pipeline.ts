// The data path: frames → faces → tracks → visits, with classification running beside it. Detection is
// awaited per frame; classification is not: at most one classifier call is in flight, and frames keep
// flowing while it runs, so a slow classifier never stalls capture, detection or tracking.
import type { Frame, FrameSource } from '../capture/frame.js';
import { LatestFrame } from '../capture/latest-frame.js';
import type { Classifier } from '../classify/classifier.js';
import type { FaceDetector } from '../detect/detector.js';
import type { IouTracker } from '../track/tracker.js';
import type { Visit, VisitBook, VisitEvent } from '../track/visits.js';
import type { ClassificationQueue } from '../track/classify-queue.js';
import type { Logger } from './logging.js';
import type { PipelineStats } from './stats.js';

export interface PipelineDeps {
  source: FrameSource;
  detector: FaceDetector;
  classifier: Classifier;
  tracker: IouTracker;
  visits: VisitBook;
  stats: PipelineStats;
  log: Logger;
  maxBatch: number;
  queue: ClassificationQueue<Visit>;
  /** Read every frame of the source (no "latest frame wins") and end open visits at its end. */
  everyFrame: boolean;
  emit: (event: VisitEvent, frame: { width: number; height: number }) => void;
}

export class Pipeline {
  private stopping = false;
  private inflight: Promise<void> | null = null;
  private latest: LatestFrame | null = null;
  private frameSize = { width: 1, height: 1 };
  private clock = 0;

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
  }

  stop(): void {
    this.stopping = true;
  }

  private async process(frame: Frame): Promise<void> {
    const { d } = this;
    this.frameSize = { width: frame.width, height: frame.height };
    this.clock = frame.ts;
    let t = performance.now();
    const detections = await d.detector.detect(frame);
    d.stats.stages.detect.add(performance.now() - t);
    d.stats.frames++;
    d.stats.faces += detections.length;

    t = performance.now();
    const events = d.visits.onTracks(d.tracker.update(detections, frame.ts), frame.ts);
    d.stats.stages.track.add(performance.now() - t);
    this.emitAll(events);

    // Requests queue while the classifier is busy; it takes the best ones, cropped from the newest frame.
    const q = d.queue;
    q.prune((v) => d.visits.isOpen(v));
    for (const v of d.visits.wanting(frame.ts)) q.offer(v);
    if (!this.inflight) {
      const due = q.take(d.maxBatch, (v) => d.visits.classifiable(v, frame));
      if (due.length) this.inflight = this.classify(frame, due).finally(() => { this.inflight = null; });
    }
  }

  private async classify(frame: Frame, due: Visit[]): Promise<void> {
    const { d } = this;
    d.visits.markPending(due, frame.ts);
    const t = performance.now();
    try {
      const result = await d.classifier.classify(frame, due.map((v) => v.track.box));
      d.stats.stages.classify.add(performance.now() - t);
      d.stats.classifierCalls++;
      d.stats.classifiedFaces += due.length;
      due.forEach((v, i) => this.emitAll(d.visits.onClassified(v, result.faces[i] ?? null, this.clock)));
    } catch (err) {
      d.log.error(`classification failed: ${(err as Error).message}`);
      due.forEach((v) => d.visits.onClassified(v, null, this.clock));
    }
  }

  private emitAll(events: VisitEvent[]): void {
    for (const ev of events) this.d.emit(ev, this.frameSize);
  }
}
