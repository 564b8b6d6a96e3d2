// The visit state machine: track updates, face qualities and classifications in, visit events out.
// Pure — time comes with every input — so it is tested with synthetic sequences and a fake clock.
//   entered — once a track is confirmed and classified, or enterTimeoutMs after confirmation with what
//             is known (a face that never gave a usable crop still counts as a visitor)
//   updated — only when a published (hysteresis-filtered) label changes
//   left    — when a track that entered ends, with its dwell time
import type { Box } from '../detect/detector.js';
import type { FaceAttributes } from '../classify/classifier.js';
import type { Prediction, Task } from '../contract/labels.js';
import { AttributeFusion, type HysteresisOptions } from './fusion.js';
import type { Track, Tracker, TrackUpdate } from './tracker.js';

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
}

export interface Visit {
  person: string;
  track: Track;
  fusion: AttributeFusion;
  entered: boolean;
  pending: boolean;
  lastClassifiedAt: number | null;
  bestQuality: number;
  /** Quality of this frame's crop (0: not classifiable now). */
  quality: number;
  /** The samples count the queue ranks by. */
  samples: number;
}

export type VisitEventType = 'entered' | 'updated' | 'left';

export interface VisitEvent {
  type: VisitEventType;
  ts: number;
  person: string;
  firstSeen: number;
  lastSeen: number;
  confirmedAt: number | null;
  box: Box;
  samples: number;
  attributes: Partial<Record<Task, Prediction & { years?: number }>>;
}

export interface AudiencePerson {
  person: string;
  firstSeen: number;
  box: Box;
  labels: Partial<Record<Task, string>>;
}

export class VisitBook {
  readonly visits = new Map<number, Visit>();
  entered = 0;
  left = 0;
  updates = 0;
  /** Sum of finished visits' dwell, ms, and their classifier calls: for calls per person-second. */
  finishedDwellMs = 0;
  finishedCalls = 0;

  constructor(private readonly opts: VisitOptions, private readonly newPerson: () => string) {}

  /** Applies one tracker update (detection pass or coasting). */
  onTracks(update: TrackUpdate, ts: number): VisitEvent[] {
    for (const t of update.started) {
      this.visits.set(t.id, {
        person: this.newPerson(), track: t, fusion: new AttributeFusion(this.opts.hysteresis), entered: false, pending: false,
        lastClassifiedAt: null, bestQuality: 0, quality: 0, samples: 0,
      });
    }
    const events: VisitEvent[] = [];
    for (const t of update.ended) events.push(...this.end(t.id, ts));
    for (const t of update.confirmed) {
      const v = this.visits.get(t.id);
      if (v && this.maybeEnter(v, ts)) events.push(this.event('entered', v, ts));
    }
    return events;
  }

  /** Time passes: pending label changes and enter timeouts are decided. */
  tick(ts: number): VisitEvent[] {
    const events: VisitEvent[] = [];
    for (const v of this.visits.values()) {
      if (this.maybeEnter(v, ts)) events.push(this.event('entered', v, ts));
      else if (v.fusion.tick(ts) && v.entered) events.push(this.updated(v, ts));
    }
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
      return since >= o.reclassifyMs || (since >= o.minGapMs && v.quality >= v.bestQuality * o.betterCropRatio);
    });
  }

  /** Whether this frame has a usable crop of the visit. */
  classifiable(v: Visit): boolean {
    return this.isOpen(v) && v.track.visible && v.quality > 0;
  }

  isOpen(v: Visit): boolean { return this.visits.get(v.track.id) === v; }

  markPending(visits: Visit[], ts: number): void {
    for (const v of visits) {
      v.pending = true;
      v.lastClassifiedAt = ts;
    }
  }

  /** A classification came back (null: it failed). The visit may have ended meanwhile: then ignored. */
  onClassified(v: Visit, attrs: FaceAttributes | null, quality: number, ts: number): VisitEvent[] {
    v.pending = false;
    if (!attrs || !this.isOpen(v)) return [];
    const before = JSON.stringify(v.fusion.labels());
    v.fusion.add(attrs, quality, ts);
    v.samples = v.fusion.samples;
    v.bestQuality = Math.max(v.bestQuality, quality);
    if (this.maybeEnter(v, ts)) return [this.event('entered', v, ts)];
    if (v.entered && JSON.stringify(v.fusion.labels()) !== before) return [this.updated(v, ts)];
    return [];
  }

  endAll(ts: number, tracker: Tracker): VisitEvent[] {
    return tracker.endAll().flatMap((t) => this.end(t.id, ts));
  }

  /** The people present now (entered, not yet left) with their published labels. */
  present(): AudiencePerson[] {
    return [...this.visits.values()].filter((v) => v.entered)
      .map((v) => ({ person: v.person, firstSeen: v.track.firstSeen, box: v.track.seenBox, labels: v.fusion.labels() }));
  }

  private updated(v: Visit, ts: number): VisitEvent {
    this.updates++;
    return this.event('updated', v, ts);
  }

  private end(trackId: number, ts: number): VisitEvent[] {
    const v = this.visits.get(trackId);
    this.visits.delete(trackId);
    if (!v?.entered) return [];
    this.left++;
    this.finishedDwellMs += v.track.lastSeen - v.track.firstSeen;
    this.finishedCalls += v.samples;
    return [this.event('left', v, ts)];
  }

  private maybeEnter(v: Visit, ts: number): boolean {
    const t = v.track;
    if (v.entered || !t.confirmed) return false;
    const timedOut = t.confirmedAt !== null && ts - t.confirmedAt >= this.opts.enterTimeoutMs;
    if (v.samples === 0 && !timedOut) return false;
    v.entered = true;
    this.entered++;
    return true;
  }

  private event(type: VisitEventType, v: Visit, ts: number): VisitEvent {
    const t = v.track;
    return {
      type, ts, person: v.person, firstSeen: t.firstSeen, lastSeen: t.lastSeen, confirmedAt: t.confirmedAt,
      // Where the person was last seen: a coasting prediction may already be outside the frame.
      box: { ...t.seenBox }, samples: v.samples, attributes: v.fusion.attributes(),
    };
  }
}
