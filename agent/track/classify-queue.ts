// Classification requests wait here while the classifier is busy. Bounded: when full, the request of
// the lowest priority goes (a visit that already has the most samples, then the one waiting longest) and
// is counted, so a slow model never grows memory and new visitors are classified first.
export interface QueueItem {
  samples: number;
}

export class ClassificationQueue<T extends QueueItem> {
  private readonly items = new Map<T, number>();
  private seq = 0;
  dropped = 0;
  maxDepth = 0;

  constructor(readonly capacity: number) {}

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
        return;
      }
      this.items.delete(worst);
      this.dropped++;
    }
    this.items.set(item, this.seq++);
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
    return out;
  }

  /** Requests for which `wanted` is false are removed (e.g. visits that ended). */
  prune(wanted: (item: T) => boolean): void {
    for (const item of this.items.keys()) if (!wanted(item)) this.items.delete(item);
  }
}
