// One agent per state directory, held by a lock the kernel releases when its holder dies: a Linux
// abstract-namespace unix socket named after the directory. Binding it is atomic (EADDRINUSE: someone holds
// it); it needs no file, so a power cut leaves nothing stale behind, and it works where a pid cannot be
// inspected (ProtectProc=invisible, DynamicUser) or is reused by another program. Node has no flock(2)
// without a native addon; this needs none, and the shipped unit's RestrictAddressFamilies allows AF_UNIX.
//
// Limit: abstract socket names are per network namespace. Two agents in different network namespaces
// (containers without a shared network) sharing one state directory on a common volume do not see each
// other's lock; give each container its own state directory.
//
// `percept.lock` still receives the holder's pid, for humans only: nothing trusts it.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { StateDirError } from './state-dir.js';
import { silentLogger, type Logger } from './logging.js';

export const LOCK_FILE = 'percept.lock';

/**
 * The directory's identity: its real path (symlinks resolved), computed from the nearest existing
 * ancestor so that it is the same before and after the directory is created. Two bind mounts of one
 * directory count as two directories (a dev:inode name would not, but would change when the directory
 * is created late, e.g. on a disk that was full at start).
 */
function identity(dir: string): string {
  let head = resolve(dir);
  const tail: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(dir);
      tail.unshift(basename(head));
      head = parent;
    }
  }
}

/** The abstract socket name locking `dir` ('\0' first: Linux's abstract namespace, never a file). */
export function lockName(dir: string): string {
  return `\0percept-lock-${createHash('sha256').update(identity(dir)).digest('hex').slice(0, 32)}`;
}

export interface InstanceLock {
  readonly dir: string;
  release(): Promise<void>;
}

/** Asks the holder of `dir`'s lock for its pid: the pid, 0 when it holds it but said nothing usable, null when nobody holds it. */
export function lockHolder(dir: string, timeoutMs = 1000): Promise<number | null> {
  return new Promise((res) => {
    const sock = connect({ path: lockName(dir) });
    let text = '';
    const done = (v: number | null) => {
      clearTimeout(timer);
      sock.destroy();
      res(v);
    };
    const timer = setTimeout(() => done(0), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      if (text.length > 200) done(0);
    });
    sock.on('end', () => {
      const pid = Number((/^percept (\d+)\n/.exec(text) ?? [])[1]);
      done(Number.isSafeInteger(pid) && pid > 0 ? pid : 0);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? null : 0));
  });
}

function filePid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, LOCK_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Takes `dir`'s lock, or throws StateDirError (exit 73) naming the holder's pid (as the holder states it
 * over the socket, else as percept.lock says — information only). The lock file is written best-effort:
 * a full disk must not stop the agent (see checkStateDir).
 */
export async function acquireInstanceLock(dir: string, pid = process.pid, log: Logger = silentLogger): Promise<InstanceLock> {
  const name = lockName(dir);
  // Whoever connects learns the holder's pid and nothing else; the line is written and the socket closed.
  const server: Server = createServer((c) => c.end(`percept ${pid}\n`));
  server.maxConnections = 8;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen({ path: name }, () => {
      server.off('error', rej);
      res();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw new StateDirError(`state directory ${dir}: cannot take its lock (${err.code ?? err.message})`);
    const holder = await lockHolder(dir);
    const fromFile = filePid(dir);
    const who = holder ? `pid ${holder}` : fromFile ? `pid ${fromFile} according to ${join(dir, LOCK_FILE)}` : 'a process that did not give its pid';
    throw new StateDirError(`state directory ${dir} is in use by another percept agent (${who}); give each agent its own --state-dir`);
  });
  server.unref(); // the lock never keeps the process alive
  server.on('error', (err) => log.warn(`state directory lock: ${err.message}`));
  const file = join(dir, LOCK_FILE);
  const stale = filePid(dir);
  if (stale !== null && stale !== pid) log.warn(`state directory ${dir}: ${LOCK_FILE} named pid ${stale}, which no longer holds the lock; ignored`);
  try {
    writeFileSync(file, `${pid}\n`);
  } catch (err) {
    log.warn(`cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it only informs humans, the lock holds`);
  }
  return {
    dir,
    release: async () => {
      if (filePid(dir) === pid)
        try {
          unlinkSync(file);
        } catch {
          /* gone already */
        }
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
