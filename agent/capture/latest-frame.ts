// "Latest frame wins": capture runs at the source's pace; the pipeline takes the newest frame whenever
// it is ready for one, and every frame overwritten before it was taken is counted as dropped.
import type { Frame } from './frame.js';

export class LatestFrame {
  private latest: Frame | null = null;
  private waiter: ((f: Frame | null) => void) | null = null;
  private ended = false;
  dropped = 0;
  captured = 0;
  error: Error | null = null;

  constructor(private readonly frames: AsyncGenerator<Frame>) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for await (const frame of this.frames) {
        this.captured++;
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(frame);
        } else {
          if (this.latest) this.dropped++;
          this.latest = frame;
        }
      }
    } catch (err) {
      this.error = err as Error;
    } finally {
      this.ended = true;
      if (this.waiter) this.waiter(this.latest);
      this.waiter = null;
    }
  }

  /** The newest frame not yet taken; null once the source has ended and nothing is left. */
  next(): Promise<Frame | null> {
    if (this.latest) {
      const f = this.latest;
      this.latest = null;
      return Promise.resolve(f);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Frame> {
    for (;;) {
      const f = await this.next();
      if (!f) return;
      yield f;
    }
  }
}
