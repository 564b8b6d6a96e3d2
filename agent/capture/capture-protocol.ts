// Messages between OpenCvSource (main thread) and its capture process (capture-process.ts).
export type CaptureRequest =
  | { op: 'open'; uri: string; kind: 'file' | 'v4l2' | 'stream' | 'gstreamer' | 'images' }
  | { op: 'read' }
  | { op: 'rewind' }
  | { op: 'seek'; frame: number }
  | { op: 'imread'; path: string }
  | { op: 'close' };

/** A frame is always 8-bit BGR (converted in the capture process): rows × cols × 3 bytes. */
export type CaptureReply =
  | { op: 'opened'; fps: number }
  | { op: 'frame'; data: Uint8Array; rows: number; cols: number }
  | { op: 'none' }
  | { op: 'done' }
  | { op: 'error'; message: string };
