// Reads a TensorFlow.js weights manifest (+ .bin shards) into named float32 tensors.
// Hand-written rather than loaded through @tensorflow/tfjs on purpose: the parity tests compare the
// converted ONNX against face-api running on tfjs, so the converter must not share tfjs's decoding
// with the reference it is checked against.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

const bytesPer: Record<string, number> = { uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4 };

export function readTfjsWeights(manifestPath: string): Map<string, Tensor> {
  const groups = JSON.parse(readFileSync(manifestPath, 'utf8')) as ManifestGroup[];
  const out = new Map<string, Tensor>();
  for (const group of groups) {
    const buffer = Buffer.concat(group.paths.map((p) => readFileSync(join(dirname(manifestPath), p))));
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const storedAs = w.quantization?.dtype ?? w.dtype;
      const size = count * bytesPer[storedAs]!;
      if (offset + size > buffer.length) {
        throw new Error(`${manifestPath}: weight ${w.name} runs past the end of its shards (${offset + size} > ${buffer.length} bytes)`);
      }
      const bytes = buffer.subarray(offset, offset + size);
      offset += size;
      out.set(w.name, { shape: w.shape, data: decode(w, bytes, count) });
    }
  }
  return out;
}

function decode(w: ManifestWeight, bytes: Buffer, count: number): Float32Array {
  const data = new Float32Array(count);
  const q = w.quantization;
  if (!q) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) data[i] = w.dtype === 'int32' ? view.getInt32(i * 4, true) : view.getFloat32(i * 4, true);
    return data;
  }
  if (q.dtype === 'uint8' || q.dtype === 'uint16') {
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Same arithmetic as tfjs (io_utils.decodeWeights): q * scale + min in double, stored as float32.
    for (let i = 0; i < count; i++) {
      const v = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
      data[i] = v * scale + min;
    }
    return data;
  }
  throw new Error(`weight ${w.name}: quantization ${q.dtype} is not supported by this converter`);
}

export function take(weights: Map<string, Tensor>, name: string, shape?: number[]): Tensor {
  const t = weights.get(name);
  if (!t) throw new Error(`weights manifest has no tensor named "${name}"`);
  if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i]))) {
    throw new Error(`tensor "${name}" has shape [${t.shape}] but the architecture expects [${shape}]`);
  }
  return t;
}
