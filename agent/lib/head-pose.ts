// Head yaw and pitch from the detector's 5 landmarks (issue 12: attention; issue 10: frontal faces first).
//
// Method: invert the orthographic projection of a generic 3-D face, in closed form.
//  1. Roll: the eye line's angle; the landmarks are rotated about the eye midpoint to level it (under pure
//     yaw and pitch both eyes stay on one image row, so this removes roll exactly).
//  2. Pitch from the nose's vertical position between the eye line and the mouth line, t = (nose − eyes) /
//     (mouth − eyes), rows measured perpendicular to the eye line. For the generic face below, pitch φ
//     (head rotated about its ear-to-ear axis, chin up = positive) gives
//        t(φ) = (Ny·cosφ − Nz·sinφ) / (My·cosφ − Mz·sinφ)  ⇒  tanφ = (t·My − Ny) / (t·Mz − Nz).
//     Frontal t = Ny/My = 0.49, the ratio the 112×112 alignment template (an average of real faces) has.
//  3. Yaw from the horizontal offsets of the nose and of the mouth midpoint from the eye midpoint over
//     the inter-ocular distance, r. Turning by θ (after the pitch) moves a midline point sideways by its
//     depth relative to the eyes, D(φ) = y·sinφ + z·cosφ, times sinθ, and shrinks the eye distance 2E to
//     2E·cosθ: r = D·tanθ / 2E. Nose and mouth are combined by least squares because the nose alone is
//     ill-conditioned with the chin down (at φ ≈ −35° the nose tip is level in depth with the eyes), and
//     the mouth carries the signal there.
// Why not cv.solvePnP: with 5 points it needs a focal length guess and an Euler decomposition whose
// branches flip near ±90°, and it is iterative; this closed form needs no camera intrinsics and is exact
// for the generic face under weak perspective (faces are small relative to their distance). Its error is
// dominated by how far a real face differs from the generic one (nose depth), as any 5-point method's is.
import type { FiveLandmarks } from './align.js';

/** A generic adult face in mm, eye midpoint at the origin, x to the subject's left, y down, z toward the camera. */
export const GENERIC_FACE_MM = {
  /** half the inter-ocular distance */
  eyeHalf: 31.5,
  /** nose tip below the eye line, and in front of the eyes */
  noseY: 36,
  noseZ: 25,
  /** mouth corners' midpoint below the eye line, and in front of the eyes */
  mouthY: 73,
  mouthZ: 2,
  mouthHalf: 26,
} as const;

export interface HeadPose {
  /** degrees; positive when the face turns toward the image's right (the subject's left). */
  yaw: number;
  /** degrees; positive when the chin goes up. */
  pitch: number;
  /** degrees; in-image rotation of the eye line, positive clockwise on screen. */
  roll: number;
}

const DEG = 180 / Math.PI;

export function headPose(l: FiveLandmarks): HeadPose {
  const [re, le, nose, rm, lm] = l;
  const ex = (re[0] + le[0]) / 2;
  const ey = (re[1] + le[1]) / 2;
  const dx = le[0] - re[0];
  const dy = le[1] - re[1];
  const iod = Math.hypot(dx, dy);
  if (iod < 1e-6) throw new Error('head pose: the two eye landmarks coincide');
  // Eye-line frame: u along the eyes (toward the image right), v perpendicular (down the face).
  const ux = dx / iod;
  const uy = dy / iod;
  const toFrame = (p: readonly [number, number]) => [(p[0] - ex) * ux + (p[1] - ey) * uy, -(p[0] - ex) * uy + (p[1] - ey) * ux] as const;
  const n = toFrame(nose);
  const mouth = toFrame([(rm[0] + lm[0]) / 2, (rm[1] + lm[1]) / 2]);
  if (mouth[1] < 1e-6) throw new Error('head pose: the mouth is not below the eye line');

  const g = GENERIC_FACE_MM;
  const t = n[1] / mouth[1];
  const pitch = Math.atan((t * g.mouthY - g.noseY) / (t * g.mouthZ - g.noseZ));
  const depth = (y: number, z: number) => y * Math.sin(pitch) + z * Math.cos(pitch);
  const dn = depth(g.noseY, g.noseZ);
  const dm = depth(g.mouthY, g.mouthZ);
  // tanθ = 2E·(Dn·rn + Dm·rm) / (Dn² + Dm²), written as an atan2 so ±90° stays finite.
  const yaw = Math.atan2((2 * g.eyeHalf * (dn * n[0] + dm * mouth[0])) / iod, dn * dn + dm * dm);
  return { yaw: yaw * DEG, pitch: pitch * DEG, roll: Math.atan2(dy, dx) * DEG };
}

/** Facing the camera closely enough to count as looking (issue 12 defaults: |yaw| ≤ 25°, |pitch| ≤ 20°). */
export function isLooking(p: HeadPose, maxYawDeg = 25, maxPitchDeg = 20): boolean {
  return Math.abs(p.yaw) <= maxYawDeg && Math.abs(p.pitch) <= maxPitchDeg;
}
