// Accuracy figures for one task from (truth, prediction) pairs, with seeded bootstrap intervals. Pairs are
// kept as small int arrays (one byte each, plus a group index), so 100k images take a few hundred kB and
// the figures never need the images or the model again. A prediction of -1 is "no answer" (no face
// found with --detect): it counts as wrong and is left out of the confusion matrix's columns.
import { seededRandom } from '../../lib/seeded-random.js';

/** Growable Int16 column: appending never copies more than the doubling does. */
class Column {
  data = new Int16Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int16Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface TaskFigures {
  task: string;
  labels: readonly string[];
  n: number;
  noAnswer: number;
  accuracy: Interval;
  balancedAccuracy: Interval;
  /** Age only: prediction within one group of the truth. */
  withinOne?: Interval;
  recall: Record<string, Interval>;
  /** confusion[truth][prediction], counts. */
  confusion: number[][];
  groups: Record<string, { n: number; accuracy: Interval }>;
  /** --compare: B minus A, paired on the same images. */
  compare?: { accuracy: Interval; balancedAccuracy: Interval; withinOne?: Interval; b: Omit<TaskFigures, 'compare'> };
}

export { seededRandom };
interface Point {
  accuracy: number;
  balanced: number;
  withinOne: number;
  recall: number[];
  group: number[];
  confusion: number[][];
}

export class TaskAccumulator {
  private readonly truth = new Column();
  private readonly predA = new Column();
  private readonly predB = new Column();
  private readonly group = new Column();
  private readonly groupNames: string[] = [];
  private readonly groupIndex = new Map<string, number>();

  constructor(
    readonly task: string,
    readonly labels: readonly string[],
    private readonly ordinal = false,
  ) {}

  get size(): number {
    return this.truth.length;
  }

  /** truth and predictions are indices into `labels` (-1: no answer); group is e.g. "Black Female". */
  add(truth: number, predA: number, group?: string, predB = -1): void {
    if (truth < 0 || truth >= this.labels.length) throw new RangeError(`${this.task}: truth index ${truth} is outside 0..${this.labels.length - 1}`);
    this.truth.push(truth);
    this.predA.push(predA);
    this.predB.push(predB);
    let g = -1;
    if (group !== undefined) {
      g = this.groupIndex.get(group) ?? -1;
      if (g < 0) {
        g = this.groupNames.push(group) - 1;
        this.groupIndex.set(group, g);
      }
    }
    this.group.push(g);
  }

  /** Figures for model A (and the paired difference to B when `compared`), intervals from `resamples` bootstrap draws. */
  figures(opts: { resamples?: number; seed?: number; compared?: boolean } = {}): TaskFigures {
    const resamples = opts.resamples ?? 1000;
    const n = this.size;
    const identity = (i: number) => i;
    const pointA = this.point(this.predA.data, n, identity);
    const pointB = opts.compared ? this.point(this.predB.data, n, identity) : undefined;
    const drawsA: Point[] = [];
    const drawsB: Point[] = [];
    const random = seededRandom(opts.seed ?? 1);
    const idx = new Int32Array(n);
    for (let r = 0; r < resamples && n > 0; r++) {
      for (let i = 0; i < n; i++) idx[i] = Math.floor(random() * n);
      const at = (i: number) => idx[i]!;
      drawsA.push(this.point(this.predA.data, n, at));
      if (opts.compared) drawsB.push(this.point(this.predB.data, n, at));
    }
    const a = this.assemble(pointA, drawsA, n, this.predA.data);
    if (!pointB) return a;
    const diff = (f: (p: Point) => number): Interval =>
      interval(
        f(pointB) - f(pointA),
        drawsA.map((d, i) => f(drawsB[i]!) - f(d)),
      );
    return {
      ...a,
      compare: {
        accuracy: diff((p) => p.accuracy),
        balancedAccuracy: diff((p) => p.balanced),
        ...(this.ordinal ? { withinOne: diff((p) => p.withinOne) } : {}),
        b: this.assemble(pointB, drawsB, n, this.predB.data),
      },
    };
  }

  private assemble(point: Point, draws: Point[], n: number, pred: Int16Array): TaskFigures {
    const noAnswer = pred.subarray(0, n).filter((p) => p < 0).length;
    const groupN = this.groupNames.map(() => 0);
    for (const g of this.group.data.subarray(0, n)) if (g >= 0) groupN[g]!++;
    const recall: Record<string, Interval> = {};
    this.labels.forEach((l, k) => {
      if (rowTotal(this.truth.data, n, k) > 0)
        recall[l] = interval(
          point.recall[k]!,
          draws.map((d) => d.recall[k]!).filter((v) => !Number.isNaN(v)),
        );
    });
    const groups: TaskFigures['groups'] = {};
    this.groupNames.forEach((g, j) => {
      groups[g] = {
        n: groupN[j]!,
        accuracy: interval(
          point.group[j]!,
          draws.map((d) => d.group[j]!).filter((v) => !Number.isNaN(v)),
        ),
      };
    });
    return {
      task: this.task,
      labels: this.labels,
      n,
      noAnswer,
      accuracy: interval(
        point.accuracy,
        draws.map((d) => d.accuracy),
      ),
      balancedAccuracy: interval(
        point.balanced,
        draws.map((d) => d.balanced),
      ),
      ...(this.ordinal
        ? {
            withinOne: interval(
              point.withinOne,
              draws.map((d) => d.withinOne),
            ),
          }
        : {}),
      recall,
      confusion: point.confusion,
      groups,
    };
  }

  private point(pred: Int16Array, n: number, at: (i: number) => number): Point {
    const k = this.labels.length;
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const rows = new Array<number>(k).fill(0);
    const gCorrect = this.groupNames.map(() => 0);
    const gTotal = this.groupNames.map(() => 0);
    let correct = 0;
    let near = 0;
    for (let i = 0; i < n; i++) {
      const j = at(i);
      const t = this.truth.data[j]!;
      const p = pred[j]!;
      rows[t]!++;
      if (p >= 0) confusion[t]![p]!++;
      const ok = p === t ? 1 : 0;
      correct += ok;
      if (p >= 0 && Math.abs(p - t) <= 1) near++;
      const g = this.group.data[j]!;
      if (g >= 0) {
        gTotal[g]!++;
        gCorrect[g]! += ok;
      }
    }
    const recall = rows.map((r, c) => (r ? confusion[c]![c]! / r : NaN));
    const present = recall.filter((v) => !Number.isNaN(v));
    return {
      accuracy: n ? correct / n : NaN,
      balanced: present.length ? present.reduce((s, v) => s + v, 0) / present.length : NaN,
      withinOne: n ? near / n : NaN,
      recall,
      group: gTotal.map((t, g) => (t ? gCorrect[g]! / t : NaN)),
      confusion,
    };
  }
}

function rowTotal(truth: Int16Array, n: number, k: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (truth[i] === k) c++;
  return c;
}

/** The 2.5th and 97.5th percentiles of the draws around `value` (NaN bounds when there are no draws). */
export function interval(value: number, draws: number[]): Interval {
  if (!draws.length) return { value, lo: NaN, hi: NaN };
  const s = [...draws].sort((x, y) => x - y);
  const q = (f: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(f * (s.length - 1))))]!;
  return { value, lo: q(0.025), hi: q(0.975) };
}
