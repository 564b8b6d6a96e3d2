// The smallest ONNX model that proves an execution provider loads and computes: y = x + x on a float
// [1, 4]. Written here as protobuf bytes (a few dozen) rather than shipped as a file, so the provider
// check needs no model directory and no download — it works on a device whose models are still missing.

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A field of wire type 0 (varint) or 2 (length-delimited: bytes, strings, messages). */
const int = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
const bytes = (field: number, b: number[]) => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

const FLOAT = 1;

/** ValueInfoProto: name, TypeProto.tensor_type { elem_type, shape { dim { dim_value } … } }. */
function value(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, int(1, d)));
  return [...str(1, name), ...bytes(2, bytes(1, [...int(1, FLOAT), ...bytes(2, shape)]))];
}

export const TINY_INPUT = 'x';
export const TINY_OUTPUT = 'y';

export function tinyModel(): Uint8Array {
  const node = [...str(1, TINY_INPUT), ...str(1, TINY_INPUT), ...str(2, TINY_OUTPUT), ...str(3, 'add'), ...str(4, 'Add')];
  const graph = [...bytes(1, node), ...str(2, 'percept-doctor'), ...bytes(11, value(TINY_INPUT, [1, 4])), ...bytes(12, value(TINY_OUTPUT, [1, 4]))];
  // ModelProto: ir_version 7, producer "percept", graph, opset_import { domain "", version 13 }.
  const model = [...int(1, 7), ...str(2, 'percept'), ...bytes(7, graph), ...bytes(8, int(2, 13))];
  return Uint8Array.from(model);
}
