// Face alignment: a similarity transform (rotation, uniform scale, translation; 4 degrees of freedom)
// that carries the detector's 5 landmarks onto the standard 112×112 template (design §7). Pure maths;
// the crop itself is cut with OpenCV's warpAffine in agent/inference/preprocess.ts (writeAlignedInput).
//
// The fit is plain least squares in closed form, written here rather than taken from OpenCV's
// estimateAffinePartial2D because that one is a robust estimator (RANSAC/LMEDS) with thresholds meant for
// many noisy matches; with exactly 5 landmarks every point must count, and the closed form is 15 lines
// that unit tests pin on known points.
export type Point = readonly [number, number];

/**
 * Landmark order (YuNet / OpenCV FaceDetectorYN, and the template): the subject's right eye, left eye,
 * nose tip, right mouth corner, left mouth corner. The subject's right is the image's LEFT side, which
 * is where template point 0 (x = 38.3 of 112) lies.
 */
export type FiveLandmarks = readonly [Point, Point, Point, Point, Point];

/** A detector's landmark list as FiveLandmarks, or undefined when it does not hold exactly 5 points. */
export function toFiveLandmarks(points: readonly Point[] | undefined): FiveLandmarks | undefined {
  return points && isFive(points) ? points : undefined;
}

const isFive = (points: readonly Point[]): points is FiveLandmarks => points.length === 5;

/** The usual 112×112 template (InsightFace / ArcFace), in the landmark order above. */
export const TEMPLATE_112: FiveLandmarks = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty (scale √(a²+b²), rotation atan2(b, a)). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export function applySimilarity(t: Similarity, [x, y]: Point): Point {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

/** Least-squares similarity taking `src[i]` to `dst[i]` (no reflection). */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  if (src.length !== dst.length || src.length < 2) throw new Error(`alignment needs ≥ 2 matching points, got ${src.length} and ${dst.length}`);
  const n = src.length;
  const mean = (ps: readonly Point[], k: 0 | 1) => ps.reduce((s, p) => s + p[k], 0) / n;
  const [mx, my, mu, mv] = [mean(src, 0), mean(src, 1), mean(dst, 0), mean(dst, 1)];
  let sxx = 0;
  let dot = 0;
  let cross = 0;
  for (const [i, [sx, sy]] of src.entries()) {
    const [dx, dy] = dst[i]!; // as many as src, checked above
    const x = sx - mx;
    const y = sy - my;
    const u = dx - mu;
    const v = dy - mv;
    sxx += x * x + y * y;
    dot += x * u + y * v;
    cross += x * v - y * u;
  }
  if (sxx < 1e-9) throw new Error('alignment landmarks all coincide (degenerate face)');
  const a = dot / sxx;
  const b = cross / sxx;
  return { a, b, tx: mu - (a * mx - b * my), ty: mv - (b * mx + a * my) };
}

/**
 * The template for a square `size` crop whose border is `margin` × size on every side (margin 0: the
 * 112-template simply scaled to size).
 */
export function templateFor(size: number, margin = 0): FiveLandmarks {
  if (!(margin >= 0 && margin < 0.5)) throw new Error(`alignment margin must be in [0, 0.5), got ${margin}`);
  const scale = (size * (1 - 2 * margin)) / 112;
  const offset = size * margin;
  const place = ([x, y]: Point): Point => [x * scale + offset, y * scale + offset];
  const [a, b, c, d, e] = TEMPLATE_112;
  return [place(a), place(b), place(c), place(d), place(e)];
}

/** The transform from frame pixels to a `size`×`size` aligned crop. */
export function alignmentTransform(landmarks: FiveLandmarks, size: number, margin = 0): Similarity {
  return estimateSimilarity(landmarks, templateFor(size, margin));
}

/** The 2×3 matrix rows OpenCV's warpAffine takes for this transform. */
export function affineRows(t: Similarity): [[number, number, number], [number, number, number]] {
  return [
    [t.a, -t.b, t.tx],
    [t.b, t.a, t.ty],
  ];
}
