// Running a tool (v4l2-ctl, timedatectl, systemctl) or doctor's own probe process with a deadline: the
// child is killed (SIGKILL: it may be stuck in native code) at its deadline or when the check is abandoned.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  timedOut: boolean;
}

const MAX_OUTPUT = 1 << 20;

export function runTool(cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (d) => {
      if (stdout.length < MAX_OUTPUT) stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < MAX_OUTPUT) stderr += String(d);
    });
    const done = (r: Omit<Ran, 'stdout' | 'stderr' | 'timedOut'>) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      resolve({ ...r, stdout, stderr, timedOut });
    };
    child.once('error', (err: NodeJS.ErrnoException) => done({ code: null, signal: null, missing: err.code === 'ENOENT' }));
    child.once('close', (code, sig) => done({ code, signal: sig, missing: false }));
  });
}

const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));
export const PROBE_MARK = 'percept-doctor-probe:';

export type ProbeAnswer = { ok: true; [k: string]: unknown } | { ok: false; error: string; [k: string]: unknown };

/**
 * Runs probe.ts in a child process: what it loads (OpenCV, an execution provider's libraries, a model)
 * can crash or hang the process, which must not be doctor's. Its answer is the marked line on stdout; a
 * crash is an answer too, naming the signal and the last thing the child said.
 */
export async function runProbe(args: string[], timeoutMs: number, signal: AbortSignal): Promise<ProbeAnswer & { stderr: string }> {
  const r = await runTool(process.execPath, [PROBE, ...args], timeoutMs, signal, process.env);
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(PROBE_MARK));
  if (line) return { ...(JSON.parse(line.slice(PROBE_MARK.length)) as ProbeAnswer), stderr: r.stderr };
  const last = lastLine(r.stderr);
  const how = r.timedOut ? `did not finish within ${timeoutMs / 1000} s` : r.signal ? `crashed (${r.signal})` : `exited with code ${r.code}`;
  return { ok: false, error: `the probe process ${how}${last ? `: ${last}` : ''}`, stderr: r.stderr };
}

/** The last non-empty line of a tool's output, without terminal colour codes. */
export function lastLine(text: string): string {
  return (
    stripAnsi(text)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  );
}

// eslint-disable-next-line no-control-regex
export const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');
