// Regions of a frame cut as square tiles for a detector with a dynamic input (issue 22). The tile sides
// come from a small fixed set: onnxruntime's CPU arena keeps memory per input shape it has seen, so
// arbitrary shapes would grow the process without bound. A tile is at least as sharp as the full-frame
// pass would see the same pixels (faces stay in the size range the full pass finds), never sharper than
// needed, and is shifted inside the frame rather than padded.
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
 * The tile for a region, or null when the region does not fit in a square inside the frame (wider or
 * taller than the frame's short side): the caller detects the whole frame instead. `fullScale` is the
 * full-frame pass's network px per frame px.
 */
export function tileFor(region: Box, frame: { width: number; height: number }, fullScale: number): Tile | null {
  const short = Math.min(frame.width, frame.height);
  const need = Math.ceil(Math.max(region.w, region.h));
  if (need > short) return null;
  // A tiny region (a hand, a flicker of motion) still gets a tile with room around it.
  const size = Math.max(need, Math.min(short, 64));
  const cx = region.x + region.w / 2;
  const cy = region.y + region.h / 2;
  const x = Math.round(Math.min(Math.max(0, cx - size / 2), frame.width - size));
  const y = Math.round(Math.min(Math.max(0, cy - size / 2), frame.height - size));
  const want = size * fullScale;
  const side = TILE_SIDES.find((s) => s >= want) ?? TILE_SIDES[TILE_SIDES.length - 1]!;
  return { src: { x, y, w: size, h: size }, side };
}
