// Reading a model file into memory in a form that cannot hang or be swapped: the bytes read are the bytes
// hashed and the bytes handed to onnxruntime (a file replaced on disk after start cannot slip in between a
// check and a later read). Only regular files are read: a FIFO or a device would block for ever, and the
// open itself uses O_NONBLOCK so a file swapped for a FIFO after the check cannot block it either. The size
// is bounded before anything is read: by the manifest's declared size when it has one, and by the 2 GiB an
// ONNX file can hold (protobuf's limit; larger models keep their weights in external data files beside
// the model, which onnxruntime reads itself and the manifest check hashes at start).
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';

export const MAX_MODEL_BYTES = 2 ** 31 - 1;

function kind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Opens `path` for reading if it is a regular file of an acceptable size; throws naming why not. */
export function openRegular(path: string, bytes: number | null, max = MAX_MODEL_BYTES): { fd: number; size: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is ${kind(st)}, not a regular file: refused`);
    if (bytes !== null && st.size !== bytes)
      throw new Error(`${path} is ${st.size} bytes, the manifest says ${bytes} (so its sha256 cannot match either): refused`);
    if (st.size > max) throw new Error(`${path} is ${st.size} bytes, more than the ${max} a model file can be: refused`);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The file's bytes and their sha256; throws when it is not a regular file, has the wrong size or changes size while read. */
export function readModelBytes(path: string, bytes: number | null): { data: Buffer; sha256: string } {
  const { fd, size } = openRegular(path, bytes);
  try {
    const data = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, data, at, Math.min(size - at, 1 << 24), at);
      if (n === 0) throw new Error(`${path} became shorter while it was read (${at} of ${size} bytes): refused`);
      at += n;
    }
    if (readSync(fd, Buffer.alloc(1), 0, 1, size) !== 0) throw new Error(`${path} grew while it was read: refused`);
    return { data, sha256: createHash('sha256').update(data).digest('hex') };
  } finally {
    closeSync(fd);
  }
}
