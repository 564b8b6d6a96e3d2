// The data path: frames → faces → tracks → visits, with classification running beside it. Detection is
// awaited per frame — on the whole frame, or only where motion and tracked faces are (detect-step.ts),
// or not at all (every detector.intervalMs, tracks coasting between); classification is not: at
// most one classifier call is in flight, requests wait in a bounded queue, a per-second budget caps the
// faces classified, and frames keep flowing while it runs — a slow classifier never stalls the rest.
import type { CV, Mat } from '../capture/opencv.js';
import type { Frame, FrameSource } from '../capture/frame.js';
import { LatestFrame } from '../capture/latest-frame.js';
import type { Embedder } from '../classify/embedder.js';
import type { Classifier, FaceRegion } from '../classify/classifier.js';
import type { FaceDetector } from '../detect/detector.js';
import type { Tracker } from '../track/tracker.js';
import type { AudienceGate } from '../track/audience-gate.js';
import type { Detection } from '../detect/detector.js';
import type { Visit, VisitBook, VisitEvent } from '../track/visits.js';
import type { ClassificationQueue } from '../track/classify-queue.js';
import type { FacesPerSecondLimit } from '../track/faces-per-second.js';
import { faceQuality, sharpness, type QualityOptions } from '../track/quality.js';
import type { Logger } from '../lib/logging.js';
import type { PipelineStats } from './stats.js';
import type { FrameDone } from '../features/events.js';
import { headPose, isLooking, type HeadPose } from '../lib/head-pose.js';
import { toFiveLandmarks } from '../lib/align.js';
import { DetectStep, type DetectSettings } from './detect-step.js';

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
}

/** The head pose of the visit's detection in this frame; null without landmarks or for degenerate ones. */
function poseOf(v: Visit): HeadPose | null {
  const five = toFiveLandmarks(v.track.detection.landmarks);
  if (!five) return null;
  try {
    return headPose(five);
  } catch {
    return null; // eyes on one point, or the mouth above the eyes: no pose this frame
  }
}

/** A detection as the embedder takes it: the box, with landmarks for aligned crops. */
const region = (d: Detection): FaceRegion => ({ ...d.box, ...(d.landmarks ? { landmarks: d.landmarks } : {}) });

export class Pipeline {
  private stopping = false;
  private inflight: Promise<void> | null = null;
  private embedding: Promise<void> | null = null;
  private readonly detectStep: DetectStep;
  private classifyingSince: number | null = null;
  private embeddingSince: number | null = null;
  private latest: LatestFrame | null = null;
  private frameSize = { width: 1, height: 1 };
  private clock = 0;
  /** Arrival time (performance.now) of recent frames by their timestamp, for frame → entered latency. */
  private readonly arrivals = new Map<number, number>();

  constructor(private readonly deps: PipelineDeps) {
    this.detectStep = new DetectStep(deps.cv, deps.detector, deps.detectPlan, deps.stats, deps.log);
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
    this.emitAll(deps.visits.endAll(this.clock, deps.tracker));
    this.announce();
    // A capture failure is not an end of input: the caller exits non-zero, so a service manager restarts.
    if (failed && !this.stopping) throw failed;
  }

  stop(): void {
    this.stopping = true;
  }

  private async process(frame: Frame): Promise<void> {
    const { deps } = this;
    this.arrivals.set(frame.ts, performance.now());
    if (this.arrivals.size > 300) this.arrivals.delete(this.arrivals.keys().next().value!);
    this.frameSize = { width: frame.width, height: frame.height };
    this.clock = frame.ts;
    const detections = await this.detectStep.run(frame, deps.tracker.tracks.values());
    deps.stats.frames++;

    const t = performance.now();
    const viewers = detections ? this.gate(detections, frame) : null;
    // Where motion cannot tell faces apart (a crossing), embed those faces first and let appearance veto.
    const contested = viewers && deps.embedder ? deps.tracker.contested(viewers, frame.ts) : [];
    const byDetection = new Map<number, Float32Array>();
    if (viewers && contested.length) {
      // Without embeddings (a failed or timed-out call) motion alone decides, as with no embedder.
      const embeddings = await deps
        .embedder!.embed(
          frame,
          contested.map((i) => region(viewers[i]!)),
        )
        .catch((err: unknown) => {
          deps.log.error(`embedding failed: ${(err as Error).message}`);
          return [];
        });
      contested.forEach((i, k) => {
        const e = embeddings[k];
        if (e) byDetection.set(i, e);
      });
    }
    const veto = byDetection.size ? deps.visits.appearanceVeto(byDetection) : undefined;
    const update = viewers ? deps.tracker.update(viewers, frame.ts, veto) : deps.tracker.coast(frame.ts);
    this.emitAll(deps.visits.onTracks(update, frame.ts));
    if (viewers && byDetection.size) this.emitAll(deps.visits.onDetectionEmbeddings(viewers, byDetection, frame.ts));
    for (const v of deps.visits.visits.values()) {
      // Crops are cut on detection passes only: a coasting box is a prediction, not a face.
      const pose = detections && v.track.visible ? poseOf(v) : null;
      deps.visits.setQuality(v, detections ? this.quality(frame, v, pose) : 0);
      if (pose) this.observeAttention(v, frame.ts, pose);
    }
    this.emitAll(deps.visits.tick(frame.ts));
    deps.stats.stages.track.add(performance.now() - t);
    this.announce(frame.mat);

    const q = deps.queue;
    q.prune((v) => deps.visits.isOpen(v));
    for (const v of deps.visits.wanting(frame.ts)) q.offer(v);
    if (detections) this.scheduleEmbeddings(frame);
    if (!this.inflight && detections) {
      const n = Math.min(deps.settings.maxBatch, deps.budget.available(frame.ts));
      const due = n > 0 ? q.take(n, (v) => deps.visits.classifiable(v)) : [];
      if (due.length) {
        deps.budget.spend(due.length);
        this.classifyingSince = performance.now();
        this.inflight = this.classify(frame, due).finally(() => {
          this.inflight = null;
          this.classifyingSince = null;
        });
      }
    }
  }

  /** How long the oldest inference call in flight has been waiting, ms (0: none): the watchdog's measure of a stall. */
  oldestCallMs(now = performance.now()): number {
    const since = [this.detectStep.since, this.classifyingSince, this.embeddingSince].filter((x): x is number => x !== null);
    return since.length ? now - Math.min(...since) : 0;
  }

  /** Far faces, ignore zones and static faces are taken out before tracking (see track/audience-gate.ts). */
  private gate(detections: Detection[], frame: Frame): Detection[] {
    const { viewers, becameStatic } = this.deps.gate.filter(detections, frame, frame.ts);
    for (const d of becameStatic) {
      this.deps.log.info(
        `a face at (${Math.round(d.box.x)}, ${Math.round(d.box.y)}) has not moved for audience.staticAfterS: it stops counting (a poster, a photo or a screen?)`,
      );
    }
    return viewers;
  }

  /** Looking or not, from the head pose of this frame (smoothed over half a second: landmarks jitter). */
  private observeAttention(v: Visit, ts: number, pose: HeadPose): void {
    const smooth = v.pose.push(ts, pose);
    const { lookYawDeg, lookPitchDeg } = this.deps.settings;
    v.looking = isLooking({ ...smooth, roll: 0 }, lookYawDeg, lookPitchDeg);
    v.attention.observe(ts, v.looking);
  }

  /** At most one embedder call in flight, on the frame it was asked for; results come back as events. */
  private scheduleEmbeddings(frame: Frame): void {
    const { deps } = this;
    if (!deps.embedder || this.embedding) return;
    const n = Math.min(deps.settings.maxBatch, deps.embedBudget.available(frame.ts));
    const due = n > 0 ? deps.visits.wantingEmbedding(frame.ts).slice(0, n) : [];
    if (!due.length) return;
    deps.embedBudget.spend(due.length);
    deps.visits.markEmbedding(due, frame.ts);
    this.embeddingSince = performance.now();
    this.embedding = deps.embedder
      .embed(
        frame,
        due.map((v) => region(v.track.detection)),
      )
      .then((embeddings) => due.forEach((v, i) => this.emitAll(deps.visits.onEmbedded(v, embeddings[i] ?? null, this.clock))))
      .catch((err: unknown) => {
        deps.log.error(`embedding failed: ${(err as Error).message}`);
        due.forEach((v) => deps.visits.onEmbedded(v, null, this.clock));
      })
      .finally(() => {
        this.embedding = null;
        this.embeddingSince = null;
      });
  }

  private announce(mat?: Mat): void {
    this.deps.onFrame?.({ ts: this.clock, ...this.frameSize, people: this.deps.visits.present(), farFaces: this.deps.gate.farFaces, ...(mat ? { mat } : {}) });
  }

  private quality(frame: Frame, v: Visit, pose: HeadPose | null): number {
    const { track } = v;
    if (!track.visible) return 0;
    // Size, edge and pose first: sharpness costs a resize and a Laplacian, only worth it for a usable face.
    if (faceQuality(track.box, track.score, Infinity, frame, this.deps.quality, pose) === 0) return 0;
    return faceQuality(track.box, track.score, sharpness(this.deps.cv, frame.mat, track.box), frame, this.deps.quality, pose);
  }

  private async classify(frame: Frame, due: Visit[]): Promise<void> {
    const { deps } = this;
    deps.visits.markPending(due, frame.ts);
    const qualities = due.map((v) => v.quality);
    const t = performance.now();
    try {
      // The visit's detection of this frame (classifiable() asks for a visible track), landmarks included.
      const result = await deps.classifier.classify(
        frame,
        due.map((v) => region(v.track.detection)),
      );
      deps.stats.stages.classify.add(performance.now() - t);
      deps.stats.classifierCalls++;
      deps.stats.classifiedFaces += due.length;
      due.forEach((v, i) => this.emitAll(deps.visits.onClassified(v, result.faces[i] ?? null, qualities[i]!, this.clock)));
    } catch (err) {
      deps.stats.classifyFailures++;
      // One line per failure would flood the journal when a model keeps failing: the first, then every 100th.
      if (deps.stats.classifyFailures % 100 === 1) deps.log.error(`classification failed (${deps.stats.classifyFailures} so far): ${(err as Error).message}`);
      due.forEach((v) => deps.visits.onClassified(v, null, 0, this.clock));
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
