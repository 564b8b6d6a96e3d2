// Greedy non-maximum suppression, shared by every detector's decoder. Written here rather than with
// OpenCV's NMSBoxes so that it matches face-api's reference exactly (nonMaxSuppression.ts) and needs no
// Mat round trip per frame.

/** A box as [ymin, xmin, ymax, xmax], in whatever unit the decoder works in (the IoU has none). */
export type YxBox = [number, number, number, number];

export interface Scored {
  score: number;
  box: YxBox;
}

export function iou(a: YxBox, b: YxBox): number {
  const ay0 = Math.min(a[0], a[2]);
  const ax0 = Math.min(a[1], a[3]);
  const ay1 = Math.max(a[0], a[2]);
  const ax1 = Math.max(a[1], a[3]);
  const by0 = Math.min(b[0], b[2]);
  const bx0 = Math.min(b[1], b[3]);
  const by1 = Math.max(b[0], b[2]);
  const bx1 = Math.max(b[1], b[3]);
  const areaA = (ay1 - ay0) * (ax1 - ax0);
  const areaB = (by1 - by0) * (bx1 - bx0);
  if (areaA <= 0 || areaB <= 0) return 0;
  const ih = Math.max(Math.min(ay1, by1) - Math.max(ay0, by0), 0);
  const iw = Math.max(Math.min(ax1, bx1) - Math.max(ax0, bx0), 0);
  const inter = ih * iw;
  return inter / (areaA + areaB - inter);
}

/** Highest score first; a candidate overlapping a kept one by more than iouThreshold goes. */
export function nonMaxSuppression<C extends Scored>(candidates: C[], iouThreshold: number, maxResults: number): C[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: C[] = [];
  for (const c of sorted) {
    if (kept.length >= maxResults) break;
    if (kept.every((k) => iou(k.box, c.box) <= iouThreshold)) kept.push(c);
  }
  return kept;
}
