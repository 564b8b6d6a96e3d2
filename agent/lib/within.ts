/**
 * Waits for `p` at most `ms`; resolves to `timedOut` when the time runs out (p is left to settle on its own).
 * Stop paths use it so that an unanswered QoS 1 publish or a half-open socket can never hold a shutdown.
 */
export async function within<T, U>(ms: number, p: Promise<T>, timedOut: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}
