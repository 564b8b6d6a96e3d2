// A faces-per-second limit (token bucket) on classified faces, so the classifier's share of the device holds
// whatever the model's speed and however many people are in view.
export class FacesPerSecondLimit {
  private tokens: number;
  private last: number | null = null;

  /** `perSecond` is read on every call, so a changed limit applies at once. */
  constructor(private readonly perSecond: () => number) {
    this.tokens = Math.max(1, perSecond());
  }

  /** Faces that may be classified at time ts (ms). */
  available(ts: number): number {
    const rate = this.perSecond();
    if (this.last !== null) this.tokens = Math.min(Math.max(1, rate), this.tokens + ((ts - this.last) / 1000) * rate);
    this.last = ts;
    return Math.floor(this.tokens);
  }

  spend(n: number): void {
    this.tokens -= n;
  }
}
