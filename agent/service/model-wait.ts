// A model directory that is not there yet (a volume mounted late, models copied after the package) is
// waited for at start with growing delays, saying so; a model that is there but wrong (sha256, manifest,
// graph) still ends the start with exit 65: waiting would not fix it.
import { ModelError } from '../inference/manifest.js';
import { backoffDelay } from '../lib/backoff.js';
import type { Logger } from '../lib/logging.js';
import type { Config } from '../config/schema.js';

/** A stop requested while the start was still waiting: not a failure. */
export class StartAborted extends Error {
  /** `before`: the start step that was not begun because of the stop. */
  constructor(before?: string) {
    super(before ? `stopped during start-up, before ${before}` : 'stopped while waiting at start');
    this.name = 'StartAborted';
  }
}

/** Only "no model.json in DIR" (the directory or its manifest absent) is waited for. */
export function isMissingModel(err: unknown): err is ModelError {
  return err instanceof ModelError && err.problems.length > 0 && err.problems.every((p) => p.startsWith('no model.json in '));
}

export interface WaitOptions {
  /** Delays as a live source's reconnects: source.reconnectMinMs … reconnectMaxMs. */
  config: Pick<Config, 'source'>;
  log: Logger;
  /** Told before every wait: what is missing and when the next try is (a status for systemd, not a log: `log` gets the warning). */
  onWait?: (detail: string) => void;
  signal: AbortSignal;
}

export async function openWhenPresent<T>(open: () => Promise<T>, opts: WaitOptions): Promise<T> {
  const { reconnectMinMs: minMs, reconnectMaxMs: maxMs } = opts.config.source;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal.aborted) throw new StartAborted();
    try {
      return await open();
    } catch (err) {
      if (!isMissingModel(err)) throw err;
      const delay = backoffDelay(attempt, minMs, Math.max(minMs, maxMs));
      const detail = `${err.message}; waiting for it (next try in ${Math.round(delay / 100) / 10} s, attempt ${attempt})`;
      opts.log.warn(detail);
      opts.onWait?.(detail);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          opts.signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, delay);
        opts.signal.addEventListener('abort', done);
      });
    }
  }
}
