import type { Frame } from '../capture/frame.js';

import type { Box } from '../lib/geometry.js';

export type { Box };

export interface Detection {
  /** In frame pixels. */
  box: Box;
  score: number;
  /**
   * Detectors with landmarks (YuNet): 5 points [x, y] in frame pixels, in OpenCV's FaceDetectorYN order —
   * right eye, left eye, nose tip, right mouth corner, left mouth corner — where "right" is the person's
   * right, which is the image's LEFT side for a face looking at the camera (checked on Grace Hopper's
   * photo in test/integration/grid-detector.test.ts). The SSD gives none.
   */
  landmarks?: [number, number][];
}

/** The detector port. */
export interface FaceDetector {
  readonly name: string;
  detect(frame: Frame): Promise<Detection[]>;
  /**
   * Faces inside these regions only (frame pixels), in frame pixels. Optional: a detector without it (the
   * SSD, whose input is a fixed square) is always run on the whole frame.
   */
  detectRegions?(frame: Frame, regions: Box[]): Promise<Detection[]>;
  /**
   * The size this detector scales a whole frame down to fit (0: no limit), read before each frame: the
   * capture process then sends a copy that size instead of the full frame while nobody is in view. Absent
   * or null: full frames (the SSD, which needs no more than a small copy but gains little from one).
   */
  detectionFit?(): { maxWidth: number; maxHeight: number } | null;
  close(): Promise<void>;
}
