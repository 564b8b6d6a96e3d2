// The converted recognition net (dlib ResNet-34, 128-d) against face-api on tfjs on real faces, then what
// its distances look like through the agent's own Embedder: the same photo shifted, scaled and darkened
// vs different people. Landmarks come from YuNet (test/helpers/yunet-landmarks.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { loadManifest } from '../../agent/inference/manifest.js';
import { writeFaceInput } from '../../agent/inference/preprocess.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { OnnxEmbedder } from '../../agent/classify/onnx-embedder.js';
import { embeddingDistance } from '../../agent/classify/embedder.js';
import type { FaceRegion } from '../../agent/classify/classifier.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { FACE_API_SAMPLES, GRACE_HOPPER, MESSI, requireImage } from '../helpers/images.js';
import { loadFaceApi, toTensor, type FaceApi } from '../helpers/face-api-reference.js';
import { yunetFaces } from '../helpers/yunet-landmarks.js';

const sessionOpts = {
  providers: ['cpu'],
  intraOpThreads: 2,
  verifySha256: true,
};
let cv: CV;
let faceapi: FaceApi;
let raw: WorkerSession;
let embedder: OnnxEmbedder;

before(async () => {
  cv = await loadOpenCV();
  faceapi = await loadFaceApi();
  raw = await WorkerSession.open(loadManifest(DEFAULT_MODELS.embedder), sessionOpts);
  embedder = await OnnxEmbedder.open(cv, DEFAULT_MODELS.embedder, sessionOpts);
});

after(async () => {
  await Promise.all([raw?.close(), embedder?.close()]);
});

const frameOf = (mat: Mat) => ({
  mat,
  width: mat.cols,
  height: mat.rows,
  index: 0,
  ts: 0,
});
const regions = async (img: Mat): Promise<FaceRegion[]> =>
  (await yunetFaces(cv, img)).map((f) => ({
    ...f.box,
    landmarks: f.landmarks,
  }));

test('manifest: an embedding model with its metric and threshold', () => {
  assert.equal(embedder.dims, 128);
  assert.equal(embedder.metric, 'euclidean');
  assert.ok(embedder.sameBelow > 0.3 && embedder.sameBelow <= 0.6, `sameBelow ${embedder.sameBelow}`);
  assert.ok(['box', 'aligned-5pt'].includes(loadManifest(DEFAULT_MODELS.embedder).manifest.input.crop!));
});

test('parity with face-api on tfjs: ≤ 1e-4 per component on every face of the test photos', async () => {
  const m = loadManifest(DEFAULT_MODELS.embedder).manifest;
  const [mr, mg, mb] = m.input.normalise.mean as [number, number, number];
  let compared = 0;
  let worst = 0;
  for (const path of [GRACE_HOPPER, MESSI, ...FACE_API_SAMPLES]) {
    const img = cv.imread(requireImage(path));
    for (const face of await regions(img)) {
      // Box and aligned crops in turn (tfjs's CPU backend is slow: one crop per face).
      const crop = {
        ...m,
        input: {
          ...m.input,
          crop: compared % 2 ? ('box' as const) : ('aligned-5pt' as const),
        },
      };
      {
        const t = new Float32Array(3 * 150 * 150);
        writeFaceInput(cv, img, face, crop, 0, t, 0);
        // The 150×150 uint8 crop writeFaceInput made, handed to face-api as an image.
        const px = new Uint8Array(150 * 150 * 3);
        for (let i = 0; i < 150 * 150; i++) {
          px[i * 3 + 2] = Math.round(t[i]! * 255 + mr);
          px[i * 3 + 1] = Math.round(t[150 * 150 + i]! * 255 + mg);
          px[i * 3] = Math.round(t[2 * 150 * 150 + i]! * 255 + mb);
        }
        const ours = (await raw.run({ input: { data: t, dims: [1, 3, 150, 150] } })).outputs.embedding!.data;
        const ref = (await faceapi.nets.faceRecognitionNet.forward(toTensor(faceapi, px, 150, 150))).dataSync() as Float32Array;
        assert.equal(ours.length, 128);
        for (let i = 0; i < 128; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
        compared++;
      }
    }
  }
  console.log(`# recognition parity: ${compared} crops, max |ONNX − tfjs| = ${worst.toExponential(2)}`);
  assert.ok(compared >= 24, `only ${compared} crops compared`);
  assert.ok(worst <= 1e-4, `embeddings differ by ${worst}`);
});

/** The photo moved by (dx, dy), scaled by s about its centre, and its brightness multiplied by b. */
function variant(img: Mat, dx: number, dy: number, s: number, b: number): Mat {
  const cx = img.cols / 2;
  const cy = img.rows / 2;
  const m = new cv.Mat(
    [
      [s, 0, cx - s * cx + dx],
      [0, s, cy - s * cy + dy],
    ],
    cv.CV_64F,
  );
  return img.warpAffine(m, new cv.Size(img.cols, img.rows), cv.INTER_LINEAR, cv.BORDER_REPLICATE).convertTo(cv.CV_8UC3, b, 0);
}

test('distances: the same face shifted / scaled / at half brightness stays under the threshold; other people are farther', async () => {
  const grace = cv.imread(requireImage(GRACE_HOPPER));
  const base = (await embedder.embed(frameOf(grace), (await regions(grace)).slice(0, 1)))[0]!;
  const same: Record<string, number> = {};
  for (const [name, v] of Object.entries({
    'shift 23,-17 px': variant(grace, 23, -17, 1, 1),
    'scale 0.8': variant(grace, 0, 0, 0.8, 1),
    'scale 1.2': variant(grace, 0, 0, 1.2, 1),
    'brightness 50%': variant(grace, 0, 0, 1, 0.5),
  })) {
    const faces = await regions(v);
    assert.equal(faces.length, 1, `${name}: one face`);
    same[name] = embeddingDistance(base, (await embedder.embed(frameOf(v), faces))[0]!, 'euclidean');
  }
  // Every other face in the photos: Messi and the 22 faces of face-api's samples.
  const others: { who: string; e: Float32Array }[] = [];
  for (const path of [MESSI, ...FACE_API_SAMPLES]) {
    const img = cv.imread(requireImage(path));
    const faces = await regions(img);
    (await embedder.embed(frameOf(img), faces)).forEach((e, i) => others.push({ who: `${path.split('/').pop()}#${i}`, e }));
  }
  const toGrace = others.map((o) => embeddingDistance(base, o.e, 'euclidean'));
  const pairwise: number[] = [];
  for (let i = 0; i < others.length; i++) for (let j = i + 1; j < others.length; j++) pairwise.push(embeddingDistance(others[i]!.e, others[j]!.e, 'euclidean'));
  const stats = (xs: number[]) =>
    `min ${Math.min(...xs).toFixed(3)}, median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(3)}, max ${Math.max(...xs).toFixed(3)}`;
  console.log(
    `# same person (Grace Hopper): ${Object.entries(same)
      .map(([k, d]) => `${k} ${d.toFixed(3)}`)
      .join(', ')}`,
  );
  console.log(`# Grace vs Messi: ${toGrace[0]!.toFixed(3)}; Grace vs the 22 sample faces: ${stats(toGrace.slice(1))}`);
  console.log(
    `# all pairs of the other ${others.length} faces (${pairwise.length} pairs): ${stats(pairwise)}; pairs under 0.6: ${pairwise.filter((d) => d < 0.6).length}, under ${embedder.sameBelow}: ${pairwise.filter((d) => d < embedder.sameBelow).length}`,
  );
  for (const [k, d] of Object.entries(same)) assert.ok(d < embedder.sameBelow, `same face (${k}) at ${d}`);
  assert.ok(Math.max(...Object.values(same)) < Math.min(...toGrace), 'a variant of Grace is farther than some other person');
  assert.ok(
    toGrace.every((d) => d > embedder.sameBelow),
    `someone else within ${embedder.sameBelow} of Grace`,
  );
});
