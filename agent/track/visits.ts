// The visit state machine: tracks and classifications in, visit events out. Pure (timestamps come with
// the inputs), so it is tested with synthetic sequences.
//   entered — once a track is confirmed and has at least one classification
//   left    — when a track that entered ends, with its dwell time
// Attributes are fused by averaging the class probabilities of every sample taken for the visit.
import type { Box } from '../detect/detector.js';
import type { FaceAttributes } from '../classify/classifier.js';
import { CONTRACT_LABELS, TASKS, toPrediction, type Prediction, type Task } from '../classify/labels.js';
import type { IouTracker, Track } from './tracker.js';

export interface VisitOptions {
  reclassifyMs: number;
  maxSamples: number;
  /** Faces closer than this fraction of the frame to its border are likely cut off: not classified. */
  edgeMargin: number;
}

export function nearEdge(box: Box, frame: { width: number; height: number }, margin: number): boolean {
  const mx = frame.width * margin;
  const my = frame.height * margin;
  return box.x < mx || box.y < my || box.x + box.w > frame.width - mx || box.y + box.h > frame.height - my;
}

export interface Visit {
  person: string;
  track: Track;
  samples: number;
  sums: Partial<Record<Task, Float64Array>>;
  yearsSum: number;
  yearsCount: number;
  entered: boolean;
  pending: boolean;
  lastClassifiedAt: number | null;
}

export type VisitEventType = 'entered' | 'updated' | 'left';

export interface VisitEvent {
  type: VisitEventType;
  ts: number;
  person: string;
  firstSeen: number;
  lastSeen: number;
  box: Box;
  samples: number;
  attributes: Partial<Record<Task, Prediction & { years?: number }>>;
}

export class VisitBook {
  readonly visits = new Map<number, Visit>();
  entered = 0;
  left = 0;

  constructor(private readonly opts: VisitOptions, private readonly newPerson: () => string) {}

  /** Applies one tracker update. */
  onTracks(update: { started: Track[]; ended: Track[] }, ts: number): VisitEvent[] {
    for (const t of update.started) {
      this.visits.set(t.id, { person: this.newPerson(), track: t, samples: 0, sums: {}, yearsSum: 0, yearsCount: 0, entered: false, pending: false, lastClassifiedAt: null });
    }
    const events: VisitEvent[] = [];
    for (const t of update.ended) events.push(...this.end(t.id, ts));
    for (const v of this.visits.values()) if (this.maybeEnter(v)) events.push(this.event('entered', v, ts));
    return events;
  }

  /** Visits that want a (new) classification: never classified, or not for reclassifyMs. */
  wanting(ts: number): Visit[] {
    return [...this.visits.values()].filter((v) => !v.pending && v.samples < this.opts.maxSamples &&
      (v.lastClassifiedAt === null || ts - v.lastClassifiedAt >= this.opts.reclassifyMs));
  }

  /** Whether this frame has a usable crop of the visit: seen now, not cut off at the border. */
  classifiable(v: Visit, frame: { width: number; height: number }): boolean {
    return this.visits.get(v.track.id) === v && v.track.visible && !nearEdge(v.track.box, frame, this.opts.edgeMargin);
  }

  isOpen(v: Visit): boolean { return this.visits.get(v.track.id) === v; }

  /** Visits that should be classified on this frame, oldest sample first. */
  due(ts: number, limit: number, frame: { width: number; height: number }): Visit[] {
    return this.wanting(ts)
      .filter((v) => this.classifiable(v, frame))
      .sort((a, b) => (a.lastClassifiedAt ?? -Infinity) - (b.lastClassifiedAt ?? -Infinity))
      .slice(0, limit);
  }

  markPending(visits: Visit[], ts: number): void {
    for (const v of visits) {
      v.pending = true;
      v.lastClassifiedAt = ts;
    }
  }

  /** A classification came back; the visit may have ended meanwhile, then it is ignored. */
  onClassified(visit: Visit, attrs: FaceAttributes | null, ts: number): VisitEvent[] {
    visit.pending = false;
    if (!attrs || this.visits.get(visit.track.id) !== visit) return [];
    for (const task of TASKS) {
      const p = attrs[task];
      if (!p) continue;
      const sum = visit.sums[task] ?? new Float64Array(CONTRACT_LABELS[task].length);
      CONTRACT_LABELS[task].forEach((label, i) => { sum[i]! += p.probs[label] ?? 0; });
      visit.sums[task] = sum;
      const years = (p as { years?: number }).years;
      if (task === 'age' && typeof years === 'number') {
        visit.yearsSum += years;
        visit.yearsCount++;
      }
    }
    visit.samples++;
    return this.maybeEnter(visit) ? [this.event('entered', visit, ts)] : [];
  }

  endAll(ts: number, tracker: IouTracker): VisitEvent[] {
    return tracker.endAll().flatMap((t) => this.end(t.id, ts));
  }

  private end(trackId: number, ts: number): VisitEvent[] {
    const v = this.visits.get(trackId);
    this.visits.delete(trackId);
    if (!v?.entered) return [];
    this.left++;
    return [this.event('left', v, ts)];
  }

  private maybeEnter(v: Visit): boolean {
    if (v.entered || !v.track.confirmed || v.samples === 0) return false;
    v.entered = true;
    this.entered++;
    return true;
  }

  private event(type: VisitEventType, v: Visit, ts: number): VisitEvent {
    const attributes: VisitEvent['attributes'] = {};
    for (const task of TASKS) {
      const sum = v.sums[task];
      if (!sum) continue;
      const pred: Prediction & { years?: number } = toPrediction(task, sum.map((s) => s / v.samples));
      if (task === 'age' && v.yearsCount) pred.years = Math.round((v.yearsSum / v.yearsCount) * 10) / 10;
      attributes[task] = pred;
    }
    return { type, ts, person: v.person, firstSeen: v.track.firstSeen, lastSeen: v.track.lastSeen, box: { ...v.track.box }, samples: v.samples, attributes };
  }
}
