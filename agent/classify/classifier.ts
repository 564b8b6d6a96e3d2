import type { Frame } from '../capture/frame.js';
import type { Box } from '../detect/detector.js';
import type { Point } from '../lib/align.js';
import type { Prediction, Task } from '../contract/labels.js';

/**
 * A face to classify or embed: its box, and the detector's landmarks when it gives them (Detection.landmarks
 * as is); exactly 5 points in YuNet's order allow aligned crops.
 */
export interface FaceRegion extends Box {
  landmarks?: readonly Point[];
}

export type FaceAttributes = Partial<Record<Task, Prediction>>;

export interface ClassifyResult {
  /** One entry per box, in order. */
  faces: FaceAttributes[];
}

/** The classifier port: all faces of one frame in, their attributes in the contract's label spaces out. */
export interface Classifier {
  readonly name: string;
  readonly tasks: readonly Task[];
  classify(frame: Frame, faces: FaceRegion[]): Promise<ClassifyResult>;
  close(): Promise<void>;
}
