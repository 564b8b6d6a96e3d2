// Converts face-api's TFJS weights (from the @vladmandic/face-api npm package) into ONNX models with
// percept manifests: models/face-api/{ssd-mobilenetv1,age-gender,face-expression,face-recognition}/.
// Usage: node dist/models/face-api/convert.js [--out DIR] [--force]
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readTfjsWeights } from './tfjs-weights.js';
import { buildAgeGender, buildFaceExpression, buildFaceRecognition, buildSsdMobilenetV1, RECOGNITION_SIZE, SSD_ANCHORS, SSD_SIZE } from './architectures.js';
import type { CropMode } from '../../agent/inference/manifest.js';
import type { ModelManifest } from '../../agent/inference/manifest.js';
import { CONTRACT_LABELS } from '../../agent/contract/labels.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MODELS_DIR = resolve(here, '../../../models/face-api');

function faceApiModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function faceApiVersion(): string {
  return (require('@vladmandic/face-api/package.json') as { version: string }).version;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Writes files then the manifest last, each through a temp name, so a half-written model never verifies. */
function writeModel(dir: string, files: Record<string, Uint8Array>, manifest: Omit<ModelManifest, 'files'>): void {
  mkdirSync(dir, { recursive: true });
  const entries = Object.entries(files).map(([path, bytes]) => {
    writeFileSync(join(dir, `${path}.tmp`), bytes);
    renameSync(join(dir, `${path}.tmp`), join(dir, path));
    return { path, sha256: sha256(bytes), bytes: bytes.length };
  });
  const full: ModelManifest = { ...manifest, files: entries };
  writeFileSync(join(dir, 'model.json.tmp'), `${JSON.stringify(full, null, 2)}\n`);
  renameSync(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
}

const provenance = (file: string) =>
  `Converted by percept (models/face-api/convert.ts) from ${file} of the npm package @vladmandic/face-api ${faceApiVersion()} ` +
  '(upstream face-api.js by Vincent Mühler). Architecture transcribed from face-api src/.';
const licence =
  'MIT (face-api / face-api.js code and weights). Training data carry research-only terms: ' +
  'SSD on WIDER FACE; age/gender on UTKFace and IMDB-WIKI; expressions on FER2013-like sets.';

/**
 * Crop mode per net, chosen by measurement (test/integration/alignment-effect.test.ts prints the figures).
 * On the 24 parity faces, upright and turned ±20°, aligned crops (margin 0) against YuNet box crops:
 * age spread 7.0 vs 8.2 years, gender flips 2 vs 4 of 48 (gender right 67 vs 69 of 72 views: within
 * noise), expression top label kept 38 vs 30 of 48, embedding drift 0.31 vs 0.43. Margins 0.05–0.15
 * were worse for gender and expression. cropMargin is the border as a fraction of the crop's side.
 */
/**
 * Same-person distance for the recognition net. dlib publishes 0.6 (LFW), but on the parity faces (22 young
 * adult women, Grace Hopper, Messi; aligned crops) 0.6 joined 203 of 276 pairs of different people (0.45: about
 * 1 in 16). The same face shifted, scaled or at half brightness stayed ≤ 0.21; turned ±20°, mean 0.31 and 5 of 48
 * views ≥ 0.45 (max 0.61). Different people ≥ 0.37 (5th percentile 0.44). 0.45 trades a few splits for far
 * fewer merges; re-identification should also prefer the nearest candidate and gate by time and place.
 */
export const SAME_PERSON_BELOW = 0.45;

export const CROP_MODES: Record<'ageGender' | 'expression' | 'recognition', { crop: CropMode; cropMargin: number }> = {
  // Box crops (the detector's box, no margin): aligned tight crops were steadier across head turns but got
  // fewer genders right (67/72 vs 69/72; Grace Hopper read male) — a stable wrong label sells nothing.
  ageGender: { crop: 'box', cropMargin: 0 },
  expression: { crop: 'aligned-5pt', cropMargin: 0 },
  recognition: { crop: 'aligned-5pt', cropMargin: 0 },
};

export function convertAll(outDir: string = DEFAULT_MODELS_DIR, log: (s: string) => void = console.log): string[] {
  const src = faceApiModelDir();
  const dirs: string[] = [];

  log('converting ssd_mobilenetv1_model (face detector)…');
  const ssd = buildSsdMobilenetV1(readTfjsWeights(join(src, 'ssd_mobilenetv1_model-weights_manifest.json')));
  const ssdDir = join(outDir, 'ssd-mobilenetv1');
  writeModel(
    ssdDir,
    {
      'model.onnx': ssd.graph.encode(
        [{ name: 'input', shape: ['batch', 3, SSD_SIZE, SSD_SIZE] }],
        [
          { name: 'box_encodings', shape: ['batch', SSD_ANCHORS, 4] },
          { name: 'class_logits', shape: ['batch', SSD_ANCHORS, 3] },
        ],
        'face-api SSD MobileNetV1 face detector',
      ),
      'priors.bin': new Uint8Array(ssd.priors.buffer.slice(0)),
    },
    {
      schema: 1,
      name: 'face-api-ssd-mobilenetv1',
      kind: 'detector',
      description: 'SSD MobileNetV1 face detector (WIDER FACE), 512x512; boxes decoded and suppressed by the agent',
      model: 'model.onnx',
      input: {
        name: 'input',
        shape: ['batch', 3, SSD_SIZE, SSD_SIZE],
        layout: 'NCHW',
        colour: 'RGB',
        resize: 'pad-bottom-right',
        normalise: { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
      },
      outputs: [
        { name: 'box_encodings', shape: ['batch', SSD_ANCHORS, 4], task: 'boxes', type: 'ssd-box-encodings' },
        { name: 'class_logits', shape: ['batch', SSD_ANCHORS, 3], task: 'face-score', type: 'sigmoid-logits', classIndex: 1 },
      ],
      priors: { file: 'priors.bin', count: SSD_ANCHORS, variances: [10, 10, 5, 5] },
      provenance: provenance('model/ssd_mobilenetv1_model.bin'),
      licence,
    },
  );
  dirs.push(ssdDir);

  const faceInput = {
    name: 'input',
    shape: ['batch', 3, 112, 112],
    layout: 'NCHW' as const,
    colour: 'RGB' as const,
    resize: 'pad-centre' as const,
    normalise: { mean: [122.782, 117.001, 104.298], std: [255, 255, 255] },
  };

  log('converting age_gender_model…');
  const ageDir = join(outDir, 'age-gender');
  writeModel(
    ageDir,
    {
      'model.onnx': buildAgeGender(readTfjsWeights(join(src, 'age_gender_model-weights_manifest.json'))).encode(
        [{ name: 'input', shape: ['batch', 3, 112, 112] }],
        [
          { name: 'age', shape: ['batch', 1] },
          { name: 'gender', shape: ['batch', 2] },
        ],
        'face-api age (regression, years) and gender (softmax) net, TinyXception backbone',
      ),
    },
    {
      schema: 1,
      name: 'face-api-age-gender',
      kind: 'attributes',
      description:
        'Age in years (regression) and gender; age is binned into the 9 groups with a Gaussian of sigmaYears ' +
        '(a documented choice, not a measurement: face-api reports a mean absolute error of about 4.5 years on UTK)',
      model: 'model.onnx',
      input: { ...faceInput, ...CROP_MODES.ageGender },
      outputs: [
        { name: 'age', shape: ['batch', 1], task: 'age', type: 'regression-years', sigmaYears: 4.5 },
        { name: 'gender', shape: ['batch', 2], task: 'gender', type: 'probabilities', labels: [...CONTRACT_LABELS.gender] },
      ],
      provenance: provenance('model/age_gender_model.bin'),
      licence,
    },
  );
  dirs.push(ageDir);

  log('converting face_expression_model…');
  const exprDir = join(outDir, 'face-expression');
  writeModel(
    exprDir,
    {
      'model.onnx': buildFaceExpression(readTfjsWeights(join(src, 'face_expression_model-weights_manifest.json'))).encode(
        [{ name: 'input', shape: ['batch', 3, 112, 112] }],
        [{ name: 'expression', shape: ['batch', 7] }],
        'face-api facial expression net (softmax over 7 expressions)',
      ),
    },
    {
      schema: 1,
      name: 'face-api-face-expression',
      kind: 'attributes',
      description: 'Seven expressions; face-api order neutral, happy, sad, angry, fearful, disgusted, surprised, named in the contract vocabulary',
      model: 'model.onnx',
      input: { ...faceInput, ...CROP_MODES.expression },
      outputs: [
        {
          name: 'expression',
          shape: ['batch', 7],
          task: 'emotion',
          type: 'probabilities',
          labels: ['neutral', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'],
        },
      ],
      provenance: provenance('model/face_expression_model.bin'),
      licence,
    },
  );
  dirs.push(exprDir);

  log('converting face_recognition_model (128-d embedding)…');
  const recDir = join(outDir, 'face-recognition');
  const recShape = ['batch', 3, RECOGNITION_SIZE, RECOGNITION_SIZE];
  writeModel(
    recDir,
    {
      'model.onnx': buildFaceRecognition(readTfjsWeights(join(src, 'face_recognition_model-weights_manifest.json'))).encode(
        [{ name: 'input', shape: recShape }],
        [{ name: 'embedding', shape: ['batch', 128] }],
        'face-api face recognition net (dlib ResNet-34 metric learning), 128-d descriptor',
      ),
    },
    {
      schema: 1,
      name: 'face-api-face-recognition',
      kind: 'embedding',
      description:
        "dlib's ResNet-34 face descriptor as face-api ships it: 150x150 RGB in, 128-d vector out. dlib publishes " +
        '0.6 as its same-person distance (LFW); sameBelow is stricter, as measured on aligned crops (see SAME_PERSON_BELOW in ' +
        'models/face-api/convert.ts). Used only for short-term re-identification in memory',
      model: 'model.onnx',
      input: { ...faceInput, shape: recShape, ...CROP_MODES.recognition },
      outputs: [{ name: 'embedding', shape: ['batch', 128], task: 'embedding', type: 'embedding', metric: 'euclidean', sameBelow: SAME_PERSON_BELOW }],
      provenance: provenance('model/face_recognition_model.bin'),
      licence:
        "MIT (face-api / face-api.js code and weights; dlib's original model, per the dlib-models README, is public " +
        "domain / CC0). Trained by dlib's author on about 3 million faces (FaceScrub, VGG Face and web-scraped images) whose own terms vary.",
    },
  );
  dirs.push(recDir);
  return dirs;
}

/** Changes whenever the converter's code or the source weights' version does: then setup converts again. */
function fingerprint(): string {
  const files = ['convert.js', 'architectures.js', 'onnx-graph.js', 'tfjs-weights.js'].map((f) => readFileSync(join(here, f)));
  return createHash('sha256').update(Buffer.concat(files)).update(faceApiVersion()).digest('hex');
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 && args[outIdx + 1] ? resolve(args[outIdx + 1]!) : DEFAULT_MODELS_DIR;
  const stamp = join(out, '.fingerprint');
  const fp = fingerprint();
  const done =
    ['ssd-mobilenetv1', 'age-gender', 'face-expression', 'face-recognition'].every((d) => existsSync(join(out, d, 'model.json'))) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === fp;
  if (done && !args.includes('--force')) {
    console.log(`[setup] face-api models: converted (${out}; --force to redo)`);
  } else {
    const t0 = Date.now();
    const dirs = convertAll(out, (s) => console.log(`[setup] ${s}`));
    writeFileSync(stamp, fp);
    console.log(`[setup] converted ${dirs.length} models into ${out} in ${Date.now() - t0} ms`);
  }
}
