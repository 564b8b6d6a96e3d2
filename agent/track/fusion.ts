// Attribute fusion for one visit: quality-weighted averaging of each task's class probabilities over
// the samples so far. What a payload says is always the arg-max of the fused probabilities (a label never
// contradicts its own probabilities); hysteresis decides only WHEN an `updated` event is due — a new
// arg-max must lead the last announced label by a margin, over further samples, for a minimum time — so
// one bad frame never sends an update. The evidence rule says when a task's label is worth announcing.
import { CONTRACT_LABELS, TASKS, toPrediction, type Prediction, type Task } from '../contract/labels.js';
import type { FaceAttributes } from '../classify/classifier.js';

export interface HysteresisOptions {
  /** A new arg-max's fused probability must exceed the announced label's by this much… */
  margin: number;
  /** …for at least this long… */
  minDurationMs: number;
  /** …and over at least this many samples. */
  minSamples: number;
  /** A task's label is confident once this many samples are fused… */
  enterMinSamples: number;
  /** …or its fused probability reaches this (per task: 9 age groups never reach what 2 genders do). */
  enterMinP: Record<Task, number>;
}

interface TaskState {
  sums: Float64Array;
  weight: number;
  /** The label the last event carried; null before the first event. */
  announced: number | null;
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

  /** Adds one classification with weight `quality` (0–1]; true when an `updated` event is due. */
  add(attrs: FaceAttributes, quality: number, ts: number): boolean {
    let due = false;
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
      due = this.review(s, ts) || due;
    }
    this.samples++;
    return due;
  }

  /**
   * Adds the samples of another fusion (the same person seen on another track: a resumed visit), so the
   * labels are fused over both segments. An update is announced only through the usual hysteresis.
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
      s = { sums: new Float64Array(CONTRACT_LABELS[task].length), weight: 0, announced: null, candidate: null, candidateSince: 0, candidateSamples: 0 };
      this.tasks.set(task, s);
    }
    return s;
  }

  /** Re-checks pending label changes as time passes; true when an `updated` event is due. */
  tick(ts: number): boolean {
    let changed = false;
    for (const s of this.tasks.values()) changed = this.review(s, ts) || changed;
    return changed;
  }

  private fused(s: TaskState): Float64Array {
    return s.sums.map((v) => v / s.weight);
  }

  /** Index of the arg-max of `probs` (the task's fused probabilities). */
  private top(probs: Float64Array): number {
    let top = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[top]!) top = i;
    return top;
  }

  private review(s: TaskState, ts: number): boolean {
    if (s.announced === null) return false; // nothing announced yet: the `entered` event will carry the arg-max
    const probs = this.fused(s);
    const top = this.top(probs);
    if (top === s.announced || probs[top]! - probs[s.announced]! < this.opts.margin) {
      s.candidate = null;
      return false;
    }
    if (s.candidate !== top) {
      s.candidate = top;
      s.candidateSince = ts;
      s.candidateSamples = 0;
      return false;
    }
    return ts - s.candidateSince >= this.opts.minDurationMs && s.candidateSamples >= this.opts.minSamples;
  }

  /** An event is about to carry the current labels: later updates are judged against them. */
  announce(): void {
    for (const s of this.tasks.values()) {
      s.announced = this.top(this.fused(s));
      s.candidate = null;
    }
  }

  /** Every task known so far has enough evidence (samples, or a fused probability) to be announced. */
  confident(): boolean {
    return [...this.tasks.entries()].every(([task, s]) => this.isConfident(task, s));
  }

  private isConfident(task: Task, s: TaskState): boolean {
    if (this.samples >= this.opts.enterMinSamples) return true;
    const probs = this.fused(s);
    return probs[this.top(probs)]! >= (this.opts.enterMinP[task] ?? 0);
  }

  /** The arg-max label of each task with the fused probabilities, and whether it has the evidence to be trusted. */
  attributes(): Partial<Record<Task, Prediction & { years?: number; confident: boolean }>> {
    const out: Partial<Record<Task, Prediction & { years?: number; confident: boolean }>> = {};
    for (const [task, s] of this.tasks) {
      const pred: Prediction & { years?: number; confident: boolean } = { ...toPrediction(task, this.fused(s)), confident: this.isConfident(task, s) };
      if (task === 'age' && this.yearsWeight) pred.years = Math.round((this.yearsSum / this.yearsWeight) * 10) / 10;
      out[task] = pred;
    }
    return out;
  }

  /** The arg-max label per task. */
  labels(): Partial<Record<Task, string>> {
    const out: Partial<Record<Task, string>> = {};
    for (const [task, s] of this.tasks) out[task] = CONTRACT_LABELS[task][this.top(this.fused(s))];
    return out;
  }
}
