// SSD post-processing, as face-api does it (ssdMobilenetv1/outputLayer.ts): box decoding against the
// prior boxes and sigmoid scores; the greedy NMS that follows is shared (nms.ts).
import type { YxBox } from './nms.js';

export interface Candidate {
  index: number;
  score: number;
  /** [ymin, xmin, ymax, xmax], normalised to the detector's input square. */
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
  boxEncodings: ArrayLike<number>,
  classLogits: ArrayLike<number>,
  priors: ArrayLike<number>,
  anchors: number,
  classes: number,
  classIndex: number,
  variances: readonly number[],
  scoreThreshold: number,
): Candidate[] {
  const out: Candidate[] = [];
  for (let i = 0; i < anchors; i++) {
    const score = sigmoid(classLogits[i * classes + classIndex]!);
    if (score > scoreThreshold) out.push({ index: i, score, box: decodeBox(boxEncodings, priors, i, variances) });
  }
  return out;
}
