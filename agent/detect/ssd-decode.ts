// SSD post-processing, as face-api does it (ssdMobilenetv1/outputLayer.ts, nonMaxSuppression.ts): box
// decoding against the prior boxes, sigmoid scores, greedy NMS. Written here rather than with OpenCV's
// NMSBoxes so that it matches the reference exactly and needs no Mat round trip per frame.

/** A box as [ymin, xmin, ymax, xmax], normalised to the detector's input square. */
export type YxBox = [number, number, number, number];

export interface Candidate {
  index: number;
  score: number;
  box: YxBox;
}

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function decodeBox(enc: ArrayLike<number>, priors: ArrayLike<number>, i: number, variances: readonly number[]): YxBox {
  const o = i * 4;
  const ph = priors[o + 2]! - priors[o]!;
  const pw = priors[o + 3]! - priors[o + 1]!;
  const pcy = priors[o]! + ph / 2;
  const pcx = priors[o + 1]! + pw / 2;
  const cy = (enc[o]! / variances[0]!) * ph + pcy;
  const cx = (enc[o + 1]! / variances[1]!) * pw + pcx;
  const hh = (Math.exp(enc[o + 2]! / variances[2]!) * ph) / 2;
  const hw = (Math.exp(enc[o + 3]! / variances[3]!) * pw) / 2;
  return [cy - hh, cx - hw, cy + hh, cx + hw];
}

/** Scores every anchor; decodes only those above the threshold (decoding all 5118 per frame is waste). */
export function decodeCandidates(
  boxEncodings: ArrayLike<number>, classLogits: ArrayLike<number>, priors: ArrayLike<number>,
  anchors: number, classes: number, classIndex: number, variances: readonly number[], scoreThreshold: number,
): Candidate[] {
  const out: Candidate[] = [];
  for (let i = 0; i < anchors; i++) {
    const score = sigmoid(classLogits[i * classes + classIndex]!);
    if (score > scoreThreshold) out.push({ index: i, score, box: decodeBox(boxEncodings, priors, i, variances) });
  }
  return out;
}

export function iou(a: YxBox, b: YxBox): number {
  const ay0 = Math.min(a[0], a[2]); const ax0 = Math.min(a[1], a[3]);
  const ay1 = Math.max(a[0], a[2]); const ax1 = Math.max(a[1], a[3]);
  const by0 = Math.min(b[0], b[2]); const bx0 = Math.min(b[1], b[3]);
  const by1 = Math.max(b[0], b[2]); const bx1 = Math.max(b[1], b[3]);
  const areaA = (ay1 - ay0) * (ax1 - ax0);
  const areaB = (by1 - by0) * (bx1 - bx0);
  if (areaA <= 0 || areaB <= 0) return 0;
  const ih = Math.max(Math.min(ay1, by1) - Math.max(ay0, by0), 0);
  const iw = Math.max(Math.min(ax1, bx1) - Math.max(ax0, bx0), 0);
  const inter = ih * iw;
  return inter / (areaA + areaB - inter);
}

/** Greedy NMS: highest score first; a candidate overlapping a kept one by more than iouThreshold goes. */
export function nonMaxSuppression(candidates: Candidate[], iouThreshold: number, maxResults: number): Candidate[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  for (const c of sorted) {
    if (kept.length >= maxResults) break;
    if (kept.every((k) => iou(k.box, c.box) <= iouThreshold)) kept.push(c);
  }
  return kept;
}
