// The embedder port: an appearance vector per face, for short-term re-identification in memory only
// (issue 10 item 3). Vectors are compared with the model's own metric and threshold, never stored.
import type { Frame } from '../capture/frame.js';
import type { FaceRegion } from './classifier.js';

export type EmbeddingMetric = 'euclidean' | 'cosine';

export interface Embedder {
  readonly name: string;
  readonly dims: number;
  readonly metric: EmbeddingMetric;
  /** Distance under which two faces are taken to be the same person (the model's published threshold). */
  readonly sameBelow: number;
  /** One vector per face, in order; faces with landmarks get aligned crops when the model asks for them. */
  embed(frame: Frame, faces: FaceRegion[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export function embeddingDistance(a: ArrayLike<number>, b: ArrayLike<number>, metric: EmbeddingMetric): number {
  if (a.length !== b.length) throw new Error(`embeddings of different sizes (${a.length} and ${b.length})`);
  if (metric === 'euclidean') {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return Math.sqrt(s);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / (Math.sqrt(na * nb) || 1);
}
