// How good a face crop is for classification: big enough, confidently detected, sharp, facing the camera.
// Tiny, blurred, cut-off or profile faces are not classified at all; among the rest, quality weights
// fusion and says when a clearly better crop is worth another classifier call — so frontal views win.
import type { CV, Mat } from '../capture/opencv.js';
import type { Box } from '../detect/detector.js';
import { clampRegion } from '../lib/geometry.js';

export interface QualityOptions {
  /** Faces smaller than this (larger side, px) are not classified. */
  minFacePx: number;
  /** Face side at which size stops adding quality. */
  goodFacePx: number;
  /** Variance of the Laplacian (on a 64 px grey face) below which a face is too blurred. */
  minSharpness: number;
  /** Sharpness at which it stops adding quality. */
  goodSharpness: number;
  edgeMargin: number;
}

export function nearEdge(box: Box, frame: { width: number; height: number }, margin: number): boolean {
  const mx = frame.width * margin;
  const my = frame.height * margin;
  return box.x < mx || box.y < my || box.x + box.w > frame.width - mx || box.y + box.h > frame.height - my;
}

/** Variance of the Laplacian of the face, resized to 64 px so faces of any size compare. */
export function sharpness(cv: CV, frame: Mat, box: Box): number {
  const r = clampRegion(box, frame.cols, frame.rows);
  if (!r) return 0;
  const grey = frame
    .getRegion(new cv.Rect(r.x, r.y, r.w, r.h))
    .resize(64, 64)
    .cvtColor(cv.COLOR_BGR2GRAY);
  const { stddev } = grey.laplacian(cv.CV_64F).meanStdDev();
  const sd = stddev.at(0, 0);
  return sd * sd;
}

/** Head turned further than this (yaw or pitch, degrees) is a profile: wait for a better view. */
export const MAX_TURN_DEG = 60;

/** 1 for a frontal face, cos(yaw)·cos(pitch) as it turns, 0 beyond MAX_TURN_DEG; 1 without a pose (no landmarks). */
export function frontality(pose: { yaw: number; pitch: number } | null): number {
  if (!pose) return 1;
  if (Math.abs(pose.yaw) > MAX_TURN_DEG || Math.abs(pose.pitch) > MAX_TURN_DEG) return 0;
  return Math.cos((pose.yaw * Math.PI) / 180) * Math.cos((pose.pitch * Math.PI) / 180);
}

/** 0 when the face must not be classified; otherwise (0, 1]. */
export function faceQuality(
  box: Box,
  score: number,
  sharp: number,
  frame: { width: number; height: number },
  o: QualityOptions,
  pose: { yaw: number; pitch: number } | null = null,
): number {
  const side = Math.max(box.w, box.h);
  if (side < o.minFacePx || sharp < o.minSharpness || nearEdge(box, frame, o.edgeMargin)) return 0;
  const size = Math.min(1, side / o.goodFacePx);
  const sharpF = Math.min(1, sharp / o.goodSharpness);
  return size * Math.min(1, score) * (0.5 + 0.5 * sharpF) * frontality(pose);
}

/**
 * Why faceQuality() is 0 for this face, naming the setting (for a debug line when a visit's crop is
 * skipped); null when it is classifiable. Same checks, same order.
 */
export function notClassifiableBecause(
  box: Box,
  sharp: number,
  frame: { width: number; height: number },
  o: QualityOptions,
  pose: { yaw: number; pitch: number } | null = null,
): string | null {
  const side = Math.round(Math.max(box.w, box.h));
  if (side < o.minFacePx) return `face ${side} px < classifier.minFacePx ${o.minFacePx}`;
  if (sharp < o.minSharpness) return `blurred (sharpness ${Math.round(sharp)} < classifier.minSharpness ${o.minSharpness})`;
  if (nearEdge(box, frame, o.edgeMargin)) return `cut by the frame edge (within classifier.edgeMargin ${o.edgeMargin})`;
  if (frontality(pose) === 0) return `turned away (head beyond ${MAX_TURN_DEG}°)`;
  return null;
}
