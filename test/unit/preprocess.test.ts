// Preprocessing pinned by known values, with the real OpenCV doing the resizing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV } from '../../agent/capture/opencv.js';
import {
  canvasBorders,
  clampRegion,
  cropModeFor,
  faceCrop,
  hwcToNchw,
  padPlacement,
  writeAlignedInput,
  writeFaceInput,
  writeInput,
} from '../../agent/inference/preprocess.js';
import { TEMPLATE_112, type FiveLandmarks, type Point } from '../../agent/lib/align.js';
import type { Detection } from '../../agent/detect/detector.js';
import type { ModelManifest } from '../../agent/inference/manifest.js';

let cv: CV;
before(async () => {
  cv = await loadOpenCV();
});

const manifest = (size: number, resize: ModelManifest['input']['resize'], mean = [0, 0, 0], std = [1, 1, 1], colour: 'RGB' | 'BGR' = 'RGB') =>
  ({ input: { name: 'x', shape: ['batch', 3, size, size], layout: 'NCHW', colour, resize, normalise: { mean, std } } }) as unknown as ModelManifest;

test('HWC BGR bytes → NCHW RGB floats, normalised', () => {
  // 2 pixels: BGR (10, 20, 30) and (40, 50, 60)
  const out = new Float32Array(6);
  hwcToNchw(new Uint8Array([10, 20, 30, 40, 50, 60]), 2, 1, true, 'RGB', [0.5 * 255, 0.5 * 255, 0.5 * 255], [0.5 * 255, 0.5 * 255, 0.5 * 255], out);
  const f = (v: number) => (v / 255 - 0.5) / 0.5; // PE preprocessing
  assert.deepEqual(
    [...out].map((v) => +v.toFixed(6)),
    [f(30), f(60), f(20), f(50), f(10), f(40)].map((v) => +v.toFixed(6)),
  );
  const bgr = new Float32Array(6);
  hwcToNchw(new Uint8Array([10, 20, 30, 40, 50, 60]), 2, 1, true, 'BGR', [0, 0, 0], [1, 1, 1], bgr, 0);
  assert.deepEqual([...bgr], [10, 40, 20, 50, 30, 60]);
});

test('geometry: pad placement, clamping, face crop margins, borders', () => {
  assert.deepEqual(padPlacement(100, 60, 'pad-centre'), { side: 100, dx: 0, dy: 20 });
  assert.deepEqual(padPlacement(100, 60, 'pad-bottom-right'), { side: 100, dx: 0, dy: 0 });
  assert.deepEqual(clampRegion({ x: -5, y: 10, w: 20, h: 200 }, 100, 100), { x: 0, y: 10, w: 15, h: 90 });
  assert.equal(clampRegion({ x: 200, y: 0, w: 10, h: 10 }, 100, 100), null);
  assert.deepEqual(faceCrop({ x: 10, y: 20, w: 40, h: 50 }, 0.1), { x: 5, y: 15, w: 50, h: 60 });
  // A 40×20 region hanging 10 px off the left edge, padded to a centred square.
  assert.deepEqual(canvasBorders({ x: -10, y: 0, w: 40, h: 20 }, { x: 0, y: 0, w: 30, h: 20 }, 'pad-centre'), { top: 10, bottom: 10, left: 10, right: 0 });
});

test('writeInput: squash resize of a known pattern', () => {
  // 4×2 BGR image: left half blue (255,0,0), right half red (0,0,255). Squash to 2×2.
  const img = new cv.Mat(2, 4, cv.CV_8UC3);
  img.setTo(new cv.Vec3(255, 0, 0));
  img.getRegion(new cv.Rect(2, 0, 2, 2)).setTo(new cv.Vec3(0, 0, 255));
  const out = new Float32Array(12);
  writeInput(cv, img, { x: 0, y: 0, w: 4, h: 2 }, manifest(2, 'squash'), out, 0);
  // R plane: left 0, right 255; B plane: left 255, right 0.
  assert.deepEqual([...out.subarray(0, 4)], [0, 255, 0, 255]);
  assert.deepEqual([...out.subarray(8, 12)], [255, 0, 255, 0]);
});

test('writeInput: pad-centre adds black bars, out-of-frame parts are black, batch slots are separate', () => {
  const img = new cv.Mat(4, 4, cv.CV_8UC3);
  img.setTo(new cv.Vec3(100, 100, 100));
  const out = new Float32Array(2 * 3 * 4 * 4).fill(-1);
  // 4 wide × 2 high region → 4×4 canvas with a 1-row bar above and below.
  writeInput(cv, img, { x: 0, y: 1, w: 4, h: 2 }, manifest(4, 'pad-centre'), out, 1);
  const r = [...out.subarray(48, 64)];
  assert.deepEqual(r, [0, 0, 0, 0, 100, 100, 100, 100, 100, 100, 100, 100, 0, 0, 0, 0]);
  assert.ok(
    out.subarray(0, 48).every((v) => v === -1),
    'slot 0 untouched',
  );
  // Region half outside the frame on the left: that half is black.
  const off = new Float32Array(3 * 4 * 4);
  writeInput(cv, img, { x: -2, y: 0, w: 4, h: 4 }, manifest(4, 'squash'), off, 0);
  assert.deepEqual([...off.subarray(0, 4)], [0, 0, 100, 100]);
});

// A 300×300 frame split at x = 150: left blue, right red. Landmarks are the template ×2 shifted by (50, 30)
// (upright) or also turned 90° clockwise about the frame centre, so the crop must undo exactly that.
function splitFrame() {
  const img = new cv.Mat(300, 300, cv.CV_8UC3);
  img.setTo(new cv.Vec3(255, 0, 0));
  img.getRegion(new cv.Rect(150, 0, 150, 300)).setTo(new cv.Vec3(0, 0, 255));
  return img;
}
const upright = TEMPLATE_112.map(([x, y]) => [2 * x + 50, 2 * y + 30] as Point) as unknown as FiveLandmarks;
const turned = upright.map(([x, y]) => [150 - (y - 150), 150 + (x - 150)] as Point) as unknown as FiveLandmarks;
const aligned = (size: number, margin = 0) =>
  ({
    name: 'a',
    input: {
      name: 'x',
      shape: ['batch', 3, size, size],
      layout: 'NCHW',
      colour: 'RGB',
      resize: 'squash',
      crop: 'aligned-5pt',
      cropMargin: margin,
      normalise: { mean: [0, 0, 0], std: [1, 1, 1] },
    },
  }) as unknown as ModelManifest;

test('writeAlignedInput: the template-sized crop samples frame point 2·(u, v) + (50, 30)', () => {
  const out = new Float32Array(3 * 112 * 112);
  writeAlignedInput(cv, splitFrame(), upright, aligned(112), out, 0);
  // Column u maps to frame x = 2u + 50: blue left of u = 50, red right of it (bilinear blends u = 50 only).
  const red = (u: number, v: number) => out[v * 112 + u]!;
  const blue = (u: number, v: number) => out[2 * 112 * 112 + v * 112 + u]!;
  for (const v of [0, 56, 111]) {
    assert.deepEqual([red(0, v), red(49, v), red(51, v), red(111, v)], [0, 0, 255, 255], `row ${v} red`);
    assert.deepEqual([blue(0, v), blue(49, v), blue(51, v), blue(111, v)], [255, 255, 0, 0], `row ${v} blue`);
  }
});

test('writeAlignedInput: a face turned 90° comes out upright; margins shrink the template; outside is black', () => {
  const out = new Float32Array(3 * 112 * 112);
  writeAlignedInput(cv, splitFrame(), turned, aligned(112), out, 0);
  // Turned clockwise, crop pixel (u, v) samples frame (270 − 2v, 2u + 50): the left/right split becomes
  // top (red, v < 60) and bottom (blue).
  const red = (u: number, v: number) => out[v * 112 + u]!;
  assert.deepEqual([red(5, 0), red(60, 55), red(100, 65), red(5, 111)], [255, 255, 0, 0]);
  // Margin 0.25 on a 56 crop: the template spans 28 px from 14, so pixel (u, v) samples frame (8u − 62, 8v − 82).
  const small = new Float32Array(3 * 56 * 56);
  writeAlignedInput(cv, splitFrame(), upright, aligned(56, 0.25), small, 0);
  assert.deepEqual([small[28 * 56 + 20]!, small[28 * 56 + 30]!], [0, 255]);
  // Near the crop's left edge the frame runs out (x < 0): black in every plane.
  assert.deepEqual([small[28 * 56 + 2]!, small[56 * 56 + 28 * 56 + 2]!, small[2 * 56 * 56 + 28 * 56 + 2]!], [0, 0, 0]);
  assert.equal(small[2 * 56 * 56 + 28 * 56 + 20], 255, 'inside the frame on the left: blue');
  assert.throws(
    () =>
      writeAlignedInput(cv, splitFrame(), upright, { ...aligned(56), input: { ...aligned(56).input, shape: ['batch', 3, 56, 64] } } as ModelManifest, small, 0),
    /square input/,
  );
});

test('crop choice: aligned only when the manifest asks and landmarks exist; else the box', () => {
  const m = aligned(112);
  assert.equal(cropModeFor(m, true), 'aligned-5pt');
  assert.equal(cropModeFor(m, false), 'box');
  assert.equal(cropModeFor(manifest(112, 'squash'), true), 'box');
  const viaFace = new Float32Array(3 * 112 * 112);
  const direct = new Float32Array(3 * 112 * 112);
  writeFaceInput(cv, splitFrame(), { x: 0, y: 0, w: 10, h: 10, landmarks: turned }, m, 0, viaFace, 0);
  writeAlignedInput(cv, splitFrame(), turned, m, direct, 0);
  assert.deepEqual(viaFace, direct);
  // Without landmarks: the box crop of the left half is all blue.
  writeFaceInput(cv, splitFrame(), { x: 0, y: 0, w: 100, h: 100 }, m, 0, viaFace, 0);
  assert.ok(viaFace.subarray(0, 112 * 112).every((v) => v === 0) && viaFace.subarray(2 * 112 * 112).every((v) => v === 255));
  // A detector's landmark list (Detection.landmarks) goes in as is; anything but 5 points means a box crop.
  const det: Detection = { box: { x: 0, y: 0, w: 100, h: 100 }, score: 0.9, landmarks: turned.slice(0, 4).map(([x, y]) => [x, y]) };
  viaFace.fill(-1);
  writeFaceInput(cv, splitFrame(), { ...det.box, landmarks: det.landmarks }, m, 0, viaFace, 0);
  assert.ok(
    viaFace.subarray(0, 112 * 112).every((v) => v === 0),
    'four points: the box crop',
  );
});
