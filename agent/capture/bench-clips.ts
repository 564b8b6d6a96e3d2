// The clips `percept bench --live` plays as a camera would: 720p at 25 fps in H.264 (what most IP cameras
// send), over the demo clip's glacier photo (no face in it; installed by Debian's facedetect package,
// like the demo clip's people) with light sensor noise — per-frame Gaussian noise of σ 2.5 grey levels,
// so the still scene is never bit-for-bit still, as no real sensor is. "empty" has nobody in it; "busy"
// has three people walking in, standing a few seconds and leaving (Grace Hopper from the left, Messi from
// the right, then Grace again, mirrored, from the left). Deterministic: the same seed gives the same clip.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { seededRandom } from '../lib/seeded-random.js';
import { CLIP_IMAGES, paste } from './demo-clip.js';
import type { CV, Mat } from './opencv.js';

export type BenchScene = 'empty' | 'busy';
export const BENCH_CLIP = { width: 1280, height: 720, fps: 25, noiseSigma: 2.5 };
/** Clip lengths: a still scene loops seamlessly, so 8 s will do; the busy one holds its three visits. */
export const BENCH_SECONDS: Record<BenchScene, number> = { empty: 8, busy: 22 };

/**
 * Gaussian noise of σ grey levels as two unsigned images (its positive and its negative part), larger than
 * a frame: each frame adds one and subtracts the other at its own offset, in OpenCV's saturating 8-bit
 * arithmetic (a per-pixel loop in JS took ~100 ms a frame here).
 */
function noisePool(cv: CV, rows: number, cols: number, sigma: number, rand: () => number): { plus: Mat; minus: Mat } {
  const n = rows * cols * 3;
  const plus = Buffer.alloc(n);
  const minus = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    // Box–Muller: a normal value from two uniform ones.
    const v = Math.round(Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()) * sigma);
    if (v > 0) plus[i] = Math.min(255, v);
    else minus[i] = Math.min(255, -v);
  }
  return { plus: new cv.Mat(plus, rows, cols, cv.CV_8UC3), minus: new cv.Mat(minus, rows, cols, cv.CV_8UC3) };
}

const ramp = (t: number, t0: number, t1: number, a: number, b: number) => (t <= t0 ? a : t >= t1 ? b : a + ((b - a) * (t - t0)) / (t1 - t0));

interface Walker {
  image: Mat;
  y: number;
  /** Seconds: starts walking in, stands from, leaves at, gone at. */
  times: [number, number, number, number];
  fromLeft: boolean;
  standX: number;
}

function walkers(cv: CV, W: number, H: number): Walker[] {
  for (const p of Object.values(CLIP_IMAGES)) {
    if (!existsSync(p)) throw new Error(`bench clip: ${p} is missing (installed by the Debian packages facedetect and opencv-doc: run "npm run setup")`);
  }
  const size = Math.round(H * 0.42);
  const grace = cv.imread(CLIP_IMAGES.grace).resize(size, size);
  // messi5.jpg is a wide shot; cut the same portrait around his face as the demo clip does.
  const messi = cv
    .imread(CLIP_IMAGES.messi)
    .getRegion(new cv.Rect(175, 35, 140, 150))
    .resize(Math.round(H * 0.5), Math.round(H * 0.467));
  return [
    { image: grace, y: Math.round(H * 0.25), times: [0.5, 2, 6.5, 8], fromLeft: true, standX: W * 0.12 },
    { image: messi, y: Math.round(H * 0.2), times: [5, 6.5, 11, 12.5], fromLeft: false, standX: W * 0.55 },
    { image: grace.flip(1), y: Math.round(H * 0.22), times: [14, 15.5, 20, 21.5], fromLeft: true, standX: W * 0.3 },
  ];
}

function walkerX(w: Walker, t: number, W: number): number {
  const off = w.fromLeft ? -w.image.cols - 10 : W + 10;
  const [t0, t1, t2, t3] = w.times;
  // A small sway while standing: people are never perfectly still.
  const sway = 6 * Math.sin((t - t1) * 2);
  return t < t1 ? ramp(t, t0, t1, off, w.standX) : t < t2 ? w.standX + sway : ramp(t, t2, t3, w.standX + sway, off);
}

/** Writes the clip (H.264 in MP4 through OpenCV's FFmpeg writer) to `out`; returns its frame count. */
export function makeBenchClip(cv: CV, scene: BenchScene, out: string, seconds = BENCH_SECONDS[scene], seed = 22): number {
  const { width: W, height: H, fps, noiseSigma } = BENCH_CLIP;
  const background = cv.imread(CLIP_IMAGES.background).resize(H, W);
  const people = scene === 'busy' ? walkers(cv, W, H) : [];
  const rand = seededRandom(seed);
  const MARGIN = 64;
  const pool = noisePool(cv, H * 2, W + MARGIN, noiseSigma, rand);
  mkdirSync(dirname(out), { recursive: true });
  // Its own temporary name: two benches making the same clip at once must not write into one file.
  const tmp = `${out}.${process.pid}.tmp.mp4`;
  const writer = new cv.VideoWriter(tmp, cv.VideoWriter.fourcc('avc1'), fps, new cv.Size(W, H), true);
  const frames = Math.round(seconds * fps);
  try {
    for (let i = 0; i < frames; i++) {
      const t = i / fps;
      const frame = background.copy();
      for (const p of people) paste(cv, frame, p.image, Math.round(walkerX(p, t, W)), p.y);
      const at = new cv.Rect(Math.floor(rand() * MARGIN), Math.floor(rand() * H), W, H);
      writer.write(frame.add(pool.plus.getRegion(at)).sub(pool.minus.getRegion(at)));
    }
  } finally {
    writer.release();
  }
  if (!existsSync(tmp)) throw new Error(`bench clip: OpenCV wrote no ${tmp}: its FFmpeg has no H.264 encoder (libx264 or libopenh264)`);
  renameSync(tmp, out);
  return frames;
}
