// The tracking side of a frame, in one pass. The pipeline hands it the frame's detections (see) and,
// when it asked for them, the embeddings of contested faces (plan), and gets back a plan: the visit
// events to emit, the faces to embed and to classify, where faces are expected on the next detection
// pass, who is present. The models' answers come back the same way (embedded, classified) and turn into
// events. Everything between — audience gate, tracker, visit book, crop quality, head pose, the
// classification queue and both budgets — is decided here, so the pipeline never reaches into them.
// Visits are held back until confirmed: the book announces a visit only after the minimum dwell and
// detection passes (VisitBook.maybeEnter: no phantom fragments where tracks meet).
import type { CV } from '../capture/opencv.js';
import type { Frame } from '../capture/frame.js';
import type { FaceAttributes, FaceRegion } from '../classify/classifier.js';
import type { Box, Detection } from '../detect/detector.js';
import { child, type Logger } from '../lib/logging.js';
import { headPose, isLooking, type HeadPose } from '../lib/head-pose.js';
import { toFiveLandmarks } from '../lib/align.js';
import type { AudienceGate } from './audience-gate.js';
import type { ClassificationQueue } from './classify-queue.js';
import type { FacesPerSecondLimit } from './faces-per-second.js';
import { faceQuality, notClassifiableBecause, sharpness, type QualityOptions } from './quality.js';
import { boxIou, type Tracker } from './tracker.js';
import type { AudiencePerson, Visit, VisitBook, VisitEvent } from './visits.js';

export interface TrackingDeps {
  cv: CV;
  tracker: Tracker;
  gate: AudienceGate;
  visits: VisitBook;
  queue: ClassificationQueue<Visit>;
  /** Faces classified per second at most. */
  budget: FacesPerSecondLimit;
  /** Faces embedded per second at most. */
  embedBudget: FacesPerSecondLimit;
  quality: QualityOptions;
  /** Read on every frame (hot-reloadable). */
  settings: { readonly maxBatch: number; readonly lookYawDeg: number; readonly lookPitchDeg: number };
  /** An embedder is wired: contested faces are embedded before tracking, visits' faces after it. */
  appearance: boolean;
  log: Logger;
}

/** Faces of one frame for a model call; handed back with the answers (the visits are opaque to the caller). */
export interface FaceJob {
  readonly faces: FaceRegion[];
  readonly visits: readonly Visit[];
  /** Each face's crop quality when it was asked: it weights the classification. */
  readonly qualities: readonly number[];
}

/** Who is present now (the frame heartbeat). */
export interface Presence {
  people: AudiencePerson[];
  /** Far faces confirmed so far: opportunities to see that opened no visit. */
  farFaces: number;
}

export interface TrackPlan extends Presence {
  /** Visit events of this frame, in order. */
  events: VisitEvent[];
  /** Faces to embed from this frame (null: none, or an embedder call is still in flight). */
  embed: FaceJob | null;
  /** Faces to classify from this frame (null: none, over budget, or a classifier call is in flight). */
  classify: FaceJob | null;
  /** Where live tracks are expected (predicted boxes): regions of the next detection pass, with motion. */
  expected: Box[];
}

/** Which model calls are in flight (at most one each): nothing more is planned for a busy one. */
export interface InFlight {
  classifying: boolean;
  embedding: boolean;
}

/** The plan before the first frame: nothing to do, no face expected anywhere. */
export const NO_PLAN: TrackPlan = { events: [], embed: null, classify: null, expected: [], people: [], farFaces: 0 };

/** The static face's box and its track's (predicted) box overlap this much at least: they are the same face. */
const STATIC_MATCH_IOU = 0.3;

/** A detection as the models take it: the box, with landmarks for aligned crops. */
const region = (d: Detection): FaceRegion => ({ ...d.box, ...(d.landmarks ? { landmarks: d.landmarks } : {}) });

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

export class Tracking {
  /** This frame's detections past the audience gate (null: no detection pass), between see() and plan(). */
  private viewers: Detection[] | null = null;
  private detected = false;
  /** Indices in `viewers` of the faces see() asked embeddings for. */
  private contested: number[] = [];

  /** Debug lines at each decision, under the namespace of what decided (log.level: debug). */
  private readonly trackLog: Logger;
  private readonly classifyLog: Logger;
  /** Visits whose face is kept from the classifier now (said once in the log, not per frame). */
  private readonly unusable = new WeakSet<Visit>();
  private budgetSaidAt = -Infinity;
  /** Events decided in see() (a static face's visit ended), handed out with the frame's plan. */
  private readonly pendingEvents: VisitEvent[] = [];

  constructor(private readonly deps: TrackingDeps) {
    this.trackLog = child(deps.log, 'track');
    this.classifyLog = child(deps.log, 'classify');
  }

  /**
   * Step one of a frame: its detections (null: no pass this frame, or a failed one). Returns the faces to
   * embed before tracking — where motion cannot tell faces apart (a crossing), appearance vetoes.
   */
  see(frame: Frame, detections: Detection[] | null): FaceRegion[] {
    const { deps } = this;
    this.detected = detections !== null;
    this.viewers = detections ? this.gate(detections, frame) : null;
    this.contested = this.viewers && deps.appearance ? deps.tracker.contested(this.viewers, frame.ts) : [];
    const viewers = this.viewers;
    return viewers ? this.contested.map((i) => region(viewers[i]!)) : [];
  }

  /**
   * Step two: the embeddings of the faces see() asked for (fewer or none when the call failed: motion
   * alone decides, as with no embedder), and which model calls are in flight. Returns the frame's plan.
   */
  plan(frame: Frame, embeddings: readonly Float32Array[], busy: InFlight): TrackPlan {
    const { deps, viewers } = this;
    const { tracker, visits } = deps;
    const ts = frame.ts;
    const byDetection = new Map<number, Float32Array>();
    this.contested.forEach((i, k) => {
      const e = embeddings[k];
      if (e) byDetection.set(i, e);
    });
    const veto = byDetection.size ? visits.appearanceVeto(byDetection) : undefined;
    const update = viewers ? tracker.update(viewers, ts, veto) : tracker.coast(ts);
    for (const t of update.started)
      this.trackLog.debug(`track ${t.id} born at (${Math.round(t.box.x)}, ${Math.round(t.box.y)}), ${Math.round(Math.max(t.box.w, t.box.h))} px`);
    for (const t of update.ended) this.trackLog.debug(`track ${t.id} ended: ${t.hits} detection(s), last seen ${Math.round(ts - t.lastSeen)} ms ago`);
    const events = visits.onTracks(update, ts);
    if (this.pendingEvents.length) events.unshift(...this.pendingEvents.splice(0));
    if (viewers && byDetection.size) events.push(...visits.onDetectionEmbeddings(viewers, byDetection, ts));
    this.observe(frame);
    events.push(...visits.tick(ts));

    const q = deps.queue;
    q.prune((v) => visits.isOpen(v));
    for (const v of visits.wanting(ts)) q.offer(v);
    // Crops are cut on detection passes only: a coasting box is a prediction, not a face.
    const embed = this.detected && !busy.embedding ? this.toEmbed(ts) : null;
    const classify = this.detected && !busy.classifying ? this.toClassify(ts) : null;
    return { events, embed, classify, expected: [...tracker.tracks.values()].map((t) => t.box), ...this.presence() };
  }

  /** An embedder call came back (null: it failed); `ts` is the time now. */
  embedded(job: FaceJob, embeddings: readonly Float32Array[] | null, ts: number): VisitEvent[] {
    return job.visits.flatMap((v, i) => this.deps.visits.onEmbedded(v, embeddings?.[i] ?? null, ts));
  }

  /** A classifier call came back (null: it failed); `ts` is the time now. */
  classified(job: FaceJob, faces: readonly FaceAttributes[] | null, ts: number): VisitEvent[] {
    const { visits } = this.deps;
    return job.visits.flatMap((v, i) => (faces ? visits.onClassified(v, faces[i] ?? null, job.qualities[i]!, ts) : visits.onClassified(v, null, 0, ts)));
  }

  /** The source ended or the agent stops: every visit ends. */
  end(ts: number): Presence & { events: VisitEvent[] } {
    return { events: this.deps.visits.endAll(ts, this.deps.tracker), ...this.presence() };
  }

  private presence(): Presence {
    return { people: this.deps.visits.present(), farFaces: this.deps.gate.farFaces };
  }

  /**
   * Far faces, ignore zones and static faces are taken out before tracking (see audience-gate.ts). The
   * visit of a face that became static ends now: left to coast, it would wait to be re-identified and
   * could resume as the next person who walks in.
   */
  private gate(detections: Detection[], frame: Frame): Detection[] {
    const { viewers, becameStatic } = this.deps.gate.filter(detections, frame, frame.ts);
    for (const d of becameStatic) {
      this.deps.log.info(
        `a face at (${Math.round(d.box.x)}, ${Math.round(d.box.y)}) has not moved for audience.staticAfterS: it stops counting (a poster, a photo or a screen?)`,
      );
      const track = [...this.deps.tracker.tracks.values()].find((t) => boxIou(t.box, d.box) >= STATIC_MATCH_IOU);
      if (track) this.pendingEvents.push(...this.deps.visits.endStatic(track.id, frame.ts));
    }
    return viewers;
  }

  /** Each open visit's crop quality in this frame, and whether the person looks at the camera. */
  private observe(frame: Frame): void {
    const { visits } = this.deps;
    for (const v of visits.visits.values()) {
      const pose = this.detected && v.track.visible ? poseOf(v) : null;
      visits.setQuality(v, this.detected ? this.quality(frame, v, pose) : 0);
      if (pose) this.observeAttention(v, frame.ts, pose);
    }
  }

  /** Looking or not, from the head pose of this frame (smoothed over half a second: landmarks jitter). */
  private observeAttention(v: Visit, ts: number, pose: HeadPose): void {
    const smooth = v.pose.push(ts, pose);
    const { lookYawDeg, lookPitchDeg } = this.deps.settings;
    v.looking = isLooking({ ...smooth, roll: 0 }, lookYawDeg, lookPitchDeg);
    v.attention.observe(ts, v.looking);
  }

  private quality(frame: Frame, v: Visit, pose: HeadPose | null): number {
    const { track } = v;
    // No full-resolution pixels (the capture process restarted before they were fetched): no crop from this frame.
    if (!track.visible || !frame.mat) return 0;
    // Size, edge and pose first: sharpness costs a resize and a Laplacian, only worth it for a usable face.
    const o = this.deps.quality;
    const usable = faceQuality(track.box, track.score, Infinity, frame, o, pose) > 0;
    const sharp = usable ? sharpness(this.deps.cv, frame.mat, track.box) : Infinity;
    const q = usable ? faceQuality(track.box, track.score, sharp, frame, o, pose) : 0;
    // A debug line when a face becomes unusable (with the setting that keeps it out) or usable again: the
    // reason is worked out only then, not on every frame.
    if ((q === 0) !== this.unusable.has(v)) {
      const who = `person ${v.person.slice(0, 8)}`;
      if (q === 0) {
        this.unusable.add(v);
        this.classifyLog.debug(`${who}: not classified while ${notClassifiableBecause(track.box, sharp, frame, o, pose) ?? 'its quality is 0'}`);
      } else {
        this.unusable.delete(v);
        this.classifyLog.debug(`${who}: face usable again`);
      }
    }
    return q;
  }

  /** The visits whose faces to embed now, most urgent first, within the embedding budget. */
  private toEmbed(ts: number): FaceJob | null {
    const { deps } = this;
    if (!deps.appearance) return null;
    const n = Math.min(deps.settings.maxBatch, deps.embedBudget.available(ts));
    const due = n > 0 ? deps.visits.wantingEmbedding(ts).slice(0, n) : [];
    if (!due.length) return null;
    deps.embedBudget.spend(due.length);
    deps.visits.markEmbedding(due, ts);
    return job(due);
  }

  /** The queued visits to classify now (with a usable crop in this frame), within the budget. */
  private toClassify(ts: number): FaceJob | null {
    const { deps } = this;
    const n = Math.min(deps.settings.maxBatch, deps.budget.available(ts));
    if (n === 0 && deps.queue.depth && ts - this.budgetSaidAt >= 1000) {
      this.budgetSaidAt = ts;
      this.classifyLog.debug(`classification waits: classifier.maxFacesPerSecond spent (${deps.queue.depth} waiting)`);
    }
    const due = n > 0 ? deps.queue.take(n, (v) => deps.visits.classifiable(v)) : [];
    if (!due.length) return null;
    deps.budget.spend(due.length);
    deps.visits.markPending(due, ts);
    return job(due);
  }
}

/** The visits' faces as detected in this frame (a visible track: its detection is this frame's), landmarks included. */
function job(due: Visit[]): FaceJob {
  return { faces: due.map((v) => region(v.track.detection)), visits: due, qualities: due.map((v) => v.quality) };
}
