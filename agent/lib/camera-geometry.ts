// Where a face is relative to the camera: direction from its field of view (pinhole model) and distance
// from the face's width, for robots that turn to a person. A rough estimate by design: real faces vary
// in width (~14–16 cm) and lenses distort towards the edges.

export interface CameraModel {
  hfovDeg: number;
  vfovDeg: number;
  /** Assumed real width of a face (eye-to-eye region + cheeks), metres. */
  faceWidthM: number;
}

const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

/** Focal lengths in pixels from the field of view. */
export function focalPx(frame: { width: number; height: number }, cam: CameraModel): { fx: number; fy: number } {
  return { fx: frame.width / 2 / Math.tan(rad(cam.hfovDeg) / 2), fy: frame.height / 2 / Math.tan(rad(cam.vfovDeg) / 2) };
}

/** Azimuth (+ right), elevation (+ up) of a point in the frame, degrees from the optical axis. */
export function direction(
  px: { x: number; y: number },
  frame: { width: number; height: number },
  cam: CameraModel,
): { azimuthDeg: number; elevationDeg: number } {
  const { fx, fy } = focalPx(frame, cam);
  return { azimuthDeg: deg(Math.atan((px.x - frame.width / 2) / fx)), elevationDeg: deg(Math.atan((frame.height / 2 - px.y) / fy)) };
}

/** Distance along the axis to a face `faceWidthPx` wide. */
export function distanceM(faceWidthPx: number, frame: { width: number; height: number }, cam: CameraModel): number {
  if (faceWidthPx <= 0) return Infinity;
  return (cam.faceWidthM * focalPx(frame, cam).fx) / faceWidthPx;
}

/** Ray casting: is the point inside the polygon (vertices in order, any winding)? */
export function insidePolygon(p: { x: number; y: number }, polygon: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (const [i, [xi, yi]] of polygon.entries()) {
    const [xj, yj] = polygon.at(i - 1)!; // the previous vertex; at(-1) closes the ring
    if (yi > p.y !== yj > p.y && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The box reaches the frame edge (within `marginPx`): part of the face may be outside the picture, so its
 * width says nothing about distance (a face leaving the frame shrinks and seems to move away).
 */
export function touchesEdge(box: { x: number; y: number; w: number; h: number }, frame: { width: number; height: number }, marginPx = 2): boolean {
  return box.x <= marginPx || box.y <= marginPx || box.x + box.w >= frame.width - marginPx || box.y + box.h >= frame.height - marginPx;
}
