// A reader for the safetensors format (8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw tensors). Hand-written because no safetensors
// package exists in the npm registry this project can use, and the format is small: reading it by file
// offsets lets a merge materialise one adapter tensor at a time instead of the whole file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64';
const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024; // the format's own limit; a bigger length is garbage

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  start: number;
  end: number;
}

/** A safetensors file that cannot be read as one: the message names the file and, when there is one, the tensor. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export class SafetensorsFile {
  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly entries: Map<string, SafetensorsEntry>,
    readonly metadata: Record<string, string>,
  ) {}

  /** Opens and checks the whole header: every tensor's range lies inside the file and fits its dtype × shape. */
  static open(path: string): SafetensorsFile {
    const fd = openSync(path, 'r');
    try {
      const file = basename(path);
      const size = fstatSync(fd).size;
      if (size < 8) throw new SafetensorsError(`${file} is truncated: ${size} bytes, not even the 8-byte header length`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER_BYTES) throw new SafetensorsError(`${file} is not a safetensors file (header length ${headerLen} bytes)`);
      if (8 + headerLen > size)
        throw new SafetensorsError(`${file} is truncated: its header says ${headerLen} bytes, the file has ${size - 8} after the length`);
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new SafetensorsError(`${file} is not a safetensors file (header is not JSON: ${(err as Error).message})`);
      }
      const dataStart = 8 + headerLen;
      const entries = new Map<string, SafetensorsEntry>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          metadata = raw as Record<string, string>;
          continue;
        }
        const e = raw as {
          dtype?: string;
          shape?: number[];
          data_offsets?: [number, number];
        };
        if (!e || !(e.dtype! in DTYPE_BYTES)) {
          throw new SafetensorsError(`${file}: tensor ${name} has dtype ${e?.dtype}; only ${Object.keys(DTYPE_BYTES).join(', ')} adapters can be merged`);
        }
        if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
          throw new SafetensorsError(`${file}: tensor ${name} has no shape or data_offsets in the header`);
        }
        // A hostile header's negative or fractional sizes would otherwise pass the byte-count check below
        // (-4 × 7 × 4 = -112 = 0 − 112) and reach the merge as a "rank" of -4.
        if (!e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
          throw new SafetensorsError(`${file}: tensor ${name} has shape ${JSON.stringify(e.shape)}; sizes must be whole numbers ≥ 0`);
        }
        if (!e.data_offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || e.data_offsets[0] > e.data_offsets[1]) {
          throw new SafetensorsError(`${file}: tensor ${name} has data_offsets ${JSON.stringify(e.data_offsets)}; needs [begin, end] with 0 ≤ begin ≤ end`);
        }
        const [b, end] = e.data_offsets;
        const need = e.shape.reduce((n, d) => n * d, 1) * DTYPE_BYTES[e.dtype as SafetensorsDtype];
        if (end - b !== need) {
          throw new SafetensorsError(`${file}: tensor ${name} spans ${end - b} bytes, its ${e.dtype} shape [${e.shape}] needs ${need}`);
        }
        if (dataStart + end > size) {
          throw new SafetensorsError(`${file} is truncated: tensor ${name} needs bytes ${b}–${end} of the data section, the file has only ${size - dataStart}`);
        }
        entries.set(name, {
          name,
          dtype: e.dtype as SafetensorsDtype,
          shape: e.shape,
          start: dataStart + b,
          end: dataStart + end,
        });
      }
      return new SafetensorsFile(fd, path, entries, metadata);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** One tensor as float32 (F16/BF16/F64 converted), read from disk now. */
  read(name: string): Float32Array {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(`${basename(this.path)} has no tensor ${name}`);
    const buf = Buffer.alloc(e.end - e.start);
    const got = readSync(this.fd, buf, 0, buf.length, e.start);
    if (got !== buf.length) throw new SafetensorsError(`${basename(this.path)} is truncated: tensor ${name} could not be read whole`);
    return toFloat32(buf, e.dtype);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function toFloat32(buf: Buffer, dtype: SafetensorsDtype): Float32Array {
  // buf comes from Buffer.alloc, so its own ArrayBuffer starts at offset 0 and is aligned.
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  switch (dtype) {
    case 'F32':
      return new Float32Array(bytes);
    case 'F64':
      return Float32Array.from(new Float64Array(bytes));
    case 'BF16': {
      const half = new Uint16Array(bytes);
      const out = new Uint32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = half[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const half = new Uint16Array(bytes);
      const out = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = halfToFloat(half[i]!);
      return out;
    }
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
