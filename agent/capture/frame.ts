import type { Mat } from './opencv.js';

/** One captured image. Its pixels are BGR, 8-bit, 3 channels; boxes are always in full-frame pixels. */
export interface Frame {
  /**
   * Full-resolution pixels, or null when the source sent only `small` (nothing needed more: an empty
   * scene). `fullPixels(frame)` fetches them when something does.
   */
  mat: Mat | null;
  /** A copy scaled down to the detector's input size, when the source made one instead of sending `mat`. */
  small?: Mat;
  /** Fetches the full-resolution pixels from the source (null: they are gone, e.g. the capture process restarted). */
  fetchFull?: () => Promise<Mat | null>;
  width: number;
  height: number;
  /** Position in the source, from 0. */
  index: number;
  /** Capture time, ms since the epoch. */
  ts: number;
}

/**
 * What the pipeline tells a source about the frames it reads next (it reads ahead: the answer shapes the
 * frame after next). `fit` null: full frames only, as before detection-size frames existed.
 */
export interface FrameNeeds {
  /** Send full-resolution pixels (someone is in view, or the preview is watched). */
  full: boolean;
  /** Otherwise send a copy scaled down to fit this (the detector's input limits; 0: no limit). */
  fit: { maxWidth: number; maxHeight: number } | null;
}

/** The frame-source port: a camera, a stream, a file or a folder of images. */
export interface FrameSource {
  readonly uri: string;
  open(): Promise<void>;
  /** Frames until the source ends (or forever for a camera); stops when close() is called. */
  frames(): AsyncGenerator<Frame>;
  /** Sources that can send less than a full frame take the pipeline's needs here; others always send it. */
  need?(needs: FrameNeeds): void;
  close(): Promise<void>;
}

/** The pixels to detect on: the full frame if the source sent it, else its detection-size copy. `scale`: image px per frame px. */
export function detectionPixels(frame: Frame): { mat: Mat; scale: number } {
  if (frame.mat) return { mat: frame.mat, scale: 1 };
  if (frame.small) return { mat: frame.small, scale: frame.small.cols / frame.width };
  throw new Error(`frame ${frame.index} carries no pixels`);
}

/**
 * The full-resolution pixels, fetched from the source if it sent only the small copy (kept on the frame
 * for its other users). Null when the source no longer has them.
 */
export async function fullPixels(frame: Frame): Promise<Mat | null> {
  if (!frame.mat && frame.fetchFull) frame.mat = await frame.fetchFull();
  return frame.mat;
}

/** As fullPixels, for a user that cannot go on without them (a classifier's or embedder's crops). */
export async function requireFullPixels(frame: Frame): Promise<Mat> {
  const mat = await fullPixels(frame);
  if (!mat) throw new Error(`the full-resolution pixels of frame ${frame.index} are gone (the capture process restarted?); this frame's faces are skipped`);
  return mat;
}
