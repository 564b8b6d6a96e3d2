// Boxes in frame pixels: the one definition, its overlap and its clamping to a frame.

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Intersection over union of two boxes (0 when they do not touch). */
export function boxIou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/** Clamps a box to the frame, on whole pixels; null when nothing of it is inside. */
export function clampRegion(r: Box, width: number, height: number): Box | null {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(width, Math.ceil(r.x + r.w));
  const y1 = Math.min(height, Math.ceil(r.y + r.h));
  if (x1 - x0 < 1 || y1 - y0 < 1) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** A frame scaled down (never up) to fit maxWidth × maxHeight (0: no limit), keeping its aspect ratio. */
export function fitWithin(width: number, height: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  let scale = 1;
  if (maxWidth > 0) scale = Math.min(scale, maxWidth / width);
  if (maxHeight > 0) scale = Math.min(scale, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
