// The one way a test waits: poll for the thing it needs, with a generous deadline, never a fixed sleep
// standing in for an event.
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Maybe<T> = T | undefined | null | false;

export interface WaitOptions {
  /** Added to the error when the wait fails (a process's stderr, what arrived so far). */
  detail?: () => string;
  /** A reason to stop waiting at once (the process exited): the error says it instead of waiting out the deadline. */
  giveUp?: () => string | false | undefined;
  /** How often to look, in ms (50). */
  every?: number;
}

/**
 * Polls `get` until it returns a value (undefined, null and false mean "not yet"; it may be async);
 * throws naming `what` after `ms`.
 */
export async function waitFor<T>(get: () => Maybe<T> | Promise<Maybe<T>>, ms: number, what: string, opts: WaitOptions = {}): Promise<T> {
  const end = Date.now() + ms;
  const fail = (why: string) => new Error(`${why} waiting for ${what}${opts.detail ? `:\n${opts.detail()}` : ''}`);
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== null && v !== false) return v;
    const stop = opts.giveUp?.();
    if (stop) throw fail(stop);
    if (Date.now() > end) throw fail('timed out');
    await sleep(opts.every ?? 50);
  }
}
