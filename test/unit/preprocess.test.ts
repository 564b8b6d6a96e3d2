// Preprocessing pinned by known values, with the real OpenCV doing the resizing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV } from '../../agent/capture/opencv.js';
import { canvasBorders, clampRegion, faceCrop, hwcToNchw, padPlacement, writeInput } from '../../agent/inference/preprocess.js';
import type { ModelManifest } from '../../agent/inference/manifest.js';

let cv: CV;
before(async () => { cv = await loadOpenCV(); });

const manifest = (size: number, resize: ModelManifest['input']['resize'], mean = [0, 0, 0], std = [1, 1, 1], colour: 'RGB' | 'BGR' = 'RGB') =>
  ({ input: { name: 'x', shape: ['batch', 3, size, size], layout: 'NCHW', colour, resize, normalise: { mean, std } } }) as unknown as ModelManifest;

test('HWC BGR bytes → NCHW RGB floats, normalised', () => {
  // 2 pixels: BGR (10, 20, 30) and (40, 50, 60)
  const out = new Float32Array(6);
  hwcToNchw(new Uint8Array([10, 20, 30, 40, 50, 60]), 2, 1, true, 'RGB', [0.5 * 255, 0.5 * 255, 0.5 * 255], [0.5 * 255, 0.5 * 255, 0.5 * 255], out);
  const f = (v: number) => (v / 255 - 0.5) / 0.5; // PE preprocessing
  assert.deepEqual([...out].map((v) => +v.toFixed(6)), [f(30), f(60), f(20), f(50), f(10), f(40)].map((v) => +v.toFixed(6)));
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
  assert.ok(out.subarray(0, 48).every((v) => v === -1), 'slot 0 untouched');
  // Region half outside the frame on the left: that half is black.
  const off = new Float32Array(3 * 4 * 4);
  writeInput(cv, img, { x: -2, y: 0, w: 4, h: 4 }, manifest(4, 'squash'), off, 0);
  assert.deepEqual([...off.subarray(0, 4)], [0, 0, 100, 100]);
});
