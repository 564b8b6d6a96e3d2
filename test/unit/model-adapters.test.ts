// The adapter registries: what a manifest declares (kind, output types) picks the adapter, each shipped
// manifest picks the one that runs it today, and a manifest no adapter decodes is refused with a
// message listing what the registry knows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../agent/cli/models-fetch.js';
import { DETECTORS } from '../../agent/detect/open-detector.js';
import { GridDetector } from '../../agent/detect/grid-detector.js';
import { SsdDetector } from '../../agent/detect/ssd-detector.js';
import { ATTRIBUTE_DECODER, ATTRIBUTE_MODELS } from '../../agent/classify/attribute-model.js';
import { EMBEDDERS, OnnxEmbedder } from '../../agent/classify/onnx-embedder.js';
import { DEFAULT_MODELS } from '../../agent/inference/default-models.js';
import { loadManifest, ModelError, type LoadedManifest, type ModelManifest, type OutputSpec } from '../../agent/inference/manifest.js';
import { pickAdapter, type AdapterRegistry } from '../../agent/inference/model-adapter.js';

const REGISTRIES: Record<ModelManifest['kind'], AdapterRegistry<unknown, never>> = {
  detector: DETECTORS,
  attributes: ATTRIBUTE_MODELS,
  embedding: EMBEDDERS,
};

function yunet(): ModelManifest {
  const e = loadCatalog()['yunet-n']!;
  return structuredClone({ ...e.manifest, files: e.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })) });
}

const loaded = (manifest: ModelManifest): LoadedManifest => ({ dir: '/models/x', manifest, modelPath: '/models/x/model.onnx' });
const withOutputs = (kind: ModelManifest['kind'], outputs: OutputSpec[]): LoadedManifest => loaded({ ...yunet(), kind, outputs });
const pick = (l: LoadedManifest) => pickAdapter(REGISTRIES[l.manifest.kind], l);

test('the declared output types pick the adapter: grid, SSD, attributes, embedding', () => {
  assert.equal(pick(loaded(yunet())), GridDetector.adapter);
  const ssd = withOutputs('detector', [
    { name: 'boxes', shape: ['batch', 5118, 4], task: 'boxes', type: 'ssd-box-encodings' },
    { name: 'scores', shape: ['batch', 5118, 2], task: 'face-score', type: 'sigmoid-logits' },
  ]);
  assert.equal(pick(ssd), SsdDetector.adapter);
  const ages = withOutputs('attributes', [{ name: 'age', shape: ['batch', 1], task: 'age', type: 'regression-years', sigmaYears: 5 }]);
  assert.equal(pick(ages), ATTRIBUTE_DECODER);
  const emb = withOutputs('embedding', [{ name: 'e', shape: ['batch', 128], task: 'embedding', type: 'embedding', metric: 'euclidean', sameBelow: 0.45 }]);
  assert.equal(pick(emb), OnnxEmbedder.adapter);
});

test('every shipped manifest picks the adapter that runs it', (t) => {
  const expected: [string, unknown][] = [
    [DEFAULT_MODELS.detector, SsdDetector.adapter],
    [DEFAULT_MODELS.yunet, GridDetector.adapter],
    [DEFAULT_MODELS.ageGender, ATTRIBUTE_DECODER],
    [DEFAULT_MODELS.expression, ATTRIBUTE_DECODER],
    [DEFAULT_MODELS.embedder, OnnxEmbedder.adapter],
  ];
  const missing = expected.filter(([dir]) => !existsSync(join(dir, 'model.json')));
  if (missing.length) t.diagnostic(`not installed (npm run setup; percept models fetch yunet-n): ${missing.map(([d]) => d).join(', ')}`);
  assert.ok(missing.length < expected.length, 'no shipped model is installed: run "npm run setup"');
  for (const [dir, adapter] of expected) {
    if (missing.some(([d]) => d === dir)) continue;
    assert.equal(pick(loadManifest(dir)), adapter, dir);
  }
});

test('an output type no adapter of that kind decodes is refused, listing what the registry knows', () => {
  const scoresOnly = withOutputs('detector', [{ name: 'scores', shape: ['batch', 10, 2], task: 'face-score', type: 'sigmoid-logits' }]);
  assert.throws(
    () => pickAdapter(DETECTORS, scoresOnly),
    (e: unknown) =>
      e instanceof ModelError &&
      e.message.includes(
        'no detector adapter decodes its outputs (sigmoid-logits); the adapters here are grid decoder (detector: grid-box-offsets), SSD decoder (detector: ssd-box-encodings)',
      ),
  );
  // A model of another kind handed to the detector registry says what is needed.
  const ages = withOutputs('attributes', [{ name: 'age', shape: ['batch', 1], task: 'age', type: 'regression-years', sigmaYears: 5 }]);
  assert.throws(() => pickAdapter(DETECTORS, ages), /kind is "attributes", a detector model is needed here; the adapters here are grid decoder/);
  assert.throws(() => pickAdapter(EMBEDDERS, loaded(yunet())), /kind is "detector", an embedding model is needed here/);
});

test('an output type outside the contract is refused at load, naming the field and the types there are', () => {
  const m = yunet() as unknown as { outputs: { type: string }[] };
  m.outputs[0]!.type = 'centernet-heatmap';
  const dir = mkdtempSync(join(tmpdir(), 'percept-adapters-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
    assert.throws(
      () => loadManifest(dir),
      /model\.json\/outputs\/0\/type must be one of softmax-logits, probabilities, regression-years, ssd-box-encodings, sigmoid-logits, embedding, grid-class-probability/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an age, gender or emotion output of a type the attribute decoder does not read is refused at load, so verify refuses what run would', () => {
  const m: ModelManifest = {
    ...yunet(),
    kind: 'attributes',
    outputs: [{ name: 'gender', shape: ['batch', 2], task: 'gender', type: 'sigmoid-logits', labels: ['male', 'female'] }],
  };
  const dir = mkdtempSync(join(tmpdir(), 'percept-adapters-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
    assert.throws(
      () => loadManifest(dir),
      /output gender: a gender output is decoded from softmax-logits, probabilities, regression-years, not sigmoid-logits/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
