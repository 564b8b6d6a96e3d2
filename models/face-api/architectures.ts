// The face-api architectures, transcribed from @vladmandic/face-api's src/ (ssdMobilenetv1/,
// xception/TinyXception.ts + ageGenderNet/, faceFeatureExtractor/ + faceExpressionNet/, faceRecognitionNet/). Inputs are NCHW
// RGB already normalised as the manifest says; everything after the input is the original network.
import { OnnxGraph } from './onnx-graph.js';
import { take, type Tensor } from './tfjs-weights.js';

type Weights = Map<string, Tensor>;

// --- SSD MobileNetV1 (ssdMobilenetv1/mobileNetV1.ts, predictionLayer.ts) ---------------------------------
const BN_EPSILON = 0.0010000000474974513;
export const SSD_SIZE = 512;
export const SSD_ANCHORS = 5118;

function pointwise(g: OnnxGraph, w: Weights, prefix: string, x: string, stride: number): string {
  const conv = g.conv(x, take(w, `${prefix}/weights`), take(w, `${prefix}/convolution_bn_offset`), stride);
  return g.relu6(conv);
}

function boxPredictor(g: OnnxGraph, w: Weights, index: number, x: string): { boxes: string; classes: string } {
  const p = `Prediction/BoxPredictor_${index}`;
  const nhwc = (t: string) => g.node('Transpose', [t], { perm: [0, 2, 3, 1] });
  const box = g.conv(x, take(w, `${p}/BoxEncodingPredictor/weights`), take(w, `${p}/BoxEncodingPredictor/biases`), 1);
  const cls = g.conv(x, take(w, `${p}/ClassPredictor/weights`), take(w, `${p}/ClassPredictor/biases`), 1);
  return {
    boxes: g.node('Reshape', [nhwc(box), g.int64s('shape', [0, -1, 4])]),
    classes: g.node('Reshape', [nhwc(cls), g.int64s('shape', [0, -1, 3])]),
  };
}

export function buildSsdMobilenetV1(w: Weights): { graph: OnnxGraph; priors: Float32Array } {
  const g = new OnnxGraph('ssd_mobilenetv1');
  let out = pointwise(g, w, 'MobilenetV1/Conv2d_0_pointwise', 'input', 2);
  let conv11 = '';
  for (let layer = 1; layer <= 13; layer++) {
    const dw = `MobilenetV1/Conv2d_${layer}_depthwise`;
    const stride = [2, 4, 6, 12].includes(layer) ? 2 : 1;
    out = g.depthwise(out, take(w, `${dw}/depthwise_weights`), stride);
    out = g.batchNorm(
      out,
      take(w, `${dw}/BatchNorm/gamma`),
      take(w, `${dw}/BatchNorm/beta`),
      take(w, `${dw}/BatchNorm/moving_mean`),
      take(w, `${dw}/BatchNorm/moving_variance`),
      BN_EPSILON,
    );
    out = g.relu6(out);
    out = pointwise(g, w, `MobilenetV1/Conv2d_${layer}_pointwise`, out, 1);
    if (layer === 11) conv11 = out;
  }
  const convs: string[] = [];
  let prev = out;
  for (let i = 0; i <= 7; i++) {
    prev = pointwise(g, w, `Prediction/Conv2d_${i}_pointwise`, prev, i % 2 === 1 ? 2 : 1);
    convs.push(prev);
  }
  const sources = [conv11, out, convs[1]!, convs[3]!, convs[5]!, convs[7]!];
  const preds = sources.map((s, i) => boxPredictor(g, w, i, s));
  g.node(
    'Concat',
    preds.map((p) => p.boxes),
    { axis: 1 },
    'box_encodings',
  );
  g.node(
    'Concat',
    preds.map((p) => p.classes),
    { axis: 1 },
    'class_logits',
  );
  const priors = take(w, 'Output/extra_dim', [1, SSD_ANCHORS, 4]).data;
  return { graph: g, priors };
}

// --- TinyXception + age/gender heads (xception/TinyXception.ts, ageGenderNet/AgeGenderNet.ts) ----------
function sep(g: OnnxGraph, w: Weights, p: string, x: string, stride = 1): string {
  return g.separable(x, take(w, `${p}/depthwise_filter`), take(w, `${p}/pointwise_filter`), take(w, `${p}/bias`), stride);
}

function reductionBlock(g: OnnxGraph, w: Weights, p: string, x: string, activateInput: boolean): string {
  let out = activateInput ? g.relu(x) : x;
  out = sep(g, w, `${p}/separable_conv0`, out);
  out = sep(g, w, `${p}/separable_conv1`, g.relu(out));
  out = g.maxPoolSame(out, 3, 2);
  return g.add(out, g.conv(x, take(w, `${p}/expansion_conv/filters`), take(w, `${p}/expansion_conv/bias`), 2));
}

function mainBlock(g: OnnxGraph, w: Weights, p: string, x: string): string {
  let out = sep(g, w, `${p}/separable_conv0`, g.relu(x));
  out = sep(g, w, `${p}/separable_conv1`, g.relu(out));
  out = sep(g, w, `${p}/separable_conv2`, g.relu(out));
  return g.add(out, x);
}

export function buildAgeGender(w: Weights): OnnxGraph {
  const g = new OnnxGraph('age_gender');
  let out = g.relu(g.conv('input', take(w, 'entry_flow/conv_in/filters'), take(w, 'entry_flow/conv_in/bias'), 2));
  out = reductionBlock(g, w, 'entry_flow/reduction_block_0', out, false);
  out = reductionBlock(g, w, 'entry_flow/reduction_block_1', out, true);
  for (let i = 0; i < 2; i++) out = mainBlock(g, w, `middle_flow/main_block_${i}`, out);
  out = reductionBlock(g, w, 'exit_flow/reduction_block', out, true);
  out = g.relu(sep(g, w, 'exit_flow/separable_conv', out));
  const pooled = g.flatten(g.avgPoolValid(out, 7, 2));
  g.dense(pooled, take(w, 'fc/age/weights', [512, 1]), take(w, 'fc/age/bias'), 'age');
  const genderLogits = g.dense(pooled, take(w, 'fc/gender/weights', [512, 2]), take(w, 'fc/gender/bias'));
  g.node('Softmax', [genderLogits], { axis: 1 }, 'gender');
  return g;
}

// --- Dense-block feature extractor + expression head (faceFeatureExtractor/, faceExpressionNet/) -------
function denseBlock4(g: OnnxGraph, w: Weights, p: string, x: string, first: boolean): string {
  const out1 = g.relu(first ? g.conv(x, take(w, `${p}/conv0/filters`), take(w, `${p}/conv0/bias`), 2) : sep(g, w, `${p}/conv0`, x, 2));
  const out2 = sep(g, w, `${p}/conv1`, out1);
  const in3 = g.relu(g.add(out1, out2));
  const out3 = sep(g, w, `${p}/conv2`, in3);
  const in4 = g.relu(g.add(out1, g.add(out2, out3)));
  const out4 = sep(g, w, `${p}/conv3`, in4);
  return g.relu(g.add(out1, g.add(out2, g.add(out3, out4))));
}

export function buildFaceExpression(w: Weights): OnnxGraph {
  const g = new OnnxGraph('face_expression');
  let out = denseBlock4(g, w, 'dense0', 'input', true);
  for (let i = 1; i <= 3; i++) out = denseBlock4(g, w, `dense${i}`, out, false);
  const pooled = g.flatten(g.avgPoolValid(out, 7, 2));
  const logits = g.dense(pooled, take(w, 'fc/weights', [256, 7]), take(w, 'fc/bias'));
  g.node('Softmax', [logits], { axis: 1 }, 'expression');
  return g;
}

// --- dlib ResNet-34 metric net (faceRecognitionNet/FaceRecognitionNet.ts, convLayer.ts, residualLayer.ts) ---
export const RECOGNITION_SIZE = 150;

function convLayer(g: OnnxGraph, w: Weights, p: string, x: string, stride: number, padding: 'same' | 'valid', relu: boolean): string {
  const conv = g.conv(x, take(w, `${p}/conv/filters`), take(w, `${p}/conv/bias`), stride, padding);
  const out = g.channelScale(conv, take(w, `${p}/scale/weights`), take(w, `${p}/scale/biases`));
  return relu ? g.relu(out) : out;
}

function residual(g: OnnxGraph, w: Weights, p: string, x: string): string {
  const out = convLayer(g, w, `${p}/conv1`, x, 1, 'same', true);
  return g.relu(g.add(convLayer(g, w, `${p}/conv2`, out, 1, 'same', false), x));
}

/**
 * residualDown: the strided branch is 'valid' (so it can come out one smaller than the 2×2 average pool
 * of the shortcut: face-api then pads it with a zero row and column at the end), and the shortcut gains
 * zero channels when the width doubles. `size` is the spatial size of x, known statically.
 */
function residualDown(g: OnnxGraph, w: Weights, p: string, x: string, size: number, channelsIn: number): { out: string; size: number } {
  let out = convLayer(g, w, `${p}/conv1`, x, 2, 'valid', true);
  out = convLayer(g, w, `${p}/conv2`, out, 1, 'same', false);
  const convSize = Math.floor((size - 3) / 2) + 1;
  const poolSize = Math.floor(size / 2);
  if (convSize !== poolSize) out = g.padEnd(out, 0, poolSize - convSize, poolSize - convSize);
  const channelsOut = take(w, `${p}/conv2/conv/filters`).shape[3]!;
  let pooled = g.avgPoolValid(x, 2, 2);
  if (channelsOut !== channelsIn) pooled = g.padEnd(pooled, channelsOut - channelsIn, 0, 0);
  return { out: g.relu(g.add(pooled, out)), size: poolSize };
}

export function buildFaceRecognition(w: Weights): OnnxGraph {
  const g = new OnnxGraph('face_recognition');
  let out = convLayer(g, w, 'conv32_down', 'input', 2, 'valid', true);
  out = g.maxPoolValid(out, 3, 2);
  let size = Math.floor((Math.floor((RECOGNITION_SIZE - 7) / 2) + 1 - 3) / 2) + 1;
  let channels = 32;
  const stages: [string, number][] = [
    ['conv32', 3],
    ['conv64', 3],
    ['conv128', 2],
    ['conv256', 2],
  ];
  for (const [stage, blocks] of stages) {
    if (stage !== 'conv32') {
      ({ out, size } = residualDown(g, w, `${stage}_down`, out, size, channels));
      channels = take(w, `${stage}_down/conv2/conv/filters`).shape[3]!;
    }
    for (let i = 1; i <= blocks; i++) out = residual(g, w, `${stage}_${i}`, out);
  }
  ({ out } = residualDown(g, w, 'conv256_down_out', out, size, channels));
  g.dense(g.globalMean(out), take(w, 'fc', [256, 128]), { shape: [128], data: new Float32Array(128) }, 'embedding');
  return g;
}
