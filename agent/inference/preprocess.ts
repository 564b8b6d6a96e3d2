// Turns a region of a BGR frame into a model's input tensor exactly as its manifest says. Resizing is
// OpenCV's (bilinear); the layout and normalisation loop is plain TypeScript so it can be pinned by
// known-value tests.
import type { CV, Mat } from '../capture/opencv.js';
import { affineRows, alignmentTransform, toFiveLandmarks, type FiveLandmarks, type Point } from '../lib/align.js';
import type { ModelManifest, ResizeMode } from './manifest.js';

import { clampRegion, type Box } from '../lib/geometry.js';

/** A rectangle of the frame to turn into a model input (a face box grown by its margin). */
export type Region = Box;
export { clampRegion };

/** Where a w×h region lands on the square canvas of the pad modes, in source pixels. */
export function padPlacement(w: number, h: number, mode: ResizeMode): { side: number; dx: number; dy: number } {
  const side = Math.max(w, h);
  if (mode === 'pad-centre') return { side, dx: Math.floor((side - w) / 2), dy: Math.floor((side - h) / 2) };
  return { side, dx: 0, dy: 0 };
}

/** HWC uint8 (BGR or RGB as stored) → NCHW float32 at `offset`, in the manifest's colour order. */
export function hwcToNchw(
  hwc: Uint8Array,
  width: number,
  height: number,
  sourceIsBgr: boolean,
  colour: 'RGB' | 'BGR',
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset = 0,
): void {
  const plane = width * height;
  const swap = sourceIsBgr !== (colour === 'BGR');
  for (let c = 0; c < 3; c++) {
    const src = swap ? 2 - c : c;
    const m = mean[c]!;
    const s = std[c]!;
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (hwc[i * 3 + src]! - m) / s;
  }
}

/** A face box grown by `margin` × its larger side on every side; the manifest's resize mode does the rest. */
export function faceCrop(box: Region, margin: number): Region {
  const grow = Math.max(box.w, box.h) * margin;
  return { x: box.x - grow, y: box.y - grow, w: box.w + 2 * grow, h: box.h + 2 * grow };
}

/** Black borders that turn the in-frame part of a region into the canvas the resize mode asks for. */
export function canvasBorders(region: Region, inside: Region, mode: ResizeMode): { top: number; bottom: number; left: number; right: number } {
  const rx = Math.round(region.x);
  const ry = Math.round(region.y);
  const rw = Math.max(1, Math.round(region.w));
  const rh = Math.max(1, Math.round(region.h));
  // Parts of the region outside the frame are black.
  let left = Math.max(0, inside.x - rx);
  let top = Math.max(0, inside.y - ry);
  let right = Math.max(0, rx + rw - (inside.x + inside.w));
  let bottom = Math.max(0, ry + rh - (inside.y + inside.h));
  if (mode !== 'squash') {
    const { side, dx, dy } = padPlacement(rw, rh, mode);
    left += dx;
    top += dy;
    right += side - rw - dx;
    bottom += side - rh - dy;
  }
  return { top, bottom, left, right };
}

/**
 * Writes one region of a BGR frame into `out` (NCHW, batch slot `index`). Parts of the region outside the
 * frame are black, as are the pad modes' borders.
 */
export function writeInput(cv: CV, frame: Mat, region: Region, m: ModelManifest, out: Float32Array, index: number): void {
  const [, , th, tw] = m.input.shape as [unknown, unknown, number, number];
  const inside = clampRegion(region, frame.cols, frame.rows) ?? { x: 0, y: 0, w: 1, h: 1 };
  const whole = inside.x === 0 && inside.y === 0 && inside.w === frame.cols && inside.h === frame.rows;
  const roi = whole ? frame : frame.getRegion(new cv.Rect(inside.x, inside.y, inside.w, inside.h));
  const b = canvasBorders(region, inside, m.input.resize);
  // BORDER_ISOLATED: a ROI would otherwise take its border from the pixels around it in the frame.
  const canvas =
    b.top || b.bottom || b.left || b.right
      ? roi.copyMakeBorder(b.top, b.bottom, b.left, b.right, cv.BORDER_CONSTANT | cv.BORDER_ISOLATED, new cv.Vec3(0, 0, 0))
      : roi;
  // A ROI is not continuous in memory; resize (even to the same size) gives a continuous copy to read.
  const ready = canvas.cols === tw && canvas.rows === th && canvas !== roi;
  const resized = ready || (canvas === frame && frame.cols === tw && frame.rows === th) ? canvas : canvas.resize(th, tw, 0, 0, cv.INTER_LINEAR);
  const data = new Uint8Array(resized.getData());
  hwcToNchw(data, tw, th, true, m.input.colour, m.input.normalise.mean, m.input.normalise.std, out, index * 3 * tw * th);
}

/**
 * Writes the aligned crop of one face (its 5 landmarks warped onto the template, agent/lib/align.ts) into
 * `out`. The model input must be square; `input.cropMargin` is the border around the template as a
 * fraction of the side. Outside the frame is black.
 */
export function writeAlignedInput(cv: CV, frame: Mat, landmarks: FiveLandmarks, m: ModelManifest, out: Float32Array, index: number): void {
  const [, , th, tw] = m.input.shape as [unknown, unknown, number, number];
  if (th !== tw) throw new Error(`model ${m.name}: aligned crops need a square input, the manifest says ${tw}×${th}`);
  const t = alignmentTransform(landmarks, tw, m.input.cropMargin ?? 0);
  const warped = frame.warpAffine(new cv.Mat(affineRows(t), cv.CV_64F), new cv.Size(tw, th), cv.INTER_LINEAR, cv.BORDER_CONSTANT, new cv.Vec3(0, 0, 0));
  const data = new Uint8Array(warped.getData());
  hwcToNchw(data, tw, th, true, m.input.colour, m.input.normalise.mean, m.input.normalise.std, out, index * 3 * tw * th);
}

/** Which crop a face gets: aligned when the manifest asks for it and the detector gave 5 landmarks, else its box. */
export function cropModeFor(m: ModelManifest, hasLandmarks: boolean): 'box' | 'aligned-5pt' {
  return m.input.crop === 'aligned-5pt' && hasLandmarks ? 'aligned-5pt' : 'box';
}

/** One face into batch slot `index`, cropped as cropModeFor says; `boxMargin` grows box crops. */
export function writeFaceInput(
  cv: CV,
  frame: Mat,
  face: Region & { landmarks?: readonly Point[] },
  m: ModelManifest,
  boxMargin: number,
  out: Float32Array,
  index: number,
): void {
  const five = toFiveLandmarks(face.landmarks);
  if (five && cropModeFor(m, true) === 'aligned-5pt') writeAlignedInput(cv, frame, five, m, out, index);
  else writeInput(cv, frame, faceCrop(face, boxMargin), m, out, index);
}
