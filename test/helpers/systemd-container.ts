// Boots a cached Debian root under systemd-nspawn with a real systemd as PID 1 and talks to it with
// nsenter. The host has no systemd as PID 1, hence --register=no --keep-unit (no machined, so no
// `machinectl`/`systemd-run -M`). The root is mounted with --volatile=overlay: every change lands on a
// tmpfs and is gone at power-off, so the cached root stays pristine and each run starts from it.
// The container shares the host's network: a broker started by the test on 127.0.0.1 is reachable.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { sleep } from './wait.js';

export interface Bind {
  host: string;
  /** Path inside the container; the host path when omitted. */
  at?: string;
  readOnly?: boolean;
}

export interface ExecResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Container {
  /** PID 1 of the container, as the host sees it. */
  pid: number;
  bootMs: number;
  /** Runs a command inside the container (all its namespaces, its root). */
  exec(args: string[], opts?: { input?: string; timeoutMs?: number }): ExecResult;
  /** Like exec, but throws with the output when the command fails. */
  sh(script: string, timeoutMs?: number): string;
  /** The host path of a file inside the container (through /proc/PID/root). */
  path(p: string): string;
  /** The host PID of a process known inside the container by `inner` (its PID namespace). */
  hostPid(inner: number): number;
  /** Powers the container off (SIGTERM to nspawn: an orderly shutdown), SIGKILL after 30 s. */
  stop(): Promise<void>;
  /** What nspawn printed. */
  log(): string;
}

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The descendant of nspawn that is PID 1 in its own PID namespace. */
function findInit(nspawn: number): number | null {
  const queue = [nspawn];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of children(p)) {
      const nspid = /^NSpid:\s+(.+)$/m
        .exec(readFileSync(`/proc/${c}/status`, 'utf8'))?.[1]
        ?.trim()
        .split(/\s+/);
      if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') return c;
      queue.push(c);
    }
  }
  return null;
}

export async function bootContainer(root: string, binds: Bind[], timeoutMs = 120_000): Promise<Container> {
  const t0 = Date.now();
  const args = [
    '-q',
    '--register=no',
    '--keep-unit',
    '--volatile=overlay',
    '--console=pipe',
    '-D',
    root,
    '-b',
    ...binds.map((b) => `--bind${b.readOnly ? '-ro' : ''}=${b.host}:${b.at ?? b.host}`),
  ];
  const nspawn: ChildProcess = spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  nspawn.stdout!.on('data', (d) => {
    out += String(d);
  });
  nspawn.stderr!.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<void>((resolve) => nspawn.once('exit', () => resolve()));
  let pid: number | null = null;
  const stop = async () => {
    if (nspawn.exitCode !== null || nspawn.signalCode !== null) return;
    nspawn.kill('SIGTERM');
    const killer = setTimeout(() => nspawn.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    while (pid === null) {
      if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited (${nspawn.exitCode}):\n${out}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no container PID 1 after ${timeoutMs} ms:\n${out}`);
      pid = findInit(nspawn.pid!);
      if (pid === null) await sleep(50);
    }
    const inside = (a: string[], opts: { input?: string; timeoutMs?: number } = {}): ExecResult => {
      const r = spawnSync('nsenter', ['-t', String(pid), '-a', '-r', '-w', ...a], {
        encoding: 'utf8',
        input: opts.input,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
        env: {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          SYSTEMD_PAGER: '',
          SYSTEMD_COLORS: '0',
          LANG: 'C.UTF-8',
        },
      });
      return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
    };
    // is-system-running --wait returns once boot is done: "running", or "degraded" if a unit failed.
    for (;;) {
      const r = inside(['systemctl', 'is-system-running', '--wait'], { timeoutMs: timeoutMs });
      if (/^(running|degraded)/.test(r.stdout)) break;
      if (Date.now() - t0 > timeoutMs) throw new Error(`container did not finish booting: ${r.stdout}${r.stderr}\n${out}`);
      await sleep(200);
    }
    const bootMs = Date.now() - t0;
    const pidNs = readlinkSync(`/proc/${pid}/ns/pid`);
    return {
      pid,
      bootMs,
      exec: inside,
      sh(script, ms) {
        const r = inside(['/bin/sh', '-c', script], { timeoutMs: ms });
        if (r.status !== 0) throw new Error(`in the container, "${script}" failed (${r.status}):\n${r.stdout}${r.stderr}`);
        return r.stdout;
      },
      path: (p) => `/proc/${pid}/root${p}`,
      hostPid(inner) {
        for (const e of readdirSync('/proc')) {
          if (!/^\d+$/.test(e)) continue;
          try {
            if (readlinkSync(`/proc/${e}/ns/pid`) !== pidNs) continue;
            const nspid = /^NSpid:\s+(.+)$/m
              .exec(readFileSync(`/proc/${e}/status`, 'utf8'))?.[1]
              ?.trim()
              .split(/\s+/);
            if (nspid && Number(nspid[nspid.length - 1]) === inner) return Number(e);
          } catch {
            /* the process ended while we looked */
          }
        }
        throw new Error(`no host process for PID ${inner} of the container`);
      },
      stop,
      log: () => out,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
