// Start in order, stop in reverse: each started part registers how it stops, and stopping runs every
// registered stop even when one fails (logged), so a failed start-up releases what it had taken.
import type { Logger } from '../lib/logging.js';
import { StartAborted } from './model-wait.js';

export class Lifecycle {
  private readonly stops: { name: string; stop: () => unknown }[] = [];

  /** `abort`: a stop asked during start-up; the next step is then not begun (StartAborted). */
  constructor(
    private readonly log: Logger,
    private readonly abort?: AbortSignal,
  ) {}

  /**
   * Runs a start step; its stop runs at shutdown (in reverse order of registration). After a stop was
   * asked (Ctrl-C while models load) no further step begins: a start that is being stopped never reaches
   * the publisher, so it never announces a retained "online".
   */
  async step<T>(name: string, start: () => T | Promise<T>, stop?: (value: T) => unknown): Promise<T> {
    if (this.abort?.aborted) throw new StartAborted(name);
    const value = await start();
    if (stop) this.stops.push({ name, stop: () => stop(value) });
    return value;
  }

  /**
   * Parts that start in order but stop together: each may wait (bounded) on its last publishes, and with a
   * broker that stopped answering those waits must overlap, not add up past the stop's grace. Their stops
   * are still called in reverse order: the synchronous part of one (a play ended, its impression emitted)
   * reaches parts started before it (the daily summary) before they begin theirs.
   */
  async group(name: string, parts: readonly { name: string; start(): unknown; stop(): unknown }[]): Promise<void> {
    const started: (typeof parts)[number][] = [];
    await this.step(
      name,
      () => undefined,
      () =>
        Promise.all(
          [...started].reverse().map((p) =>
            Promise.resolve()
              .then(() => p.stop())
              .catch((err: unknown) => this.log.warn(`stopping ${name.replace(/s$/, '')} ${p.name}: ${(err as Error).message}`)),
          ),
        ),
    );
    for (const p of parts) {
      await p.start();
      started.push(p);
    }
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
