// The converted ONNX models against the TFJS originals (face-api on tfjs's CPU backend), on real faces.
// Both sides see the same pixels: the test makes the network-sized canvas once with OpenCV and hands it
// to each, so every difference measured is the conversion's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { loadManifest } from '../../agent/inference/manifest.js';
import { faceCrop, writeInput } from '../../agent/inference/preprocess.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { readPriors, SsdDetector } from '../../agent/detect/ssd-detector.js';
import { decodeBox, sigmoid } from '../../agent/detect/ssd-decode.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { FACE_API_SAMPLES, GRACE_HOPPER, MESSI, requireImage } from '../helpers/images.js';
import { loadFaceApi, toTensor, type FaceApi } from '../helpers/face-api-reference.js';

const session = { providers: ['cpu'], intraOpThreads: 2, verifySha256: true };
let cv: CV;
let faceapi: FaceApi;
let detector: SsdDetector;
let ageGender: WorkerSession;
let expression: WorkerSession;

before(async () => {
  cv = await loadOpenCV();
  faceapi = await loadFaceApi();
  detector = await SsdDetector.open(cv, DEFAULT_MODELS.detector, { scoreThreshold: 0.5, iouThreshold: 0.5, minFacePx: 1, maxFaces: 100 }, session);
  ageGender = await WorkerSession.open(loadManifest(DEFAULT_MODELS.ageGender), session);
  expression = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), session);
});

after(async () => {
  await Promise.all([detector?.close(), ageGender?.close(), expression?.close()]);
});

/** The image padded to a square at the bottom-right and resized: what SSD's toBatchTensor(512) makes. */
function detectorCanvas(img: Mat): Mat {
  const side = Math.max(img.cols, img.rows);
  const canvas = new cv.Mat(side, side, cv.CV_8UC3, [0, 0, 0]);
  img.copyTo(canvas.getRegion(new cv.Rect(0, 0, img.cols, img.rows)));
  return canvas.resize(512, 512, 0, 0, cv.INTER_LINEAR);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const images = [GRACE_HOPPER, MESSI, ...FACE_API_SAMPLES];
let facesCompared = 0;
const compared = new Set<string>();

for (const path of images) {
  test(`parity on ${path.split('/').pop()}`, async () => {
    const canvas = detectorCanvas(cv.imread(requireImage(path)));
    const frame = { mat: canvas, width: 512, height: 512, index: 0, ts: 0 };
    const pixels = new Uint8Array(canvas.getData());
    const input = toTensor(faceapi, pixels, 512, 512);

    // Raw network: every anchor's decoded box and score.
    const ours = await detector.infer(frame);
    const ref = await faceapi.nets.ssdMobilenetv1.forward(input);
    const refBoxes = ref.boxes[0].dataSync() as Float32Array;
    const refScores = ref.scores[0].dataSync() as Float32Array;
    const priors = readPriors(detector.loaded);
    let boxDiffPx = 0;
    let scoreDiff = 0;
    for (let i = 0; i < 5118; i++) {
      const b = decodeBox(ours.boxEncodings, priors, i, [10, 10, 5, 5]);
      for (let k = 0; k < 4; k++) boxDiffPx = Math.max(boxDiffPx, Math.abs(b[k]! - refBoxes[i * 4 + k]!) * 512);
      scoreDiff = Math.max(scoreDiff, Math.abs(sigmoid(ours.classLogits[i * 3 + 1]!) - refScores[i]!));
    }
    assert.ok(boxDiffPx <= 1, `raw boxes differ by ${boxDiffPx} px`);
    assert.ok(scoreDiff <= 1e-4, `raw scores differ by ${scoreDiff}`);

    // Decoded detections after NMS.
    const dets = await detector.detect(frame);
    const refDets = await faceapi.nets.ssdMobilenetv1.locateFaces(input, { minConfidence: 0.5, maxResults: 100 });
    assert.ok(dets.length >= 1, 'no face found');
    assert.equal(dets.length, refDets.length, 'face count differs from face-api');
    for (const r of refDets) {
      const rb = r.box;
      const match = dets.find(
        (d) => Math.abs(d.box.x - rb.x) <= 1 && Math.abs(d.box.y - rb.y) <= 1 && Math.abs(d.box.w - rb.width) <= 1 && Math.abs(d.box.h - rb.height) <= 1,
      );
      assert.ok(match, `face-api box ${JSON.stringify(rb)} has no match within 1 px`);
      assert.ok(Math.abs(match.score - r.score) <= 1e-4, `score ${match.score} vs ${r.score}`);
    }

    // Attribute nets on each face: the same 112×112 crop to both.
    const agM = loadManifest(DEFAULT_MODELS.ageGender).manifest;
    for (const d of dets) {
      const crop = faceCrop(d.box, 0.2);
      const t = new Float32Array(3 * 112 * 112);
      writeInput(cv, canvas, crop, agM, t, 0);
      // Rebuild the 112×112 uint8 crop that writeInput made, for face-api.
      const face = new Uint8Array(112 * 112 * 3);
      const [mr, mg, mb] = agM.input.normalise.mean as [number, number, number];
      for (let i = 0; i < 112 * 112; i++) {
        face[i * 3 + 2] = Math.round(t[i]! * 255 + mr);
        face[i * 3 + 1] = Math.round(t[112 * 112 + i]! * 255 + mg);
        face[i * 3] = Math.round(t[2 * 112 * 112 + i]! * 255 + mb);
      }
      const faceTensor = toTensor(faceapi, face, 112, 112);
      const feeds = { input: { data: t, dims: [1, 3, 112, 112] } };
      const ag = await ageGender.run({ input: { data: t.slice(), dims: [1, 3, 112, 112] } });
      const ex = await expression.run(feeds);
      const refAg = await faceapi.nets.ageGenderNet.forward(faceTensor);
      const refEx = await faceapi.nets.faceExpressionNet.forward(faceTensor);
      const ageDiff = Math.abs(ag.outputs.age!.data[0]! - refAg.age.dataSync()[0]);
      const genderDiff = maxAbsDiff(ag.outputs.gender!.data, refAg.gender.dataSync());
      const exDiff = maxAbsDiff(ex.outputs.expression!.data, refEx.dataSync());
      assert.ok(ageDiff <= 1e-3, `age differs by ${ageDiff} years`);
      assert.ok(genderDiff <= 1e-5, `gender probabilities differ by ${genderDiff}`);
      assert.ok(exDiff <= 1e-5, `expression probabilities differ by ${exDiff}`);
      facesCompared++;
    }
    compared.add(path);
  });
}

// Checked after every image's test, whichever of them ran.
after(() => {
  if (images.every((i) => compared.has(i))) assert.ok(facesCompared >= 20, `only ${facesCompared} faces compared`);
});
