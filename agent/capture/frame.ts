import type { Mat } from './opencv.js';

/** One captured image. `mat` is BGR, 8-bit, 3 channels. */
export interface Frame {
  mat: Mat;
  width: number;
  height: number;
  /** Position in the source, from 0. */
  index: number;
  /** Capture time, ms since the epoch. */
  ts: number;
}

/** The frame-source port: a camera, a stream, a file or a folder of images. */
export interface FrameSource {
  readonly uri: string;
  open(): Promise<void>;
  /** Frames until the source ends (or forever for a camera); stops when close() is called. */
  frames(): AsyncGenerator<Frame>;
  close(): Promise<void>;
}
