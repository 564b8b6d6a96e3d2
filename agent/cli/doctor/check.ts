// What one doctor check is and how they are run: each check is a small async function with its own
// deadline and an AbortSignal, so one that hangs (a dead NFS mount, a broker that never answers, a
// provider library stuck in its constructor) becomes a failed line, not a hung installer.
import { within } from '../../lib/within.js';

/**
 * ok: works. warn: something an installer should know that the configuration does not need (no GPU when
 * only cpu is asked for, no camera when the source is a file). fail: something the configuration asks for
 * does not work — any fail makes the exit code 1. skip: does not apply on this machine.
 */
export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Result {
  status: Status;
  detail: string;
  /** What to do about it; every warn and fail line has one (a skip, when there is something to do). */
  fix?: string;
}

export interface Check {
  /** Stable id, e.g. "provider.cuda" (the JSON output and tests key on it). */
  id: string;
  timeoutMs: number;
  run: (signal: AbortSignal) => Promise<Result>;
}

export interface Line extends Result {
  id: string;
  ms: number;
}

export const ok = (detail: string): Result => ({ status: 'ok', detail });
export const warn = (detail: string, fix: string): Result => ({ status: 'warn', detail, fix });
export const fail = (detail: string, fix: string): Result => ({ status: 'fail', detail, fix });
export const skip = (detail: string, fix?: string): Result => ({ status: 'skip', detail, ...(fix ? { fix } : {}) });

const TIMED_OUT = Symbol('timed out');

/** Runs one check under its deadline; a throw or a timeout is a fail naming it. */
export async function runCheck(check: Check): Promise<Line> {
  const t0 = performance.now();
  const abort = new AbortController();
  const attempt = check
    .run(abort.signal)
    .catch((err: unknown): Result =>
      fail(`the check itself failed: ${(err as Error).message ?? String(err)}`, 'report this as a percept bug, with the line above'),
    );
  const r = await within(check.timeoutMs, attempt, TIMED_OUT);
  // Aborting lets the check end what it started (a child process, a socket), so nothing keeps doctor alive.
  abort.abort();
  const result =
    r === TIMED_OUT
      ? fail(
          `no answer within ${check.timeoutMs / 1000} s (abandoned)`,
          'something on this machine hangs: run the check by hand (docs/install-kiosk.md, step 6)',
        )
      : r;
  return { id: check.id, ...result, ms: Math.round(performance.now() - t0) };
}

/**
 * Two at a time, in the order given: the checks that start a process to load a model or a provider would
 * only slow each other beyond that on a small board. The lines come back in the checks' order.
 */
export async function runChecks(checks: Check[], concurrency = 2): Promise<Line[]> {
  const lines: Line[] = new Array(checks.length);
  // One iterator shared by the workers: each takes the next check when it is free.
  const queue = checks.entries();
  const worker = async () => {
    for (const [i, check] of queue) lines[i] = await runCheck(check);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, checks.length) }, worker));
  return lines;
}

export const exitCodeOf = (lines: Line[]): number => (lines.some((l) => l.status === 'fail') ? 1 : 0);
