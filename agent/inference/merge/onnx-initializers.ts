// Where each initializer of an ONNX model keeps its bytes, found by walking the protobuf by file offsets.
// Hand-written on purpose: onnx-proto (protobufjs) decodes a ModelProto only from one buffer holding the
// whole file, which for PE-Core-L is 1.3 GB; this walker reads only the small tensor headers and records
// the byte range of each weight, so a merge can patch one weight at a time in a copy of the file.
// Field numbers are those of onnx.proto (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto:
// dims 1, data_type 2, float_data 4, name 8, raw_data 9, external_data 13, data_location 14).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const ONNX_FLOAT = 1;

export interface InitializerLocation {
  name: string;
  dims: number[];
  dataType: number;
  /** Where the little-endian element bytes are: in the .onnx file itself, or in an external data file. */
  data:
    | { kind: 'inline'; offset: number; length: number }
    | { kind: 'external'; file: string; offset: number; length: number }
    | { kind: 'unsupported'; why: string };
}

const WINDOW = 1 << 20;

/** Positional reads through a small window: memory stays bounded whatever the file size. */
class FileCursor {
  private buf = Buffer.alloc(WINDOW);
  private bufStart = 0;
  private bufEnd = 0;
  readonly size: number;

  constructor(private readonly fd: number) {
    this.size = fstatSync(fd).size;
  }

  byteAt(pos: number): number {
    if (pos < this.bufStart || pos >= this.bufEnd) this.fill(pos, 1);
    return this.buf[pos - this.bufStart]!;
  }

  bytes(pos: number, length: number): Buffer {
    if (pos < this.bufStart || pos + length > this.bufEnd) this.fill(pos, length);
    return this.buf.subarray(pos - this.bufStart, pos - this.bufStart + length);
  }

  private fill(pos: number, length: number): void {
    if (pos + length > this.size) throw new Error(`the ONNX file is truncated (needs byte ${pos + length}, has ${this.size})`);
    if (length > this.buf.length) this.buf = Buffer.alloc(length);
    this.bufStart = pos;
    this.bufEnd = pos + readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.size - pos), pos);
  }

  /** A varint as a JS number (exact up to 2^53, enough for any offset or dimension). */
  varint(pos: number): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byteAt(pos++);
      value += (b & 0x7f) * scale;
      if (b < 0x80) return [value, pos];
      scale *= 128;
    }
    throw new Error(`the ONNX file is not valid protobuf (varint too long at byte ${pos})`);
  }

  skip(wire: number, pos: number): number {
    switch (wire) {
      case 0:
        return this.varint(pos)[1];
      case 1:
        return pos + 8;
      case 2: {
        const [len, p] = this.varint(pos);
        return p + len;
      }
      case 5:
        return pos + 4;
      default:
        throw new Error(`the ONNX file is not valid protobuf (wire type ${wire} at byte ${pos})`);
    }
  }

  /** Calls visit(field, wire, valuePos, valueEnd) for each field in [start, end); valueEnd only for wire type 2. */
  fields(start: number, end: number, visit: (field: number, wire: number, pos: number, valueEnd: number) => void): void {
    let pos = start;
    while (pos < end) {
      const [tag, p] = this.varint(pos);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 2) {
        const [len, q] = this.varint(p);
        visit(field, wire, q, q + len);
        pos = q + len;
      } else {
        visit(field, wire, p, -1);
        pos = this.skip(wire, p);
      }
    }
    if (pos !== end) throw new Error(`the ONNX file is not valid protobuf (a field overruns its message at byte ${end})`);
  }
}

/** The initializers of the model's main graph, in file order, with where their data lies. */
export function scanInitializers(path: string): InitializerLocation[] {
  const fd = openSync(path, 'r');
  try {
    const cur = new FileCursor(fd);
    const found: InitializerLocation[] = [];
    cur.fields(0, cur.size, (field, wire, pos, end) => {
      if (field !== 7 || wire !== 2) return;
      cur.fields(pos, end, (gField, gWire, gPos, gEnd) => {
        if (gField === 5 && gWire === 2) found.push(readTensorHeader(cur, gPos, gEnd));
      });
    });
    return found;
  } finally {
    closeSync(fd);
  }
}

function readTensorHeader(cur: FileCursor, start: number, end: number): InitializerLocation {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: { offset: number; length: number } | undefined;
  let floats: { offset: number; length: number } | undefined;
  let externalFlag = false;
  let other = '';
  const external: Record<string, string> = {};
  cur.fields(start, end, (field, wire, pos, vEnd) => {
    if (field === 1 && wire === 0) dims.push(cur.varint(pos)[0]);
    else if (field === 1 && wire === 2)
      for (let p = pos; p < vEnd;) {
        const [d, q] = cur.varint(p);
        dims.push(d);
        p = q;
      }
    else if (field === 2 && wire === 0) dataType = cur.varint(pos)[0];
    else if (field === 8 && wire === 2) name = cur.bytes(pos, vEnd - pos).toString('utf8');
    else if (field === 9 && wire === 2) raw = { offset: pos, length: vEnd - pos };
    else if (field === 4 && wire === 2) floats = { offset: pos, length: vEnd - pos };
    else if (field === 4 && wire === 5) other = 'float_data stored unpacked';
    else if (field === 14 && wire === 0) externalFlag = cur.varint(pos)[0] === 1;
    else if (field === 13 && wire === 2) {
      let key = '';
      let value = '';
      cur.fields(pos, vEnd, (f, w, p, e) => {
        if (w !== 2) return;
        if (f === 1) key = cur.bytes(p, e - p).toString('utf8');
        if (f === 2) value = cur.bytes(p, e - p).toString('utf8');
      });
      external[key] = value;
    } else if ([3, 5, 6, 7, 10, 11].includes(field)) other = `data in field ${field}`;
  });
  const elements = dims.reduce((n, d) => n * d, 1);
  const bytes = dataType === ONNX_FLOAT ? elements * 4 : undefined;
  let data: InitializerLocation['data'];
  if (externalFlag) {
    const offset = Number(external.offset ?? 0);
    const length = external.length !== undefined ? Number(external.length) : bytes;
    data =
      external.location && length !== undefined
        ? { kind: 'external', file: external.location, offset, length }
        : {
            kind: 'unsupported',
            why: 'external data without a location or length',
          };
  } else if (raw ?? floats) {
    data = { kind: 'inline', ...(raw ?? floats)! };
  } else {
    data = { kind: 'unsupported', why: other || 'no data' };
  }
  if (bytes !== undefined && data.kind !== 'unsupported' && data.length !== bytes) {
    data = {
      kind: 'unsupported',
      why: `${data.length} bytes of data for dims [${dims}] (needs ${bytes})`,
    };
  }
  return { name, dims, dataType, data };
}
