// Regions of a frame cut as square tiles for a detector with a dynamic input (issue 22). The tile sides
// come from a small fixed set: onnxruntime's CPU arena keeps memory per input shape it has seen, so
// arbitrary shapes would grow the process without bound. A tile is cut at exactly the full-frame pass's
// scale (a 160-px tile covers 160 / fullScale frame pixels), so a face is the size in a region pass that
// it is in a full pass: the detector finds the same faces either way. (Cutting just the region and
// resizing it to the nearest tile side enlarged small regions up to 2.5×, and a 24-px face the full pass
// ignores became a detection — an extra visit on a far-face scene.) A tile is shifted inside the frame
// rather than padded.
import type { Box } from '../lib/geometry.js';

/** Tile sides, network pixels: every region pass feeds one of these shapes. */
export const TILE_SIDES = [160, 320, 640] as const;

export interface Tile {
  /** The square of the frame cut, frame pixels (whole numbers). */
  src: Box;
  /** Its side in the network, one of TILE_SIDES. */
  side: number;
}

/**
 * The tile for a region, or null when no tile at the full pass's scale fits inside the frame around it
 * (the region is too large): the caller detects the whole frame instead. `fullScale` is the full-frame
 * pass's network px per frame px.
 */
export function tileFor(region: Box, frame: { width: number; height: number }, fullScale: number): Tile | null {
  const short = Math.min(frame.width, frame.height);
  const need = Math.max(region.w, region.h) * fullScale;
  const side = TILE_SIDES.find((s) => s >= need);
  if (side === undefined) return null;
  const size = Math.round(side / fullScale);
  if (size > short) return null;
  const cx = region.x + region.w / 2;
  const cy = region.y + region.h / 2;
  const x = Math.round(Math.min(Math.max(0, cx - size / 2), frame.width - size));
  const y = Math.round(Math.min(Math.max(0, cy - size / 2), frame.height - size));
  return { src: { x, y, w: size, h: size }, side };
}
