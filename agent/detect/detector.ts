import type { Frame } from '../capture/frame.js';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Detection {
  /** In frame pixels. */
  box: Box;
  score: number;
}

/** The detector port. */
export interface FaceDetector {
  readonly name: string;
  detect(frame: Frame): Promise<Detection[]>;
  close(): Promise<void>;
}
