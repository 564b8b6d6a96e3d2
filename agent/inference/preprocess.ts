// Turns a region of a BGR frame into a model's input tensor exactly as its manifest says. Resizing is
// OpenCV's (bilinear); the layout and normalisation loop is plain TypeScript so it can be pinned by
// known-value tests.
import type { CV, Mat } from '../capture/opencv.js';
import type { ModelManifest, ResizeMode } from './manifest.js';

export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Where a w×h region lands on the square canvas of the pad modes, in source pixels. */
export function padPlacement(w: number, h: number, mode: ResizeMode): { side: number; dx: number; dy: number } {
  const side = Math.max(w, h);
  if (mode === 'pad-centre') return { side, dx: Math.floor((side - w) / 2), dy: Math.floor((side - h) / 2) };
  return { side, dx: 0, dy: 0 };
}

/** HWC uint8 (BGR or RGB as stored) → NCHW float32 at `offset`, in the manifest's colour order. */
export function hwcToNchw(
  hwc: Uint8Array, width: number, height: number, sourceIsBgr: boolean, colour: 'RGB' | 'BGR',
  mean: readonly number[], std: readonly number[], out: Float32Array, offset = 0,
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

/** Clamps a region to the frame; returns null when nothing of it is inside. */
export function clampRegion(r: Region, width: number, height: number): Region | null {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(width, Math.ceil(r.x + r.w));
  const y1 = Math.min(height, Math.ceil(r.y + r.h));
  if (x1 - x0 < 1 || y1 - y0 < 1) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Square region around a face box, grown by `margin` of its larger side on every side. */
export function faceCrop(box: Region, margin: number): Region {
  const side = Math.max(box.w, box.h) * (1 + 2 * margin);
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  return { x: cx - side / 2, y: cy - side / 2, w: side, h: side };
}

/**
 * Writes one region of a BGR frame into `out` (NCHW, batch slot `index`). Parts of the region outside the
 * frame are zero (black), as are the pad modes' borders.
 */
export function writeInput(cv: CV, frame: Mat, region: Region, m: ModelManifest, out: Float32Array, index: number): void {
  const [, , th, tw] = m.input.shape as [unknown, unknown, number, number];
  const inside = clampRegion(region, frame.cols, frame.rows);
  const rw = Math.max(1, Math.round(region.w));
  const rh = Math.max(1, Math.round(region.h));
  let canvas: Mat;
  const mode = m.input.resize;
  const { side, dx, dy } = mode === 'squash' ? { side: 0, dx: 0, dy: 0 } : padPlacement(rw, rh, mode);
  const cw = mode === 'squash' ? rw : side;
  const ch = mode === 'squash' ? rh : side;
  const wholeFrame = inside && inside.x === 0 && inside.y === 0 && inside.w === frame.cols && inside.h === frame.rows;
  if (wholeFrame && dx === 0 && dy === 0 && cw === frame.cols && ch === frame.rows) {
    canvas = frame;
  } else {
    canvas = new cv.Mat(ch, cw, cv.CV_8UC3, [0, 0, 0]);
    if (inside) {
      const ox = dx + inside.x - Math.round(region.x);
      const oy = dy + inside.y - Math.round(region.y);
      const w = Math.min(inside.w, cw - ox);
      const h = Math.min(inside.h, ch - oy);
      if (w > 0 && h > 0 && ox >= 0 && oy >= 0) {
        frame.getRegion(new cv.Rect(inside.x, inside.y, w, h)).copyTo(canvas.getRegion(new cv.Rect(ox, oy, w, h)));
      }
    }
  }
  const resized = canvas.cols === tw && canvas.rows === th ? canvas : canvas.resize(th, tw, 0, 0, cv.INTER_LINEAR);
  const data = new Uint8Array(resized.getData());
  hwcToNchw(data, tw, th, true, m.input.colour, m.input.normalise.mean, m.input.normalise.std, out, index * 3 * tw * th);
}
