// Classification requests wait here while the classifier is busy. Bounded: when full, the request of
// the lowest priority goes (a visit that already has the most samples, then the one waiting longest) and
// is counted, so a slow model never grows memory and new visitors are classified first.
export interface QueueItem {
  samples: number;
  /** Names the request in debug lines (a visit's person id). */
  person?: string;
}

import { silentLogger, type Logger } from '../lib/logging.js';

const name = (item: QueueItem) => (item.person ? item.person.slice(0, 8) : 'a request');

export class ClassificationQueue<T extends QueueItem> {
  private readonly items = new Map<T, number>();
  private seq = 0;
  dropped = 0;
  maxDepth = 0;

  constructor(
    readonly capacity: number,
    /** Debug lines: each request queued, dropped (and why) and taken (the classify log namespace). */
    private readonly log: Logger = silentLogger,
  ) {}

  get depth(): number {
    return this.items.size;
  }

  /** Lower sorts first: fewer samples, then older requests. */
  private rank(item: T): [number, number] {
    return [item.samples, this.items.get(item) ?? this.seq];
  }

  private worst(): T | undefined {
    let worst: T | undefined;
    for (const item of this.items.keys()) {
      if (!worst) {
        worst = item;
        continue;
      }
      const [s, t] = this.rank(item);
      const [ws, wt] = this.rank(worst);
      if (s > ws || (s === ws && t < wt)) worst = item;
    }
    return worst;
  }

  offer(item: T): void {
    if (this.items.has(item)) return;
    if (this.items.size >= this.capacity) {
      const worst = this.worst()!;
      if (item.samples >= worst.samples) {
        this.dropped++;
        this.log.debug(
          `classification of ${name(item)} skipped: the queue is full (classifier.queueSize ${this.capacity}) with visits that have fewer samples`,
        );
        return;
      }
      this.items.delete(worst);
      this.dropped++;
      this.log.debug(`classification of ${name(worst)} dropped for ${name(item)} (fewer samples): the queue is full (classifier.queueSize ${this.capacity})`);
    }
    this.items.set(item, this.seq++);
    this.log.debug(`classification of ${name(item)} queued (${item.samples} sample(s) so far; ${this.items.size} waiting)`);
    this.maxDepth = Math.max(this.maxDepth, this.items.size);
  }

  /** Up to n requests that `usable` accepts now, best first; the others stay queued. */
  take(n: number, usable: (item: T) => boolean): T[] {
    const sorted = [...this.items.keys()].sort((a, b) => {
      const [sa, ta] = this.rank(a);
      const [sb, tb] = this.rank(b);
      return sa - sb || ta - tb;
    });
    const out: T[] = [];
    for (const item of sorted) {
      if (out.length >= n) break;
      if (!usable(item)) continue;
      this.items.delete(item);
      out.push(item);
    }
    if (out.length) {
      const waiting = sorted.length - out.length;
      this.log.debug(
        `classifying ${out.map(name).join(', ')} (at most ${n} now: batch and per-second budget); ${waiting} still waiting for a usable crop or a turn`,
      );
    }
    return out;
  }

  /** Requests for which `wanted` is false are removed (e.g. visits that ended). */
  prune(wanted: (item: T) => boolean): void {
    for (const item of this.items.keys()) if (!wanted(item)) this.items.delete(item);
  }
}
