// Motion gating (issue 22), on a real photo with real OpenCV: sensor noise and the light dimming give no
// region, a moving square gives one where it is, and an ignore zone hides motion inside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { MotionDetector, type MotionOptions } from '../../agent/detect/motion.js';
import { noisy } from '../helpers/scene-clips.js';
import { NO_FACE_BACKGROUND, requireImage } from '../helpers/images.js';
import { rng } from '../helpers/rng.js';

const W = 640;
const H = 360;
const DEFAULTS: MotionOptions = { width: 320, threshold: 20, cellFraction: 0.25, minArea: 0.002, backgroundMs: 1000, lightingFraction: 0.4, ignoreZones: [] };

async function scene(): Promise<{ cv: CV; background: Mat }> {
  const cv = await loadOpenCV();
  return { cv, background: cv.imread(requireImage(NO_FACE_BACKGROUND)).resize(H, W) };
}

const frameOf = (mat: Mat, i: number) => ({ mat, width: W, height: H, index: i, ts: i * 40 });

/** A chequered square (side px, 10 px squares: textured like a person, not one flat colour) at x, y on a copy of the background. */
function withSquare(cv: CV, background: Mat, x: number, y: number, side = 60): Mat {
  const m = background.copy();
  for (let dy = 0; dy < side; dy += 10)
    for (let dx = 0; dx < side; dx += 10) {
      const c = (dx + dy) % 20 ? 230 : 20;
      m.drawRectangle(new cv.Rect(x + dx, y + dy, 10, 10), new cv.Vec3(c, c, c), -1);
    }
  return m;
}

test('sensor noise (Gaussian, sigma 8 grey levels, new every frame) gives no motion region', async () => {
  const { cv, background } = await scene();
  const motion = new MotionDetector(cv, DEFAULTS);
  const r = rng(7);
  for (let i = 0; i < 50; i++) {
    const res = motion.detect(frameOf(noisy(cv, background, 8, r), i));
    assert.deepEqual(res.regions, [], `frame ${i}: ${JSON.stringify(res)}`);
  }
});

test('a moving square gives one region around where it is', async () => {
  const { cv, background } = await scene();
  const motion = new MotionDetector(cv, DEFAULTS);
  const r = rng(3);
  for (let i = 0; i < 20; i++) {
    const x = 100 + i * 15;
    const y = 150;
    const res = motion.detect(frameOf(noisy(cv, withSquare(cv, background, x, y), 4, r), i));
    if (i === 0) continue; // the first frame starts the background
    // The square, where it is now, lies inside a region (up to one grid cell, 16 frame px: a cell the
    // square only grazes does not count). Behind it, the places it left fade from the background over
    // backgroundMs: a region may trail back to where it started, never elsewhere.
    const cell = 16;
    const holds = res.regions.filter((g) => g.x <= x + cell && g.y <= y + cell && g.x + g.w >= x + 60 - cell && g.y + g.h >= y + 60 - cell);
    assert.equal(holds.length, 1, `frame ${i}: ${JSON.stringify(res.regions)} holds the square at ${x},${y}`);
    for (const g of res.regions)
      assert.ok(g.x >= 100 - cell && g.y >= y - cell && g.x + g.w <= x + 60 + cell && g.y + g.h <= y + 60 + cell, `frame ${i}: ${JSON.stringify(g)} is local`);
  }
});

test('the light dimming to 40 % and back (over 1 s each way) gives no motion region', async () => {
  const { cv, background } = await scene();
  const motion = new MotionDetector(cv, DEFAULTS);
  const r = rng(11);
  for (let i = 0; i < 75; i++) {
    const t = i / 25;
    const light = t < 1 ? 1 - 0.6 * t : t < 2 ? 0.4 : Math.min(1, 0.4 + 0.6 * (t - 2));
    const res = motion.detect(frameOf(noisy(cv, background.convertTo(cv.CV_8UC3, light, 0), 4, r), i));
    assert.deepEqual(res.regions, [], `frame ${i} (light ${light.toFixed(2)}): ${JSON.stringify(res)}`);
  }
});

test('the light switching off at once restarts the background instead of reporting the whole picture', async () => {
  const { cv, background } = await scene();
  const motion = new MotionDetector(cv, DEFAULTS);
  motion.detect(frameOf(background, 0));
  // A non-uniform change (one half darker) is not evened out by the brightness normalisation.
  const dark = background.copy();
  dark.drawRectangle(new cv.Rect(0, 0, W * 0.7, H), new cv.Vec3(0, 0, 0), -1);
  const res = motion.detect(frameOf(dark, 1));
  assert.equal(res.reset, true);
  assert.deepEqual(res.regions, []);
  assert.deepEqual(motion.detect(frameOf(dark, 2)).regions, [], 'the next frame is compared with the new background');
});

test('motion inside an ignore zone gives no region; the same motion outside one does', async () => {
  const { cv, background } = await scene();
  const zone: [number, number][] = [
    [0, 0],
    [0.5, 0],
    [0.5, 1],
    [0, 1],
  ];
  for (const [x0, expected] of [
    [40, 0],
    [400, 1],
  ] as const) {
    const motion = new MotionDetector(cv, { ...DEFAULTS, ignoreZones: [zone] });
    motion.detect(frameOf(background, 0));
    const res = motion.detect(frameOf(withSquare(cv, background, x0, 150), 1));
    assert.equal(res.regions.length, expected, `square at x ${x0}: ${JSON.stringify(res.regions)}`);
  }
});
