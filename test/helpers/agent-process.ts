// Runs the real `percept` command as a child process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './models.js';
import { waitFor } from './wait.js';

export const PERCEPT_BIN = join(PACKAGE_ROOT, 'bin/percept.js');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runPercept(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PERCEPT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`percept ${args.join(' ')} timed out; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Running {
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stderr match of `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function startPercept(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [PERCEPT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, timeoutMs = 60_000) =>
      waitFor(() => err.match(re), timeoutMs, String(re), {
        detail: () => err,
        giveUp: () => child.exitCode !== null && `percept exited (${child.exitCode})`,
      }),
  };
}
