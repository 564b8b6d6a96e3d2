// Durable writes: a file is either its old content or its new one after a crash, never half of each.
// The recipe (write a temporary file, fsync it, rename it over the target, fsync the directory) is the
// one every database uses; without the directory fsync a power cut can forget the rename itself.
// No maintained npm package does the directory fsync (write-file-atomic skips it), hence these few lines.
// The file-system calls go through a facade so a test can see their order (and make them fail).
import * as nodeFs from 'node:fs';
import { dirname } from 'node:path';

export interface DurableFs {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, data: string | Uint8Array): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, opts: { recursive: true }): unknown;
}

/** Durable writes and fsyncs of this process (real file system only), for the stats topic: a flood must not turn into disk syncs. */
export const durableCounts = { writes: 0, fsyncs: 0 };

export const realFs: DurableFs = {
  openSync: (p, f) => nodeFs.openSync(p, f),
  writeSync: (fd, d) => (typeof d === 'string' ? nodeFs.writeSync(fd, d) : nodeFs.writeSync(fd, d)),
  fsyncSync: (fd) => {
    durableCounts.fsyncs++;
    nodeFs.fsyncSync(fd);
  },
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  mkdirSync: (p, o) => nodeFs.mkdirSync(p, o),
};

/** Makes the directory's entries (a rename, a create, an unlink) survive a power cut. */
export function fsyncDir(dir: string, fs: DurableFs = realFs): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to `path` atomically and durably: tmp + fsync + rename + directory fsync. */
export function writeDurable(path: string, data: string | Uint8Array, fs: DurableFs = realFs): void {
  if (fs === realFs) durableCounts.writes++;
  const tmp = `${path}.tmp`;
  let fd: number | null = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== null)
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created, or already renamed */
    }
    throw err;
  }
  fsyncDir(dirname(path), fs);
}

/**
 * The same recipe off the main thread (libuv's pool does the fsyncs), for large files written often (the
 * daily summary): the frame loop never waits on the disk. Callers must not start a second write to the
 * same path before this one settles (the tmp file is shared).
 */
export async function writeDurableAsync(path: string, data: string | Uint8Array): Promise<void> {
  durableCounts.writes++;
  const tmp = `${path}.tmp`;
  const fh = await nodeFs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    durableCounts.fsyncs++;
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await nodeFs.promises.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await nodeFs.promises.rename(tmp, path);
  const dir = await nodeFs.promises.open(dirname(path), 'r');
  try {
    durableCounts.fsyncs++;
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Renames durably (both directories fsynced when they differ). */
export function renameDurable(from: string, to: string, fs: DurableFs = realFs): void {
  fs.renameSync(from, to);
  fsyncDir(dirname(to), fs);
  if (dirname(from) !== dirname(to)) fsyncDir(dirname(from), fs);
}

/** Removes a file durably; a file already gone is fine. */
export function unlinkDurable(path: string, fs: DurableFs = realFs): void {
  try {
    fs.unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  fsyncDir(dirname(path), fs);
}

/** Error codes that mean "the disk cannot take this now" rather than a bug: hold the data and retry. */
export const STORAGE_FAULTS = new Set(['ENOSPC', 'EIO', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE']);

export const isStorageFault = (err: unknown): boolean => STORAGE_FAULTS.has(String((err as NodeJS.ErrnoException)?.code));
