// The state directory: where it is by default, whether it can be written, and who owns it. Checked at
// start, before any frame is processed, so a bad directory is one clear line and exit 73 (EX_CANTCREAT),
// not an EACCES at the first event.
import { accessSync, constants, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fsyncDir, writeDurable } from './durable.js';

export const EXIT_CANTCREAT = 73;

/** The state directory cannot be used: exit 73 at start. */
export class StateDirError extends Error {
  readonly exitCode = EXIT_CANTCREAT;
}

export const SYSTEM_STATE_DIR = '/var/lib/percept';

/**
 * Where state lives when the config names none: the system directory for root (and for a service, which
 * systemd's StateDirectory= points at via $STATE_DIRECTORY), else the user's `$XDG_STATE_HOME/percept`
 * (or `~/.local/state/percept`), so `percept run` works for a normal user.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0, home = homedir()): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!;
  if (uid === 0) return SYSTEM_STATE_DIR;
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(base, 'percept');
}

/** Creates the directory if needed and proves it can be written; throws StateDirError with the fix. */
export function checkStateDir(dir: string): void {
  const fix = 'pass --state-dir DIR (or set state.dir) to a directory this user can write';
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'ok');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StateDirError(`state directory ${dir} cannot be written (${e.code ?? e.message}); ${fix}`);
  }
}

/** True when `pid` is a running process that could be a percept agent (a reused pid of another program is not). */
export function isLiveAgent(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|percept/.test(cmdline);
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** The pid of the agent holding the state directory, or null when none runs there. */
export function agentPid(dir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dir, 'percept.lock'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return isLiveAgent(pid) ? pid : null;
}

export interface StateDirLock {
  readonly path: string;
  release(): void;
}

/**
 * One agent per state directory: a lock file holding the owner's pid. Node has no flock(2) without a
 * native addon, so a lock whose pid is dead (or is this very process after a restart in a container, or
 * a pid reused by another program) is stale and taken over.
 */
export function lockStateDir(dir: string, pid = process.pid, log: (m: string) => void = () => undefined): StateDirLock {
  const path = join(dir, 'percept.lock');
  const owned = (): StateDirLock => ({
    path,
    release: () => {
      try {
        if (Number(readFileSync(path, 'utf8').trim()) === pid) unlinkSync(path);
      } catch {
        /* gone already */
      }
    },
  });
  try {
    const fd = openSync(path, 'wx');
    try {
      writeSync(fd, `${pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDir(dir);
    return owned();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new StateDirError(`state directory ${dir}: cannot create its lock ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  let other = NaN;
  try {
    other = Number(readFileSync(path, 'utf8').trim());
  } catch {
    /* unreadable: stale */
  }
  if (other !== pid && isLiveAgent(other)) {
    throw new StateDirError(`state directory ${dir} is in use by another percept agent (pid ${other}, lock ${path}); give each agent its own --state-dir`);
  }
  log(`state directory ${dir}: taking over the stale lock of ${Number.isNaN(other) ? 'an unreadable owner' : `pid ${other}`}`);
  writeDurable(path, `${pid}\n`);
  return owned();
}
