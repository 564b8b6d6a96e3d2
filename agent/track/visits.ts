// The visit state machine: track updates, face qualities, classifications and face embeddings in, visit
// events out. Pure — time comes with every input — so it is tested with synthetic sequences and a fake clock.
//   entered — once a track is confirmed and its labels have evidence (fusion.enterMinSamples samples, or each
//             task's fused probability at fusion.enterMinP), or enterTimeoutMs after confirmation with what
//             is known (a face that never gave a usable crop still counts as a visitor; `confident` says which)
//   updated — only when a new arg-max leads the announced label by the hysteresis rule (every payload
//             carries the arg-max; hysteresis decides when an update is sent, never what it says)
//   left    — graceMs after the person was last seen. A lost track only suspends its visit; a new track
//             that re-identifies it resumes it (same person, dwell continues, labels fused over both).
// Re-identification (see reid-rules.ts): with an embedder, by appearance only; without one (or for a
// visit never embedded), by position only — a face reappearing where it was lost within positionGraceMs.
import type { FaceAttributes } from '../classify/classifier.js';
import type { Detection } from '../detect/detector.js';
import type { HysteresisOptions } from './fusion.js';
import type { AttentionOptions } from './attention.js';
import { embeddingDistance, type EmbeddingMetric } from '../classify/embedder.js';
import { DEFAULT_REID, type Distance, type ReidOptions } from './reid.js';
import { ReidRules } from './reid-rules.js';
import type { Logger } from '../lib/logging.js';
import type { Track, Tracker, TrackUpdate } from './tracker.js';
import { current, newVisit, presentPerson, syncSight, visitEvent, type AudiencePerson, type Visit, type VisitEvent } from './visit.js';

export type { AudiencePerson, Visit, VisitEvent, VisitEventType } from './visit.js';

export interface VisitOptions {
  /** Classify a person again after this long… */
  reclassifyMs: number;
  /** …or sooner, when a crop this many times better than the best so far appears… */
  betterCropRatio: number;
  /** …but never sooner than this after the last call. */
  minGapMs: number;
  /** Stop classifying a person after this many samples. */
  maxSamples: number;
  /** Announce a confirmed person this long after confirmation even if no crop was good enough yet. */
  enterTimeoutMs: number;
  hysteresis: HysteresisOptions;
  /** Re-identification settings (config `visit`, read live). Default: DEFAULT_REID. */
  reid?: ReidOptions;
  /** Gets a debug line for each re-identification decision, with its distances (the reid log namespace). */
  reidLog?: Logger;
  /** An embedder is wired: lost visits resume by appearance. Without one, by position only. */
  appearance?: boolean;
  /** The embedder's metric (Embedder.metric); default Euclidean. */
  metric?: EmbeddingMetric;
  /** Glances and gaps of the attention meter (config `audience`, read live). */
  attention?: AttentionOptions;
}

export class VisitBook {
  /** Visits with a live track, by track id. */
  readonly visits = new Map<number, Visit>();
  /** Visits whose track was lost, waiting to be re-identified until graceMs after their last sight. */
  readonly suspended = new Set<Visit>();
  entered = 0;
  left = 0;
  updates = 0;
  /** Confirmed tracks that ended before they were announced (crossings, occlusions, brief false faces). */
  fragmentsDropped = 0;
  /** Visits resumed on a new track, and tracks handed back to the right person. */
  resumed = 0;
  corrected = 0;
  /** Sum of finished visits' dwell, ms, and their classifier calls: for calls per person-second. */
  finishedDwellMs = 0;
  finishedCalls = 0;
  private readonly rules: ReidRules;
  private readonly distance: Distance;
  /** Tracks whose visit moved to another track; one that sees a face again starts a new visit. */
  private readonly orphans = new Map<number, Track>();

  constructor(
    private readonly opts: VisitOptions,
    private readonly newPerson: () => string,
  ) {
    this.rules = new ReidRules(this, opts.reid ?? DEFAULT_REID, opts.appearance ?? false, opts.reidLog);
    const metric = opts.metric ?? 'euclidean';
    this.distance = (a, b) => embeddingDistance(a, b, metric);
  }

  /** Applies one tracker update (detection pass or coasting). */
  onTracks(update: TrackUpdate, ts: number): VisitEvent[] {
    const events: VisitEvent[] = [];
    for (const t of update.ended) {
      this.lose(t.id);
      this.orphans.delete(t.id);
    }
    for (const v of this.visits.values()) syncSight(v);
    const adopted = [...this.orphans.values()].filter((t) => t.lastSeen === ts);
    for (const t of [...update.started, ...adopted]) {
      this.orphans.delete(t.id);
      const v = newVisit(this.newPerson(), t, this.opts.hysteresis, this.distance, this.opts.attention);
      v.firstSeen = t.lastSeen;
      v.confirmedAt = t.confirmed ? t.lastSeen : null;
      v.awaitingReid = this.rules.anyoneLost();
      this.visits.set(t.id, v);
    }
    events.push(...this.rules.resumeByPosition(update.confirmed, ts), ...this.rules.recheck(ts));
    for (const t of update.confirmed) {
      const v = this.visits.get(t.id);
      if (!v) continue;
      syncSight(v);
      if (this.maybeEnter(v, ts)) events.push(this.event('entered', v, ts));
    }
    events.push(...this.expire(ts));
    return events;
  }

  /** Time passes: pending label changes, enter timeouts and the end of graces are decided. */
  tick(ts: number): VisitEvent[] {
    const events: VisitEvent[] = [];
    for (const v of [...this.visits.values(), ...this.suspended]) {
      if (this.maybeEnter(v, ts)) events.push(this.event('entered', v, ts));
      else if (v.fusion.tick(ts) && v.entered) events.push(this.updated(v, ts));
    }
    events.push(...this.expire(ts));
    return events;
  }

  setQuality(v: Visit, quality: number): void {
    v.quality = v.track.visible ? quality : 0;
  }

  /** Visits whose crop in this frame is worth a classifier call. */
  wanting(ts: number): Visit[] {
    const o = this.opts;
    return [...this.visits.values()].filter((v) => {
      if (v.pending || v.quality <= 0 || v.samples >= o.maxSamples) return false;
      if (v.lastClassifiedAt === null) return true;
      const since = ts - v.lastClassifiedAt;
      if (since >= o.reclassifyMs) return true;
      if (since < o.minGapMs) return false;
      // A visit held back for want of evidence asks again as soon as the gap allows, not a reclassify later.
      return v.quality >= v.bestQuality * o.betterCropRatio || (!v.entered && !v.fusion.confident());
    });
  }

  /** Whether this frame has a usable crop of the visit. */
  classifiable(v: Visit): boolean {
    return this.isOpen(v) && v.track.visible && v.quality > 0;
  }

  /** Followed by a live track now. */
  isOpen(v: Visit): boolean {
    return this.visits.get(v.track.id) === v;
  }

  markPending(visits: Visit[], ts: number): void {
    for (const v of visits) {
      v.pending = true;
      v.lastClassifiedAt = ts;
    }
  }

  /** A classification came back (null: it failed). Kept if the visit is still open or suspended. */
  onClassified(asked: Visit, attrs: FaceAttributes | null, quality: number, ts: number): VisitEvent[] {
    asked.pending = false;
    const v = current(asked);
    v.pending = false;
    if (!attrs || !(this.isOpen(v) || this.suspended.has(v))) return [];
    const due = v.fusion.add(attrs, quality, ts);
    v.samples = v.fusion.samples;
    v.bestQuality = Math.max(v.bestQuality, quality);
    if (this.maybeEnter(v, ts)) return [this.event('entered', v, ts)];
    if (v.entered && due) return [this.updated(v, ts)];
    return [];
  }

  /** Visits whose face should be embedded from this frame, most urgent first (empty without an embedder). */
  wantingEmbedding(ts: number): Visit[] {
    return this.rules.wanting(ts);
  }

  markEmbedding(visits: Visit[], ts: number): void {
    for (const v of visits) {
      v.embedPending = true;
      v.lastEmbeddedAt = ts;
      v.embedTrack = v.track.id;
    }
  }

  /** An embedding came back for the face on `asked`'s track when markEmbedding was called (null: failed). */
  onEmbedded(asked: Visit, embedding: Float32Array | null, ts: number): VisitEvent[] {
    return this.rules.onEmbedded(asked, embedding, ts);
  }

  /**
   * Embeddings of detections (by index) made for the appearance veto, given to the visits whose tracks
   * took those detections in the update that followed: appearance for free.
   */
  onDetectionEmbeddings(detections: readonly Detection[], embeddings: ReadonlyMap<number, Float32Array>, ts: number): VisitEvent[] {
    const events: VisitEvent[] = [];
    for (const v of [...this.visits.values()]) {
      const i = detections.indexOf(v.track.detection);
      const e = embeddings.get(i);
      if (!v.track.visible || i < 0 || !e || v.embedPending) continue;
      this.markEmbedding([v], ts);
      events.push(...this.onEmbedded(v, e, ts));
    }
    return events;
  }

  /** For Tracker.update: forbids pairings that the embeddings of contested detections rule out. */
  appearanceVeto(embeddings: ReadonlyMap<number, Float32Array>) {
    return this.rules.veto(embeddings);
  }

  /** A face became static (a poster): its visit ends now, never waits to be re-identified as someone else. */
  endStatic(trackId: number, ts: number): VisitEvent[] {
    const v = this.visits.get(trackId);
    if (!v) return [];
    this.visits.delete(trackId);
    return v.entered ? this.finish(v, ts) : (v.gallery.clear(), []);
  }

  /** Ends every visit, open or suspended (source finished or agent stopping). */
  endAll(ts: number, tracker: Tracker): VisitEvent[] {
    for (const t of tracker.endAll()) this.lose(t.id);
    this.orphans.clear();
    return [...this.suspended].flatMap((v) => this.finish(v, ts));
  }

  /** The people present now (entered, not yet left — suspended ones too) with their arg-max labels. */
  present(): AudiencePerson[] {
    return [...this.visits.values(), ...this.suspended].filter((v) => v.entered).map(presentPerson);
  }

  // ——— used by ReidRules ———

  /** Hands `track`'s place to `v` (resumed or corrected); `v` leaves the suspended set. */
  place(v: Visit): void {
    this.suspended.delete(v);
    v.suspended = false;
    this.visits.set(v.track.id, v);
    syncSight(v);
  }

  /** `v` leaves its (coasting) track for another one. */
  orphan(v: Visit): void {
    this.visits.delete(v.track.id);
    this.orphans.set(v.track.id, v.track);
  }

  suspend(v: Visit): void {
    if (this.visits.get(v.track.id) === v) this.visits.delete(v.track.id);
    v.suspended = true;
    v.quality = 0;
    this.suspended.add(v);
  }

  maybeEnter(v: Visit, ts: number): boolean {
    if (v.entered || v.confirmedAt === null || v.mergedInto) return false;
    // No phantom visitors: a fragment where tracks meet or a face is half hidden never lives this long.
    const reid = this.opts.reid ?? DEFAULT_REID;
    if (v.lastSeen - v.firstSeen < reid.minDwellMs || v.track.hits < reid.minPasses) return false;
    const timedOut = ts - v.confirmedAt >= this.opts.enterTimeoutMs;
    // Held back until the labels have evidence (samples or fused confidence); at the timeout it is announced
    // with what is known, each task saying whether it is confident.
    if (!timedOut && (v.samples === 0 || !v.fusion.confident())) return false;
    if (v.awaitingReid && !timedOut && this.rules.mayStillResume(v)) return false;
    v.awaitingReid = false;
    v.entered = true;
    this.entered++;
    return true;
  }

  updated(v: Visit, ts: number): VisitEvent {
    this.updates++;
    return this.event('updated', v, ts);
  }

  private event(type: 'entered' | 'updated' | 'left', v: Visit, ts: number): VisitEvent {
    return visitEvent(type, v, ts);
  }

  /** A track ended: an announced visit waits to be re-identified; one never announced is forgotten. */
  private lose(trackId: number): void {
    const v = this.visits.get(trackId);
    if (!v) return;
    syncSight(v);
    this.visits.delete(trackId);
    if (v.entered) this.suspend(v);
    else {
      v.gallery.clear();
      if (v.confirmedAt !== null && !v.mergedInto) this.fragmentsDropped++;
    }
  }

  private expire(ts: number): VisitEvent[] {
    return [...this.suspended].filter((v) => ts - v.lastSeen >= this.rules.graceFor(v)).flatMap((v) => this.finish(v, ts));
  }

  private finish(v: Visit, ts: number): VisitEvent[] {
    this.suspended.delete(v);
    v.gallery.clear();
    v.latest = null;
    this.left++;
    this.finishedDwellMs += v.lastSeen - v.firstSeen;
    this.finishedCalls += v.samples;
    return [this.event('left', v, ts)];
  }
}
