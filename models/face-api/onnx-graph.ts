// Builds ONNX graphs layer by layer from TensorFlow-style parameters. The generated protobuf classes come
// from `onnx-proto`; the layer helpers are ours because no maintained JS library translates TF (NHWC,
// HWIO, 'same' padding) layers into ONNX nodes.
import onnxProto from 'onnx-proto';
import type { Tensor } from './tfjs-weights.js';

const { onnx } = onnxProto;

const FLOAT = 1;
const INT64 = 7;
export const OPSET = 13;

type Attr = number | number[] | string;

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  constant(prefix: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.fresh(prefix);
    const floats = data instanceof Float32Array ? data : Float32Array.from(data);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: FLOAT,
        rawData: new Uint8Array(floats.buffer.slice(floats.byteOffset, floats.byteOffset + floats.byteLength)),
      }),
    );
    return name;
  }

  int64s(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: INT64,
        rawData: new Uint8Array(raw.buffer),
      }),
    );
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      if (Number.isInteger(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
      return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
    });
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: [out], name: out, attribute }));
    return out;
  }

  // --- TF layer translations -------------------------------------------------------------------------

  /** TF conv2d (HWIO filter, 'same' or 'valid' padding) + optional bias. */
  conv(x: string, filter: Tensor, bias: Tensor | null, stride: number, padding: 'same' | 'valid' = 'same'): string {
    const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
    const w = this.constant('W', [cout, cin, kh, kw], hwioToOihw(filter));
    const inputs = [x, w];
    if (bias) inputs.push(this.constant('B', [cout], bias.data));
    return this.node('Conv', inputs, { kernel_shape: [kh, kw], strides: [stride, stride], auto_pad: padding === 'same' ? 'SAME_UPPER' : 'VALID' });
  }

  /** TF depthwiseConv2d with channel multiplier 1, 'same' padding. */
  depthwise(x: string, filter: Tensor, stride: number): string {
    const [kh, kw, c, mult] = filter.shape as [number, number, number, number];
    if (mult !== 1) throw new Error(`depthwise filter with channel multiplier ${mult} is not supported`);
    const w = this.constant('Wdw', [c, 1, kh, kw], hwioToOihw({ shape: [kh, kw, 1, c], data: filter.data }));
    return this.node('Conv', [x, w], { kernel_shape: [kh, kw], strides: [stride, stride], auto_pad: 'SAME_UPPER', group: c });
  }

  /** TF separableConv2d + bias: depthwise (strided) then pointwise. */
  separable(x: string, dw: Tensor, pw: Tensor, bias: Tensor, stride: number): string {
    return this.conv(this.depthwise(x, dw, stride), pw, bias, 1);
  }

  batchNorm(x: string, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: number): string {
    const c = gamma.shape[0]!;
    return this.node(
      'BatchNormalization',
      [
        x,
        this.constant('gamma', [c], gamma.data),
        this.constant('beta', [c], beta.data),
        this.constant('mean', [c], mean.data),
        this.constant('var', [c], variance.data),
      ],
      { epsilon },
    );
  }

  addBias(x: string, bias: Tensor): string {
    return this.node('Add', [x, this.constant('bias', [bias.shape[0]!, 1, 1], bias.data)]);
  }

  relu(x: string): string {
    return this.node('Relu', [x]);
  }

  relu6(x: string): string {
    return this.node('Clip', [x, this.constant('zero', [], [0]), this.constant('six', [], [6])]);
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b]);
  }

  maxPoolSame(x: string, k: number, stride: number): string {
    return this.node('MaxPool', [x], { kernel_shape: [k, k], strides: [stride, stride], auto_pad: 'SAME_UPPER' });
  }

  maxPoolValid(x: string, k: number, stride: number): string {
    return this.node('MaxPool', [x], { kernel_shape: [k, k], strides: [stride, stride] });
  }

  /** Per-channel x · weights + biases (an NCHW broadcast of TF's scale layer). */
  channelScale(x: string, weights: Tensor, biases: Tensor): string {
    const c = weights.shape[0]!;
    const scaled = this.node('Mul', [x, this.constant('scaleW', [c, 1, 1], weights.data)]);
    return this.node('Add', [scaled, this.constant('scaleB', [c, 1, 1], biases.data)]);
  }

  /** Zero padding at the end of each axis (NCHW): TF's concat-with-zeros idiom. */
  padEnd(x: string, channels: number, rows: number, cols: number): string {
    return this.node('Pad', [x, this.int64s('pads', [0, 0, 0, 0, 0, channels, rows, cols])], { mode: 'constant' });
  }

  /** Mean over H and W → [N, C]. */
  globalMean(x: string): string {
    return this.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  }

  avgPoolValid(x: string, k: number, stride: number): string {
    return this.node('AveragePool', [x], { kernel_shape: [k, k], strides: [stride, stride] });
  }

  /** x [N, in] · W [in, out] + b, as TF's matMul + add. */
  dense(x: string, weights: Tensor, bias: Tensor, output?: string): string {
    const [cin, cout] = weights.shape as [number, number];
    return this.node('Gemm', [x, this.constant('fcW', [cin, cout], weights.data), this.constant('fcB', [cout], bias.data)], {}, output);
  }

  flatten(x: string): string {
    return this.node('Flatten', [x], { axis: 1 });
  }

  encode(inputs: { name: string; shape: (number | string)[] }[], outputs: { name: string; shape: (number | string)[] }[], docString: string): Uint8Array {
    const valueInfo = (v: { name: string; shape: (number | string)[] }) =>
      onnx.ValueInfoProto.create({
        name: v.name,
        type: { tensorType: { elemType: FLOAT, shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
      });
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'percept-face-api-converter',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** [kh, kw, cin, cout] → [cout, cin, kh, kw] */
export function hwioToOihw(t: Tensor): Float32Array {
  const [kh, kw, cin, cout] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + h) * kw + w] = t.data[((h * kw + w) * cin + i) * cout + o]!;
        }
  return out;
}
