// The capture process: owns one cv.VideoCapture (or decodes images) and answers one request at a time.
// It is a child process, not a worker thread, because OpenCV's open and read can block forever in native
// code (a GStreamer pipeline that never prerolls waits on a condition variable): a worker thread stuck
// there cannot be terminated, and Node then hangs in process.exit() joining it; a process can be killed.
import { realpathSync } from 'node:fs';
import { loadOpenCV, type Mat } from './opencv.js';
import type { CaptureReply, CaptureRequest, Pixels } from './capture-protocol.js';
import { fitWithin } from '../lib/geometry.js';

const cv = await loadOpenCV();
type Capture = InstanceType<typeof cv.VideoCapture>;
let capture: Capture | null = null;

// Ctrl-C reaches the whole process group: the agent decides when capture stops, not the terminal.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// The agent gone (even killed) means nothing is left to capture for.
process.on('disconnect', () => process.exit(0));

function reply(msg: CaptureReply): void {
  process.send!(msg);
}

/**
 * The last frames read, full resolution, by seq: a frame sent at detection size can still be fetched
 * whole while the agent works on it. Its reads run ahead by a frame or two (more while a slow pass
 * runs, frames then being dropped), so a few are kept; more would only hold memory (6 × 6 MB at 1080p).
 */
const RING = 6;
const ring = new Map<number, Mat>();
let seq = 0;

function pixels(mat: Mat): Pixels {
  const bytes = mat.getData();
  return { data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), rows: mat.rows, cols: mat.cols };
}

function frameReply(mat: Mat | null, req: { full?: boolean; fit?: { maxWidth: number; maxHeight: number } } = {}): CaptureReply {
  if (!mat || mat.empty) return { op: 'none' };
  const bgr = mat.channels === 3 ? mat : mat.cvtColor(mat.channels === 4 ? cv.COLOR_BGRA2BGR : cv.COLOR_GRAY2BGR);
  const n = ++seq;
  const size = { seq: n, width: bgr.cols, height: bgr.rows };
  const fit = req.fit ? fitWithin(bgr.cols, bgr.rows, req.fit.maxWidth, req.fit.maxHeight) : null;
  // The whole frame wanted (someone is in view), no smaller copy asked for, or it would be the frame
  // itself: the frame whole, as it always was — the detector then scales it itself.
  if (req.full || !fit || (fit.width === bgr.cols && fit.height === bgr.rows)) return { op: 'frame', ...size, full: pixels(bgr) };
  ring.set(n, bgr);
  ring.delete(n - RING);
  // INTER_LINEAR, as the detector would resize the full frame itself (grid-detector.ts): the same pixels.
  const small = pixels(bgr.resize(fit.height, fit.width, 0, 0, cv.INTER_LINEAR));
  return { op: 'frame', ...size, small };
}

/** /dev/videoN by index; a stable name (/dev/v4l/by-id/…, a udev symlink) resolved to its /dev/videoN first. */
function openV4l2(path: string): Capture {
  const real = realpathSync(path);
  const n = /^\/dev\/video(\d+)$/.exec(real);
  return n ? new cv.VideoCapture(Number(n[1]), cv.CAP_V4L2) : new cv.VideoCapture(real, cv.CAP_V4L2);
}

function handle(req: CaptureRequest): CaptureReply {
  switch (req.op) {
    case 'open': {
      const target = req.uri;
      try {
        if (req.kind === 'gstreamer') capture = new cv.VideoCapture(target.slice(4), cv.CAP_GSTREAMER);
        else if (req.kind === 'v4l2') capture = openV4l2(target);
        else capture = new cv.VideoCapture(target, cv.CAP_FFMPEG);
      } catch (err) {
        // opencv4nodejs throws a plain string here.
        return { op: 'error', message: String(err) };
      }
      return { op: 'opened', fps: capture.get(cv.CAP_PROP_FPS) || 0 };
    }
    case 'read':
      if (!capture) return { op: 'error', message: 'not open' };
      return frameReply(capture.read(), req);
    case 'pixels': {
      const mat = ring.get(req.seq);
      return mat ? { op: 'pixels', full: pixels(mat) } : { op: 'none' };
    }
    case 'rewind':
      capture?.set(cv.CAP_PROP_POS_FRAMES, 0);
      return { op: 'done' };
    case 'seek':
      capture?.set(cv.CAP_PROP_POS_FRAMES, req.frame);
      return { op: 'done' };
    case 'imread': {
      let mat: Mat | null;
      try {
        mat = cv.imread(req.path);
      } catch {
        mat = null; // unreadable: the source skips it
      }
      return frameReply(mat);
    }
    case 'close':
      capture?.release();
      capture = null;
      ring.clear();
      return { op: 'done' };
  }
}

process.on('message', (req: CaptureRequest) => {
  let msg: CaptureReply;
  try {
    msg = handle(req);
  } catch (err) {
    msg = { op: 'error', message: (err as Error).message ?? String(err) };
  }
  reply(msg);
  if (req.op === 'close') process.disconnect();
});
reply({ op: 'done' });
