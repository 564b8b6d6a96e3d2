// A frame as the capture process sent it (capture-process.ts): its full pixels, or only its
// detection-size copy with the means to fetch the full pixels while the process still holds them.
import type { CV, Mat } from './opencv.js';
import type { Frame } from './frame.js';
import type { CaptureClient } from './capture-client.js';
import type { CaptureReply, Pixels } from './capture-protocol.js';

/** A frame as the capture process sent it: its full pixels and/or its detection-size copy. */
export interface Captured {
  client: CaptureClient;
  seq: number;
  width: number;
  height: number;
  mat: Mat | null;
  small?: Mat;
}

/** Pixels rebuilt as a Mat over the bytes the process sent (no copy). */
function matOf(cv: CV, p: Pixels): Mat {
  return new cv.Mat(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength), p.rows, p.cols, cv.CV_8UC3);
}

export function captured(cv: CV, client: CaptureClient, r: Extract<CaptureReply, { op: 'frame' }>): Captured {
  return { client, seq: r.seq, width: r.width, height: r.height, mat: r.full ? matOf(cv, r.full) : null, small: r.small ? matOf(cv, r.small) : undefined };
}

/** The full pixels of a frame sent small, asked of the process that read it (null: it no longer holds them, or did not answer). */
export async function fetchPixels(cv: CV, c: Captured, timeoutMs: number): Promise<Mat | null> {
  const r = await c.client.request({ op: 'pixels', seq: c.seq }, timeoutMs, "fetching a frame's pixels").catch(() => null);
  return r?.op === 'pixels' ? matOf(cv, r.full) : null;
}

/** The frame handed on: its full fetch made once however many of its users ask. */
export function frameOf(c: Captured, index: number, ts: number, fetchFull: () => Promise<Mat | null>): Frame {
  const frame: Frame = { mat: c.mat, width: c.width, height: c.height, index, ts };
  if (c.small) {
    let full: Promise<Mat | null> | null = null;
    frame.small = c.small;
    frame.fetchFull = () => (full ??= fetchFull());
  }
  return frame;
}
