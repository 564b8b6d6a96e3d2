import type { Frame } from '../capture/frame.js';
import type { Box } from '../detect/detector.js';
import type { Prediction, Task } from '../contract/labels.js';

export type FaceAttributes = Partial<Record<Task, Prediction>>;

export interface ClassifyResult {
  /** One entry per box, in order. */
  faces: FaceAttributes[];
}

/** The classifier port: all faces of one frame in, their attributes in the contract's label spaces out. */
export interface Classifier {
  readonly name: string;
  readonly tasks: readonly Task[];
  classify(frame: Frame, boxes: Box[]): Promise<ClassifyResult>;
  close(): Promise<void>;
}
