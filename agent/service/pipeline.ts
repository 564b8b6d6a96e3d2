// The data path: frames → faces → tracks → visits, with classification running beside it. A frame goes
// top to bottom through process(): detection (awaited: the whole frame, regions where motion is and where
// the last plan expects faces, or nothing — detect-step.ts), then one pass through the tracking side
// (track/tracking.ts: detections in, a plan out — events, faces to embed, faces to classify, where faces
// are expected next), then the plan is carried out. Classification is not awaited: at most one classifier
// call is in flight, requests wait in a bounded queue, a per-second budget caps the faces classified, and
// frames keep flowing while it runs — a slow classifier never stalls the rest.
import type { CV, Mat } from '../capture/opencv.js';
import { fullPixels, type Frame, type FrameSource } from '../capture/frame.js';
import { LatestFrame } from '../capture/latest-frame.js';
import type { Embedder } from '../classify/embedder.js';
import type { Classifier, FaceRegion } from '../classify/classifier.js';
import type { Box, FaceDetector } from '../detect/detector.js';
import type { Tracker } from '../track/tracker.js';
import type { AudienceGate } from '../track/audience-gate.js';
import type { Visit, VisitBook, VisitEvent } from '../track/visits.js';
import type { ClassificationQueue } from '../track/classify-queue.js';
import type { FacesPerSecondLimit } from '../track/faces-per-second.js';
import type { QualityOptions } from '../track/quality.js';
import { NO_PLAN, Tracking, type FaceJob, type Presence, type TrackPlan } from '../track/tracking.js';
import type { Logger } from '../lib/logging.js';
import type { PipelineStats } from './stats.js';
import type { FrameDone } from '../features/events.js';
import { DetectStep, type DetectSettings } from './detect-step.js';

/** A detection pass older than this (media clock) is not shown with a frame: its faces have moved on. */
const SHOW_PASS_MS = 1000;

export interface PipelineDeps {
  /** Face embeddings for re-identification; null: visits resume by position only. */
  embedder: Embedder | null;
  /** Faces embedded per second at most (a second FacesPerSecondLimit, e.g. 10/s). */
  embedBudget: FacesPerSecondLimit;
  cv: CV;
  source: FrameSource;
  detector: FaceDetector;
  classifier: Classifier;
  tracker: Tracker;
  gate: AudienceGate;
  visits: VisitBook;
  queue: ClassificationQueue<Visit>;
  budget: FacesPerSecondLimit;
  quality: QualityOptions;
  stats: PipelineStats;
  log: Logger;
  /** Read on every frame (hot-reloadable). */
  settings: { readonly maxBatch: number; readonly lookYawDeg: number; readonly lookPitchDeg: number };
  /** Motion gating, region detection and the pass interval (detect-step.ts detectSettings: live views of the config). */
  detectPlan: DetectSettings;
  /** Read every frame of the source (no "latest frame wins") and end open visits at its end. */
  everyFrame: boolean;
  emit: (event: VisitEvent, frame: { width: number; height: number }) => void;
  /** Called after every processed frame (and once at the end) with who is present: the watchdog's heartbeat too. */
  onFrame?: (frame: FrameDone) => void;
  /** Something shows every frame's full pixels (the preview is watched): the source sends them whole. */
  wantsPixels?: () => boolean;
}

export class Pipeline {
  private stopping = false;
  private inflight: Promise<void> | null = null;
  private embedding: Promise<void> | null = null;
  private readonly detectStep: DetectStep;
  /** Everything that decides about faces, tracks and visits: detections in, a plan out (track/tracking.ts). */
  private readonly tracking: Tracking;
  /** The last frame's plan: where the next detection pass looks for the faces being tracked. */
  private plan: TrackPlan = NO_PLAN;
  /** The detector's faces of the latest pass, before the audience gate: the preview shows found-but-not-counted faces. */
  private lastPass: { ts: number; boxes: Box[] } | null = null;
  private classifyingSince: number | null = null;
  private embeddingSince: number | null = null;
  private latest: LatestFrame | null = null;
  private frameSize = { width: 1, height: 1 };
  private clock = 0;
  /** Arrival time (performance.now) of recent frames by their timestamp, for frame → entered latency. */
  private readonly arrivals = new Map<number, number>();

  constructor(private readonly deps: PipelineDeps) {
    this.detectStep = new DetectStep(deps.cv, deps.detector, deps.detectPlan, deps.stats, deps.log);
    const { cv, tracker, gate, visits, queue, budget, embedBudget, quality, settings, log } = deps;
    this.tracking = new Tracking({ cv, tracker, gate, visits, queue, budget, embedBudget, quality, settings, log, appearance: deps.embedder !== null });
  }

  /** Runs until the source ends or stop() is called; then ends every open visit. */
  async run(): Promise<void> {
    const { deps } = this;
    const frames: AsyncIterable<Frame> = deps.everyFrame ? deps.source.frames() : (this.latest = new LatestFrame(deps.source.frames()));
    let waitStart = performance.now();
    let failed: Error | null = null;
    try {
      for await (const frame of frames) {
        if (this.stopping) break;
        deps.stats.stages.capture.add(performance.now() - waitStart);
        await this.process(frame);
        if (this.latest) deps.stats.dropped = this.latest.dropped;
        waitStart = performance.now();
      }
    } catch (err) {
      failed = err as Error;
    }
    failed ??= this.latest?.error ?? null;
    if (failed) deps.log.error(`capture failed: ${failed.message}`);
    await this.inflight;
    await this.embedding;
    const end = this.tracking.end(this.clock);
    this.emitAll(end.events);
    this.announce(end);
    // A capture failure is not an end of input: the caller exits non-zero, so a service manager restarts.
    if (failed && !this.stopping) throw failed;
  }

  stop(): void {
    this.stopping = true;
  }

  /** One frame, top to bottom: detect, hand the faces to the tracking side, act on its plan. */
  private async process(frame: Frame): Promise<void> {
    const { deps } = this;
    this.arrived(frame);
    // The whole frame, regions (motion, and where the last plan expects the tracked faces), or nothing.
    const detections = await this.detectStep.run(frame, this.plan.expected);
    deps.stats.frames++;
    if (detections) this.lastPass = { ts: frame.ts, boxes: detections.map((d) => d.box) };
    // Faces found on a detection-size frame: their crops (quality, embeddings, classification) need the
    // full-resolution pixels, fetched from the capture process by frame; an empty scene never needs them.
    const watched = deps.wantsPixels?.() ?? false;
    const sentWhole = frame.mat !== null;
    deps.stats.capture[sentWhole ? 'wholeFrames' : 'smallFrames']++;
    if (!sentWhole && (detections?.length || watched) && (await fullPixels(frame))) deps.stats.capture.fetchedWhole++;

    const t = performance.now();
    const contested = this.tracking.see(frame, detections);
    // Faces that motion cannot tell apart (a crossing) are embedded first, so appearance can veto.
    const embeddings = contested.length ? await this.embedContested(frame, contested) : [];
    const plan = (this.plan = this.tracking.plan(frame, embeddings, { classifying: this.inflight !== null, embedding: this.embedding !== null }));
    deps.stats.stages.track.add(performance.now() - t);

    this.needs(plan, watched);
    this.emitAll(plan.events);
    this.announce(plan, frame.mat ?? undefined);
    if (plan.embed) this.embed(frame, plan.embed);
    if (plan.classify) this.classify(frame, plan.classify);
  }

  /**
   * What the source sends next: whole frames while anybody is tracked (their crops need them on every
   * detection pass) or the preview is watched; otherwise only a copy the detector's size.
   */
  private needs(plan: TrackPlan, watched: boolean): void {
    this.deps.source.need?.({ full: watched || plan.expected.length > 0, fit: this.deps.detector.detectionFit?.() ?? null });
  }

  /** How long the oldest inference call in flight has been waiting, ms (0: none): the watchdog's measure of a stall. */
  oldestCallMs(now = performance.now()): number {
    const since = [this.detectStep.since, this.classifyingSince, this.embeddingSince].filter((x): x is number => x !== null);
    return since.length ? now - Math.min(...since) : 0;
  }

  private arrived(frame: Frame): void {
    this.arrivals.set(frame.ts, performance.now());
    if (this.arrivals.size > 300) this.arrivals.delete(this.arrivals.keys().next().value!);
    this.frameSize = { width: frame.width, height: frame.height };
    this.clock = frame.ts;
  }

  /** Without embeddings (a failed or timed-out call) motion alone decides, as with no embedder. */
  private embedContested(frame: Frame, faces: FaceRegion[]): Promise<Float32Array[]> {
    return this.deps.embedder!.embed(frame, faces).catch((err: unknown) => {
      this.deps.log.error(`embedding failed: ${(err as Error).message}`);
      return [];
    });
  }

  /** At most one embedder call in flight, on the frame it was asked for; results come back as events. */
  private embed(frame: Frame, job: FaceJob): void {
    const { deps } = this;
    this.embeddingSince = performance.now();
    this.embedding = deps
      .embedder!.embed(frame, job.faces)
      .then((embeddings) => this.emitAll(this.tracking.embedded(job, embeddings, this.clock)))
      .catch((err: unknown) => {
        deps.log.error(`embedding failed: ${(err as Error).message}`);
        this.emitAll(this.tracking.embedded(job, null, this.clock));
      })
      .finally(() => {
        this.embedding = null;
        this.embeddingSince = null;
      });
  }

  /** At most one classifier call in flight; frames keep flowing while it runs. */
  private classify(frame: Frame, job: FaceJob): void {
    this.classifyingSince = performance.now();
    this.inflight = this.classifyNow(frame, job).finally(() => {
      this.inflight = null;
      this.classifyingSince = null;
    });
  }

  private announce(now: Presence, mat?: Mat): void {
    const pass = this.lastPass && this.clock - this.lastPass.ts <= SHOW_PASS_MS ? { detections: this.lastPass.boxes } : {};
    this.deps.onFrame?.({ ts: this.clock, ...this.frameSize, people: now.people, farFaces: now.farFaces, ...pass, ...(mat ? { mat } : {}) });
  }

  private async classifyNow(frame: Frame, job: FaceJob): Promise<void> {
    const { deps } = this;
    const t = performance.now();
    try {
      const result = await deps.classifier.classify(frame, job.faces);
      deps.stats.stages.classify.add(performance.now() - t);
      deps.stats.classifierCalls++;
      deps.stats.classifiedFaces += job.faces.length;
      this.emitAll(this.tracking.classified(job, result.faces, this.clock));
    } catch (err) {
      deps.stats.classifyFailures++;
      // One line per failure would flood the journal when a model keeps failing: the first, then every 100th.
      if (deps.stats.classifyFailures % 100 === 1) deps.log.error(`classification failed (${deps.stats.classifyFailures} so far): ${(err as Error).message}`);
      this.emitAll(this.tracking.classified(job, null, this.clock));
    }
  }

  private emitAll(events: VisitEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'entered' && ev.confirmedAt !== null) {
        this.deps.stats.enterLatency.add(ev.ts - ev.confirmedAt);
        const arrived = this.arrivals.get(ev.confirmedAt);
        if (arrived !== undefined) this.deps.stats.enterLatencyWall.add(performance.now() - arrived);
      }
      this.deps.emit(ev, this.frameSize);
    }
  }
}
