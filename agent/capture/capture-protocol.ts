// Messages between OpenCvSource (main thread) and its capture process (capture-process.ts).

/**
 * A read asks for the next frame. `fit` set: unless `full`, only a copy scaled down to fit it is sent
 * (the detection-size frame); the full-resolution frame stays in the process, where `pixels` can fetch
 * it by its `seq` while it is among the last few read.
 */
export type CaptureRequest =
  | { op: 'open'; uri: string; kind: 'file' | 'v4l2' | 'stream' | 'gstreamer' | 'images' }
  | { op: 'read'; full?: boolean; fit?: { maxWidth: number; maxHeight: number } }
  | { op: 'pixels'; seq: number }
  | { op: 'rewind' }
  | { op: 'seek'; frame: number }
  | { op: 'imread'; path: string }
  | { op: 'close' };

/** Pixels are always 8-bit BGR (converted in the capture process): rows × cols × 3 bytes. */
export interface Pixels {
  data: Uint8Array;
  rows: number;
  cols: number;
}

export type CaptureReply =
  | { op: 'opened'; fps: number }
  /** `width`/`height`: the full frame's size; `full` and/or `small` (scaled to the read's fit) carry its pixels. */
  | { op: 'frame'; seq: number; width: number; height: number; full?: Pixels; small?: Pixels }
  | { op: 'pixels'; full: Pixels }
  | { op: 'none' }
  | { op: 'done' }
  | { op: 'error'; message: string };
