// Attribute fusion for one visit: quality-weighted averaging of each task's class probabilities over
// the samples so far, and a published label that changes only with hysteresis — the new label must lead
// by a margin, over at least two further samples, for a minimum time — so one bad frame never flips it.
import { CONTRACT_LABELS, TASKS, toPrediction, type Prediction, type Task } from '../contract/labels.js';
import type { FaceAttributes } from '../classify/classifier.js';

export interface HysteresisOptions {
  /** The challenger's fused probability must exceed the published label's by this much. */
  margin: number;
  /** …for at least this long… */
  minDurationMs: number;
  /** …and over at least this many samples. */
  minSamples: number;
}

interface TaskState {
  sums: Float64Array;
  weight: number;
  published: number | null;
  candidate: number | null;
  candidateSince: number;
  candidateSamples: number;
}

export class AttributeFusion {
  private readonly tasks = new Map<Task, TaskState>();
  private yearsSum = 0;
  private yearsWeight = 0;
  samples = 0;

  constructor(private readonly opts: HysteresisOptions) {}

  /** Adds one classification with weight `quality` (0–1]. */
  add(attrs: FaceAttributes, quality: number, ts: number): void {
    const w = Math.max(quality, 1e-3);
    for (const task of TASKS) {
      const p = attrs[task];
      if (!p) continue;
      const s = this.state(task);
      CONTRACT_LABELS[task].forEach((label, i) => {
        s.sums[i]! += w * (p.probs[label] ?? 0);
      });
      s.weight += w;
      const years = (p as { years?: number }).years;
      if (task === 'age' && typeof years === 'number') {
        this.yearsSum += w * years;
        this.yearsWeight += w;
      }
      if (s.candidate !== null) s.candidateSamples++;
      this.review(s, ts);
    }
    this.samples++;
  }

  /**
   * Adds the samples of another fusion (the same person seen on another track: a resumed visit), so the
   * labels are fused over both segments. The published labels change only through the usual hysteresis.
   */
  merge(other: AttributeFusion, ts: number): void {
    for (const [task, o] of other.tasks) {
      const s = this.state(task);
      o.sums.forEach((v, i) => {
        s.sums[i]! += v;
      });
      s.weight += o.weight;
      if (s.candidate !== null) s.candidateSamples += other.samples;
      this.review(s, ts);
    }
    this.yearsSum += other.yearsSum;
    this.yearsWeight += other.yearsWeight;
    this.samples += other.samples;
  }

  private state(task: Task): TaskState {
    let s = this.tasks.get(task);
    if (!s) {
      s = { sums: new Float64Array(CONTRACT_LABELS[task].length), weight: 0, published: null, candidate: null, candidateSince: 0, candidateSamples: 0 };
      this.tasks.set(task, s);
    }
    return s;
  }

  /** Re-checks pending label changes as time passes; true when a published label changed. */
  tick(ts: number): boolean {
    let changed = false;
    for (const s of this.tasks.values()) changed = this.review(s, ts) || changed;
    return changed;
  }

  private fused(s: TaskState): Float64Array {
    return s.sums.map((v) => v / s.weight);
  }

  private review(s: TaskState, ts: number): boolean {
    const probs = this.fused(s);
    let top = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[top]!) top = i;
    if (s.published === null) {
      s.published = top;
      return false;
    }
    if (top === s.published || probs[top]! - probs[s.published]! < this.opts.margin) {
      s.candidate = null;
      return false;
    }
    if (s.candidate !== top) {
      s.candidate = top;
      s.candidateSince = ts;
      s.candidateSamples = 0;
      return false;
    }
    if (ts - s.candidateSince >= this.opts.minDurationMs && s.candidateSamples >= this.opts.minSamples) {
      s.published = top;
      s.candidate = null;
      return true;
    }
    return false;
  }

  /** The published labels with the fused probabilities. */
  attributes(): Partial<Record<Task, Prediction & { years?: number }>> {
    const out: Partial<Record<Task, Prediction & { years?: number }>> = {};
    for (const [task, s] of this.tasks) {
      const probs = this.fused(s);
      const pred: Prediction & { years?: number } = toPrediction(task, probs);
      const label = CONTRACT_LABELS[task][s.published!]!;
      pred.label = label;
      pred.p = probs[s.published!]!;
      if (task === 'age' && this.yearsWeight) pred.years = Math.round((this.yearsSum / this.yearsWeight) * 10) / 10;
      out[task] = pred;
    }
    return out;
  }

  /** Published label per task (for change detection). */
  labels(): Partial<Record<Task, string>> {
    const out: Partial<Record<Task, string>> = {};
    for (const [task, s] of this.tasks) out[task] = CONTRACT_LABELS[task][s.published!];
    return out;
  }
}
