// face-api itself, on @tensorflow/tfjs's pure-JS CPU backend: the reference the converted models are
// checked against. Weights are decoded by tfjs (tf.io.decodeWeights), not by our converter.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FaceApi = any;

export async function loadFaceApi(): Promise<FaceApi> {
  // The CJS build is the one that loads under Node without a bundler; its WASM backend is not used.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  await faceapi.tf.setBackend('cpu');
  await faceapi.tf.ready();
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const load = (net: FaceApi, name: string) => {
    const manifest = JSON.parse(readFileSync(join(modelDir, `${name}-weights_manifest.json`), 'utf8'));
    const buffers = manifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(modelDir, p))));
    const all = Buffer.concat(buffers);
    const specs = manifest.flatMap((g: { weights: unknown[] }) => g.weights);
    net.loadFromWeightMap(faceapi.tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), specs));
  };
  load(faceapi.nets.ssdMobilenetv1, 'ssd_mobilenetv1_model');
  load(faceapi.nets.ageGenderNet, 'age_gender_model');
  load(faceapi.nets.faceExpressionNet, 'face_expression_model');
  load(faceapi.nets.faceRecognitionNet, 'face_recognition_model');
  return faceapi;
}

/** An RGB image as a [1, h, w, 3] float tensor, the way face-api receives a decoded image. */
export function toTensor(faceapi: FaceApi, bgr: Uint8Array, width: number, height: number): FaceApi {
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = bgr[i * 3 + 2]!;
    rgb[i * 3 + 1] = bgr[i * 3 + 1]!;
    rgb[i * 3 + 2] = bgr[i * 3]!;
  }
  return faceapi.tf.tensor4d(rgb, [1, height, width, 3]);
}
