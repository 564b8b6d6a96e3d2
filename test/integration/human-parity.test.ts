// The converted oarriaga emotion and gender nets (models/human/convert.ts) give what the TF.js originals give, run
// by @tensorflow/tfjs (its own graph executor and weight decoding) on real faces of the smoke set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { PACKAGE_ROOT } from '../../agent/lib/package-root.js';
import { convertOarriagaEmotion, convertOarriagaGender, humanModelsDir } from '../../models/human/convert.js';

const require = createRequire(import.meta.url);
const FACES = ['interfaces-009.jpg', 'interfaces-028.jpg', 'interfaces-051.jpg', 'interfaces-071.jpg', 'interfaces-085.jpg', 'bsplus-john.jpg'];

const NETS = [
  { json: 'emotion.json', output: 'emotion', classes: 7, convert: convertOarriagaEmotion },
  { json: 'gender.json', output: 'gender', classes: 2, convert: convertOarriagaGender },
];

for (const net of NETS)
  test(`oarriaga ${net.output}: ONNX probabilities match the TF.js graph model within 1e-4 on six real faces`, async () => {
    const cv = await loadOpenCV();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const tf: any = require('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const file = join(humanModelsDir(), net.json);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const weightData = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(humanModelsDir(), p)))));
    const reference = await tf.loadGraphModel({
      load: async () => ({
        modelTopology: json.modelTopology,
        format: json.format,
        weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      }),
    });
    const session = await ort.InferenceSession.create(net.convert());
    let worst = 0;
    for (const f of FACES) {
      const rgb = cv
        .imread(join(PACKAGE_ROOT, 'test/fixtures/smoke-set', f))
        .resize(64, 64)
        .cvtColor(cv.COLOR_BGR2RGB);
      const hwc = Float32Array.from(rgb.getData(), (v) => v / 255);
      const chw = new Float32Array(3 * 64 * 64);
      for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) chw[c * 64 * 64 + i] = hwc[i * 3 + c]!;
      // Human's emotion.ts preprocessing, in tfjs.
      const grey = tf.tidy(() =>
        tf
          .sum(tf.mul(tf.tensor4d(hwc, [1, 64, 64, 3]), tf.tensor1d([0.2989, 0.587, 0.114])), 3, true)
          .sub(0.5)
          .mul(2),
      );
      const want = Array.from((await reference.execute(grey).data()) as Float32Array);
      const out = await session.run({ input: new ort.Tensor('float32', chw, [1, 3, 64, 64]) });
      const got = Array.from(out[net.output]!.data as Float32Array);
      assert.equal(got.length, net.classes);
      worst = Math.max(worst, ...got.map((v, i) => Math.abs(v - want[i]!)));
      assert.equal(got.indexOf(Math.max(...got)), want.indexOf(Math.max(...want)), `${f}: arg-max`);
    }
    assert.ok(worst < 1e-4, `largest probability difference ${worst}`);
    await session.release();
  });
