// The one way a test waits: poll for the thing it needs, with a generous deadline, never a fixed sleep
// standing in for an event.
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `get` every 50 ms until it returns a value (undefined, null and false mean "not yet"); throws naming `what` after `ms`. */
export async function waitFor<T>(get: () => T | undefined | null | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
