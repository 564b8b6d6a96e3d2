// Detector manifests: the catalog's YuNet manifest is accepted as it is, and what the grid decoder relies
// on (strides, box outputs) is checked at load with a message naming the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../agent/cli/models-fetch.js';
import { loadManifest, ModelError, type ModelManifest } from '../../agent/inference/manifest.js';
import { tempDir } from '../helpers/temp.js';

function yunetManifest(): ModelManifest {
  const e = loadCatalog()['yunet-n']!;
  return structuredClone({
    ...e.manifest,
    files: e.files.map((f) => ({
      path: f.path,
      sha256: f.sha256,
      bytes: f.bytes,
    })),
  });
}

function load(m: unknown) {
  const dir = tempDir('percept-manifest-');
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  return loadManifest(dir);
}

test("the catalog's YuNet manifest loads: BGR 0–255, dynamic size in multiples of 32, 3 strides × 4 outputs", () => {
  const m = load(yunetManifest()).manifest;
  assert.equal(m.input.colour, 'BGR');
  assert.deepEqual(m.input.normalise, { mean: [0, 0, 0], std: [1, 1, 1] });
  assert.equal(m.input.sizeMultiple, 32);
  assert.deepEqual([...new Set(m.outputs.map((o) => o.stride))], [8, 16, 32]);
  assert.deepEqual(m.outputs.find((o) => o.type === 'grid-landmark-offsets')!.labels, [
    'right-eye',
    'left-eye',
    'nose-tip',
    'right-mouth-corner',
    'left-mouth-corner',
  ]);
});

test('a grid output without a stride is refused, naming it', () => {
  const m = yunetManifest();
  delete m.outputs[0]!.stride;
  assert.throws(
    () => load(m),
    (e: unknown) => e instanceof ModelError && /output cls_8: a grid-class-probability output needs "stride"/.test(e.message),
  );
});

test('a detector without box outputs, or an SSD without priors, is refused', () => {
  const m = yunetManifest();
  m.outputs = m.outputs.filter((o) => o.type !== 'grid-box-offsets');
  assert.throws(() => load(m), /a detector manifest needs box outputs/);
  const ssd = yunetManifest();
  ssd.outputs = [
    {
      name: 'box_encodings',
      shape: ['batch', 5118, 4],
      task: 'boxes',
      type: 'ssd-box-encodings',
    },
  ];
  assert.throws(() => load(ssd), /an SSD detector manifest \(ssd-box-encodings\) needs "priors"/);
});
