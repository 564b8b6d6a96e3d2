// Frame sources through OpenCV's VideoCapture: video files, V4L2 devices, RTSP/HTTP streams, GStreamer
// pipelines (gst:…), plus folders of images.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { CV, Mat } from './opencv.js';
import type { Frame, FrameSource } from './frame.js';

export class SourceError extends Error {
  constructor(
    readonly uri: string,
    message: string,
  ) {
    super(`source ${uri}: ${message}`);
    this.name = 'SourceError';
  }
}

export type SourceKind = 'file' | 'v4l2' | 'stream' | 'gstreamer' | 'images';

export function sourceKind(uri: string): SourceKind {
  if (uri.startsWith('gst:')) return 'gstreamer';
  if (/^\/dev\/video\d+$/.test(uri)) return 'v4l2';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return 'stream';
  if (existsSync(uri) && statSync(uri).isDirectory()) return 'images';
  return 'file';
}

export interface SourceOptions {
  /** Files: start again at the end instead of ending. */
  loop: boolean;
  /** Files: deliver frames at the file's own rate, as a camera would. Off: as fast as they are read. */
  realtime: boolean;
  /** Image folders: ms between images. */
  imageIntervalMs: number;
  /** Where a skipped unreadable image is reported. */
  warn?: (message: string) => void;
  /** Injected clock, ms since the epoch. */
  now?: () => number;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class OpenCvSource implements FrameSource {
  private capture: InstanceType<CV['VideoCapture']> | null = null;
  private images: string[] = [];
  private readonly unreadable = new Set<string>();
  private closed = false;
  private reading = false;
  readonly kind: SourceKind;
  fps = 0;

  constructor(
    private readonly cv: CV,
    readonly uri: string,
    private readonly opts: SourceOptions,
  ) {
    this.kind = sourceKind(uri);
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  async open(): Promise<void> {
    const cv = this.cv;
    if (this.kind === 'images') {
      this.images = readdirSync(this.uri)
        .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(this.uri, f));
      if (!this.images.length) throw new SourceError(this.uri, `no images (${[...IMAGE_EXT].join(' ')}) in this folder`);
      return;
    }
    if (this.kind === 'file' && !existsSync(this.uri)) {
      throw new SourceError(this.uri, 'no such file (a source is a video file, /dev/videoN, rtsp://…, gst:<pipeline> or a folder of images)');
    }
    try {
      if (this.kind === 'gstreamer') this.capture = new cv.VideoCapture(this.uri.slice(4), cv.CAP_GSTREAMER);
      else if (this.kind === 'v4l2') this.capture = new cv.VideoCapture(Number(this.uri.slice('/dev/video'.length)), cv.CAP_V4L2);
      else this.capture = new cv.VideoCapture(this.uri, cv.CAP_FFMPEG);
    } catch (err) {
      // opencv4nodejs throws a plain string here.
      throw new SourceError(this.uri, `cannot be opened (${String(err)})${this.kind === 'file' ? '; is it a video file OpenCV/FFmpeg can decode?' : ''}`);
    }
    this.fps = this.capture.get(cv.CAP_PROP_FPS) || 0;
  }

  async *frames(): AsyncGenerator<Frame> {
    if (this.kind === 'images') yield* this.imageFrames();
    else yield* this.videoFrames();
  }

  private async *imageFrames(): AsyncGenerator<Frame> {
    const start = this.now();
    let index = 0;
    let idlePasses = 0;
    do {
      let read = 0;
      for (const path of this.images) {
        if (this.closed) return;
        const mat = await this.cv.imreadAsync(path).catch(() => null);
        if (!mat || mat.empty) {
          // Logged once per file, then skipped: a folder of unreadable files must not spin silently.
          if (!this.unreadable.has(path)) {
            this.unreadable.add(path);
            this.opts.warn?.(`source ${this.uri}: ${path} cannot be read as an image; skipped`);
          }
          continue;
        }
        read++;
        const ts = start + index * this.opts.imageIntervalMs;
        if (this.opts.realtime) await sleep(Math.max(0, ts - this.now()));
        yield this.frame(mat, index++, ts);
      }
      // A whole pass with nothing readable: back off (up to 30 s) before looking again, never a busy loop.
      idlePasses = read ? 0 : idlePasses + 1;
      if (idlePasses && this.opts.loop && !this.closed) await sleep(Math.min(30_000, 250 * 2 ** Math.min(idlePasses, 7)));
    } while (this.opts.loop && !this.closed);
  }

  private async *videoFrames(): AsyncGenerator<Frame> {
    const cv = this.cv;
    const isFile = this.kind === 'file';
    const frameMs = this.fps > 0 ? 1000 / this.fps : 0;
    let start = this.now();
    let index = 0;
    let inPass = 0;
    while (!this.closed && this.capture) {
      this.reading = true;
      const mat = await this.capture.readAsync().catch(() => null);
      this.reading = false;
      if (this.closed) {
        this.release();
        return;
      }
      if (!mat || mat.empty) {
        if (isFile && this.opts.loop && inPass > 0) {
          this.capture.set(cv.CAP_PROP_POS_FRAMES, 0);
          start = this.now();
          inPass = 0;
          continue;
        }
        return;
      }
      // Files carry their own clock (frame index / fps), so tracking behaves the same however fast frames
      // are processed; live sources are stamped on arrival.
      let ts: number;
      if (isFile && frameMs > 0) {
        ts = start + inPass * frameMs;
        if (this.opts.realtime) await sleep(Math.max(0, ts - this.now()));
      } else {
        ts = this.now();
      }
      inPass++;
      yield this.frame(mat, index++, ts);
    }
  }

  private frame(mat: Mat, index: number, ts: number): Frame {
    const bgr = mat.channels === 3 ? mat : mat.channels === 4 ? mat.cvtColor(this.cv.COLOR_BGRA2BGR) : mat.cvtColor(this.cv.COLOR_GRAY2BGR);
    return { mat: bgr, width: bgr.cols, height: bgr.rows, index, ts };
  }

  async close(): Promise<void> {
    this.closed = true;
    // Releasing a capture while a read is in flight on OpenCV's thread is unsafe: the reader releases it.
    if (!this.reading) this.release();
  }

  private release(): void {
    this.capture?.release();
    this.capture = null;
  }
}
