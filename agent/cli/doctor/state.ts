// The state directory: writable as the agent checks it at start (lib/state-dir.ts), and its free space. A
// directory that does not exist yet is fine when it can be created (the agent, or systemd's
// StateDirectory=, makes it); doctor proves that with a directory it makes and removes at once.
import { mkdtemp, rmdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkStateDir, StateDirError } from '../../lib/state-dir.js';
import { fail, ok, warn, type Check, type Result } from './check.js';

/** Below this the outbox and the overrides file may not fit for long: a warning. */
export const LOW_SPACE_BYTES = 200e6;

const CODES: Record<string, string> = {
  ENOTDIR: 'ENOTDIR, a part of the path is a file',
  EACCES: 'EACCES, permission denied on the way there',
  EROFS: 'EROFS, a read-only filesystem',
  ELOOP: 'ELOOP, a symbolic link loop',
};
const said = (err: NodeJS.ErrnoException) => (err.code ? (CODES[err.code] ?? err.code) : err.message);
const human = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${Math.round(b / 1e6)} MB`);
const FIX = 'set state.dir (or --state-dir) to a directory the agent’s user can write; the service uses /var/lib/percept (systemd creates it)';

async function free(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** The nearest existing ancestor of `dir`, and the reason a directory cannot be made in it (null: it can). */
async function creatable(dir: string): Promise<{ parent: string; why: string | null }> {
  let parent = dirname(dir);
  for (;;) {
    const st = await stat(parent).catch((err: NodeJS.ErrnoException) => err);
    if (!(st instanceof Error)) {
      if (!st.isDirectory()) return { parent, why: `${parent} is not a directory` };
      break;
    }
    if (st.code !== 'ENOENT') return { parent, why: `${parent}: ${said(st)}` };
    if (parent === dirname(parent)) break;
    parent = dirname(parent);
  }
  try {
    await rmdir(await mkdtemp(join(parent, '.percept-doctor-')));
    return { parent, why: null };
  } catch (err) {
    return { parent, why: `nothing can be created in ${parent} (${said(err as NodeJS.ErrnoException)})` };
  }
}

export async function stateResult(dir: string): Promise<Result> {
  const st = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) {
    if (st.code !== 'ENOENT') return fail(`${dir}: ${said(st)}`, FIX);
    const c = await creatable(dir);
    if (c.why) return fail(`${dir} does not exist and cannot be created: ${c.why}`, FIX);
    return warn(`${dir} does not exist yet; the agent creates it at start (${human(await free(c.parent))} free on ${c.parent})`, 'nothing, or create it now');
  }
  if (!st.isDirectory()) return fail(`${dir} is not a directory`, FIX);
  let transient: string | null;
  try {
    transient = checkStateDir(dir); // writes and removes a probe file, as the agent does at start
  } catch (err) {
    if (!(err instanceof StateDirError)) throw err;
    return fail(err.message, FIX);
  }
  const bytes = await free(dir);
  if (transient) return fail(transient, 'free space on that filesystem, or check the medium (dmesg)');
  if (bytes < LOW_SPACE_BYTES)
    return warn(`${dir} writable, only ${human(bytes)} free`, 'free space on that filesystem: the outbox keeps events there while the broker is away');
  return ok(`${dir} writable, ${human(bytes)} free`);
}

export function stateCheck(dir: string): Check {
  // A state directory on a dead network mount hangs in the kernel: its first (asynchronous) stat meets
  // the deadline before the agent's synchronous write probe is reached.
  return { id: 'state', timeoutMs: 10_000, run: () => stateResult(dir) };
}
