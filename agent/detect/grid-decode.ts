// Decoding of anchor-free grid detectors (YuNet, libfacedetection.train), as OpenCV's FaceDetectorYN does
// it (modules/objdetect/src/face_detect.cpp): per stride s, one row per grid cell (row-major, W/s columns)
// with a class probability, an objectness, a box (centre offset in cells, log size in cells) and landmark
// offsets in cells. Pure: output tensors in, candidates in input pixels out; NMS is shared (nms.ts).
import type { Scored, YxBox } from './nms.js';
import { fitWithin } from '../lib/geometry.js';

export interface GridHead {
  stride: number;
  cls: ArrayLike<number>;
  obj: ArrayLike<number>;
  /** 4 per cell: cx offset, cy offset (cells), log w, log h (cells). */
  box: ArrayLike<number>;
  /** 2 × landmarks per cell, or absent. */
  kps?: ArrayLike<number>;
  landmarks: number;
}

export interface GridCandidate extends Scored {
  /** [ymin, xmin, ymax, xmax] in input pixels. */
  box: YxBox;
  /** [x, y] in input pixels. */
  landmarks: [number, number][];
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Every cell whose score sqrt(cls·obj) reaches the threshold, decoded. */
export function decodeGrid(heads: GridHead[], inputWidth: number, inputHeight: number, scoreThreshold: number): GridCandidate[] {
  const out: GridCandidate[] = [];
  for (const h of heads) {
    const cols = Math.floor(inputWidth / h.stride);
    const rows = Math.floor(inputHeight / h.stride);
    const cells = cols * rows;
    if (h.cls.length !== cells || h.obj.length !== cells || h.box.length !== cells * 4 || (h.kps && h.kps.length !== cells * 2 * h.landmarks)) {
      throw new Error(`stride ${h.stride}: outputs hold ${h.cls.length} cells, a ${inputWidth}×${inputHeight} input gives ${cols}×${rows} = ${cells}`);
    }
    const s = h.stride;
    const kw = 2 * h.landmarks;
    for (let i = 0; i < cells; i++) {
      const score = Math.sqrt(clamp01(h.cls[i]!) * clamp01(h.obj[i]!));
      if (score < scoreThreshold) continue;
      const col = i % cols;
      const row = (i - col) / cols;
      const b = i * 4;
      const cx = (col + h.box[b]!) * s;
      const cy = (row + h.box[b + 1]!) * s;
      const w = Math.exp(h.box[b + 2]!) * s;
      const ht = Math.exp(h.box[b + 3]!) * s;
      const landmarks: [number, number][] = [];
      if (h.kps) for (let k = 0; k < h.landmarks; k++) landmarks.push([(col + h.kps[i * kw + 2 * k]!) * s, (row + h.kps[i * kw + 2 * k + 1]!) * s]);
      out.push({
        score,
        box: [cy - ht / 2, cx - w / 2, cy + ht / 2, cx + w / 2],
        landmarks,
      });
    }
  }
  return out;
}

export interface InputPlan {
  /** The frame is resized to this… */
  width: number;
  height: number;
  /** …and padded at the bottom and right (black) to the tensor size. */
  tensorWidth: number;
  tensorHeight: number;
}

/** The size limits a frame is fitted within: the configured ones (0: none), capped by a fixed-size graph's input. */
export function inputLimits(maxWidth: number, maxHeight: number, fixed?: { width: number; height: number }): { maxWidth: number; maxHeight: number } {
  if (!fixed) return { maxWidth, maxHeight };
  const tighter = (limit: number, size: number) => (limit > 0 ? Math.min(limit, size) : size);
  return { maxWidth: tighter(maxWidth, fixed.width), maxHeight: tighter(maxHeight, fixed.height) };
}

/**
 * The detection image for a frame: scaled down (never up) to fit inside maxWidth × maxHeight (0: no limit
 * on that side), keeping the frame's aspect ratio, then padded at the bottom/right to a multiple of
 * `multiple` — what FaceDetectorYN does, rather than a square pad that would spend most of a 16:9 input on
 * black. A fixed-size graph (`fixed`) caps the size and is padded to exactly its size.
 */
export function planInput(
  frameWidth: number,
  frameHeight: number,
  maxWidth: number,
  maxHeight: number,
  multiple: number,
  fixed?: { width: number; height: number },
): InputPlan {
  // The same fit as the capture process's detection-size frames (capture-process.ts), so those need no resize.
  const limits = inputLimits(maxWidth, maxHeight, fixed);
  const { width, height } = fitWithin(frameWidth, frameHeight, limits.maxWidth, limits.maxHeight);
  const up = (v: number) => Math.ceil(v / multiple) * multiple;
  return {
    width,
    height,
    tensorWidth: fixed?.width ?? up(width),
    tensorHeight: fixed?.height ?? up(height),
  };
}
