// Short-term re-identification: each visit keeps a small gallery of face embeddings (in memory only,
// dropped with the visit) and faces are compared by Euclidean distance, as the 128-d face-api / dlib
// metric net is trained for. A match must be below the threshold AND clearly better than the runner-up:
// when two candidates are about equally close nobody is picked, since a wrong merge of two people is worse
// than a second visit for one.
import type { Box } from '../detect/detector.js';

export interface ReidOptions {
  /** A person unseen this long has left (from the last sight). */
  graceMs: number;
  /** Embedding distance below which two faces are the same person. */
  reidThreshold: number;
  /** The best match must beat the second best by this much. */
  reidMargin: number;
  /** Without an appearance, resume only near where the face was lost, within this time of the last sight. */
  positionGraceMs: number;
  /** A track becomes a visit (is announced) only once seen over this long… */
  minDwellMs: number;
  /** …in at least this many detection passes (passes, not frames: detection may skip frames). */
  minPasses: number;
}

export const DEFAULT_REID: ReidOptions = { graceMs: 5000, reidThreshold: 0.45, reidMargin: 0.1, positionGraceMs: 3000, minDwellMs: 500, minPasses: 3 };

/** Embeddings kept per visit: enough to span poses and lighting, few enough to compare in microseconds. */
export const GALLERY_SIZE = 5;

export type Distance = (a: Float32Array, b: Float32Array) => number;

export function euclidean(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`embedding sizes differ (${a.length} vs ${b.length}): one embedder per agent`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** A visit's appearance: its most recent embeddings that agreed with it. */
export class Gallery {
  private readonly items: Float32Array[] = [];

  /** `distance`: the embedder's metric (Euclidean for the face-api / dlib net). */
  constructor(private readonly metric: Distance = euclidean) {}

  get size(): number {
    return this.items.length;
  }

  /** Distance of a face to this person: the nearest embedding (a person looks like their best view). */
  distance(e: Float32Array): number {
    let best = Infinity;
    for (const g of this.items) best = Math.min(best, this.metric(g, e));
    return best;
  }

  /** Nearest pair between two galleries. */
  distanceTo(other: Gallery): number {
    let best = Infinity;
    for (const e of other.items) best = Math.min(best, this.distance(e));
    return best;
  }

  /** Keeps the newest GALLERY_SIZE: appearance drifts with light and pose over a visit. */
  add(e: Float32Array): void {
    this.items.push(e);
    if (this.items.length > GALLERY_SIZE) this.items.shift();
  }

  absorb(other: Gallery): void {
    for (const e of other.items) this.add(e);
  }

  clear(): void {
    this.items.length = 0;
  }
}

/**
 * The candidate nearest to a face, if it is a match (below the threshold) and unambiguous (the runner-up is
 * at least `margin` further). Returns null otherwise.
 */
export function bestMatch<T>(candidates: readonly T[], distance: (c: T) => number, o: ReidOptions): { match: T; distance: number } | null {
  let best: T | null = null;
  let d1 = Infinity;
  let d2 = Infinity;
  for (const c of candidates) {
    const d = distance(c);
    if (d < d1) {
      d2 = d1;
      d1 = d;
      best = c;
    } else if (d < d2) {
      d2 = d;
    }
  }
  if (best === null || d1 >= o.reidThreshold || d2 - d1 < o.reidMargin) return null;
  return { match: best, distance: d1 };
}

/** Centre distance in units of the larger face side; Infinity when the sizes differ by more than 1.5×. */
export function faceDistance(a: Box, b: Box): number {
  const sa = Math.max(a.w, a.h);
  const sb = Math.max(b.w, b.h);
  if (sa / sb > 1.5 || sb / sa > 1.5) return Infinity;
  return Math.hypot(a.x + a.w / 2 - (b.x + b.w / 2), a.y + a.h / 2 - (b.y + b.h / 2)) / Math.max(sa, sb);
}

/** How far (in face sides) from where it was lost a face may reappear and still resume by position. */
export const POSITION_RADIUS = 1;
