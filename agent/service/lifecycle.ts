// Start in order, stop in reverse: each started part registers how it stops, and stopping runs every
// registered stop even when one fails (logged), so a failed start-up releases what it had taken.
import type { Logger } from '../lib/logging.js';

export class Lifecycle {
  private readonly stops: { name: string; stop: () => unknown }[] = [];

  constructor(private readonly log: Logger) {}

  /** Runs a start step; its stop runs at shutdown (in reverse order of registration). */
  async step<T>(name: string, start: () => T | Promise<T>, stop?: (value: T) => unknown): Promise<T> {
    const value = await start();
    if (stop) this.stops.push({ name, stop: () => stop(value) });
    return value;
  }

  async stopAll(): Promise<void> {
    while (this.stops.length) {
      const { name, stop } = this.stops.pop()!;
      try {
        await stop();
      } catch (err) {
        this.log.warn(`stopping ${name}: ${(err as Error).message}`);
      }
    }
  }
}
