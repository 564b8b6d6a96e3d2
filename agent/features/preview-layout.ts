// Where the preview puts a text label: pure arithmetic, so the rule "a label is never cut by the frame's
// edge" is tested without drawing. A label wanted above a box that touches the top goes just inside the
// frame (over the box's top edge); one that would run past the right edge is shifted left.

export interface LabelRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The top-left corner of a w × h label anchored at (x, y): its bottom edge at y, or its top edge at y when
 * `below`; then moved as little as needed to lie wholly inside a width × height frame. A label larger than
 * the frame starts at 0 (its start stays readable).
 */
export function placeLabel(x: number, y: number, w: number, h: number, width: number, height: number, below = false): LabelRect {
  const top = below ? y : y - h;
  const clamp = (v: number, size: number, limit: number) => Math.max(0, Math.min(Math.round(v), limit - size));
  return { x: clamp(x, w, width), y: clamp(top, h, height), w, h };
}

/** A polygon in fractions of the frame (config: audience.ignoreZones) as whole frame pixels. */
export function polygonPixels(points: readonly (readonly [number, number])[], width: number, height: number): [number, number][] {
  return points.map(([fx, fy]) => [Math.round(fx * (width - 1)), Math.round(fy * (height - 1))]);
}

/** The top-most, then left-most vertex: where a zone's name is written. */
export function polygonLabelAnchor(points: readonly (readonly [number, number])[]): [number, number] {
  return points.reduce((a, p) => (p[1] < a[1] || (p[1] === a[1] && p[0] < a[0]) ? p : a), points[0] ?? [0, 0]) as [number, number];
}
