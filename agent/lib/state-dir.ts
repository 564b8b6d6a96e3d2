// The state directory: where it is by default and whether it can be written. Checked at start, before any
// frame is processed, so a directory that can never work is one clear line and exit 73 (EX_CANTCREAT), not
// an EACCES at the first event. Who owns it: lib/instance-lock.ts.
import { accessSync, constants, mkdirSync, openSync, unlinkSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CANTCREAT } from './exit-codes.js';

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
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.replace(/:.*/s, ''); // the first of a colon-separated list
  if (uid === 0) return SYSTEM_STATE_DIR;
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(base, 'percept');
}

/** Write failures that come and go (a full disk, a quota, a flaky medium): the agent runs degraded and retries. */
const TRANSIENT = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY']);

/**
 * Creates the directory if needed and proves it can be written. A directory that can never work
 * (permissions, read-only, not a directory) throws StateDirError (exit 73, which systemd does not
 * restart). A write that fails for a reason that can pass (ENOSPC, EDQUOT, EIO…) does not stop the agent:
 * the reason is returned, the agent runs degraded (events held in memory, retried) as when the disk fills
 * while it runs — a kiosk whose disk filled overnight must come back after a reboot. Null: all is well.
 */
export function checkStateDir(dir: string): string | null {
  const fix = 'pass --state-dir DIR (or set state.dir) to a directory this user can write';
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    try {
      const fd = openSync(probe, 'w');
      try {
        writeSync(fd, 'ok');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } finally {
      try {
        unlinkSync(probe);
      } catch {
        /* never created */
      }
    }
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && TRANSIENT.has(e.code)) return `state directory ${dir} cannot be written (${e.code}); running degraded, retried`;
    throw new StateDirError(`state directory ${dir} cannot be written (${e.code ?? e.message}); ${fix}`);
  }
}
