/** Next retry delay: exponential from minMs, capped at maxMs, with ±50 % jitter so a fleet does not retry in step. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.min(maxMs, Math.round(base * (0.5 + random())));
}
