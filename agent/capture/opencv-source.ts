// Frame sources through OpenCV's VideoCapture: video files, V4L2 devices, RTSP/HTTP streams, GStreamer
// pipelines (gst:…), plus folders of images.
import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { CV, Mat } from './opencv.js';
import type { Frame, FrameNeeds, FrameSource } from './frame.js';

export { SourceError, sourceKind, type SourceKind };
import { CaptureClient } from './capture-client.js';
import type { CaptureReply, CaptureRequest } from './capture-protocol.js';
import { captured, fetchPixels, frameOf, type Captured } from './captured-frame.js';
import { because, SourceError, sourceKind, type SourceKind } from './source-kind.js';
import { expandGstPreset, GST_PRESET_PREFIX, missingElementsMessage, missingGstElements } from './gst-presets.js';
import type { Logger } from '../lib/logging.js';

export interface SourceOptions {
  /** Files: start again at the end instead of ending. */
  loop: boolean;
  /** Files: deliver frames at the file's own rate, as a camera would. Off: as fast as they are read. */
  realtime: boolean;
  /** Image folders: ms between images. */
  imageIntervalMs: number;
  /** Opening (process start, OpenCV load, VideoCapture open) fails after this long. */
  openTimeoutMs?: number;
  /** One read or image decode fails after this long. */
  readTimeoutMs?: number;
  /**
   * Warnings: a skipped unreadable image, the capture libraries' own output. Debug lines: OpenCV's backend
   * warnings from the capture process, an unreadable folder's backoff. Absent: the libraries' output is not read.
   */
  log?: Logger;
  /** Injected clock, ms since the epoch. */
  now?: () => number;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const DEFAULT_OPEN_TIMEOUT_MS = 15_000;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** A file's capture process restarted this many times in a row without a frame in between: the source fails. */
const MAX_FILE_RESTARTS = 3;
const OUTPUT_LINES_PER_MINUTE = 20;

/**
 * OpenCV's VideoCapture (and image decoding) runs in a capture process (capture-client.ts): open and read
 * can block forever in native code and must never hold the main thread. Frames come back as BGR bytes
 * (~1.7 ms of main-thread CPU per 720p frame measured here; the next read is requested before a frame is
 * handed on, so the transfer overlaps detection). While the pipeline says nobody needs full pixels
 * (need()), only a copy the detector's size comes back — a quarter of the bytes at 720p → 640 — and the
 * full frame is fetched by frame when a face is found on it (captured-frame.ts).
 */
export class OpenCvSource implements FrameSource {
  private client: CaptureClient | null = null;
  private images: string[] = [];
  private readonly unreadable = new Set<string>();
  private closed = false;
  readonly kind: SourceKind;
  fps = 0;
  /** What the capture process opens: the uri, or a gst-preset: expanded to its gst: pipeline. */
  private target: string;
  /** What the pipeline last said it needs of the frames it reads next (need()); none said: full frames. */
  private needs: FrameNeeds = { full: true, fit: null };
  /** Frames handed over since open, how many of them whole, and how many fetched whole afterwards (bench, tests). */
  readonly handedOver = { frames: 0, full: 0, fetched: 0 };
  /** Library output logged in the current minute (a reconnecting camera must not flood the journal). */
  private output = { since: -Infinity, lines: 0, skipped: 0 };

  constructor(
    private readonly cv: CV,
    readonly uri: string,
    private readonly opts: SourceOptions,
  ) {
    this.kind = sourceKind(uri);
    this.target = uri;
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  async open(): Promise<void> {
    if (this.kind === 'images') {
      this.images = readdirSync(this.uri)
        .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(this.uri, f));
      if (!this.images.length) throw new SourceError(this.uri, `no images (${[...IMAGE_EXT].join(' ')}) in this folder`);
      this.client = this.newClient();
      return;
    }
    if (this.kind === 'file' && !existsSync(this.uri)) {
      throw new SourceError(
        this.uri,
        'no such file (a source is a video file, /dev/videoN, rtsp://…, gst:<pipeline>, gst-preset:<name>?… or a folder of images)',
      );
    }
    // Checked here, not left to OpenCV, so the reason is a plain "no such device" (unplugged, not yet
    // enumerated by udev) rather than a backend warning.
    if (this.kind === 'v4l2' && !existsSync(this.uri)) throw new SourceError(this.uri, 'no such device');
    if (this.uri.startsWith(GST_PRESET_PREFIX)) await this.expandPreset();
    await this.start();
  }

  /** A hardware-decoding preset (gst-presets.ts), checked element by element before it is started. */
  private async expandPreset(): Promise<void> {
    let preset;
    try {
      preset = expandGstPreset(this.uri);
    } catch (err) {
      throw new SourceError(this.uri, (err as Error).message);
    }
    const missing = await missingGstElements(preset.elements);
    if (missing.length) throw new SourceError(this.uri, missingElementsMessage(preset.name, missing));
    this.target = `gst:${preset.pipeline}`;
  }

  /** A new capture process with the source opened in it. */
  private async start(): Promise<void> {
    const client = this.newClient();
    this.client = client;
    let r: CaptureReply;
    try {
      r = await client.request({ op: 'open', uri: this.target, kind: this.kind }, this.opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, 'opening');
    } catch (err) {
      throw new SourceError(this.uri, `cannot be opened: ${(err as Error).message}${because(await client.killAndCollect())}`);
    }
    if (r.op !== 'opened') {
      const why = r.op === 'error' ? r.message : r.op;
      const said = because(await client.killAndCollect());
      throw new SourceError(this.uri, `cannot be opened (${why})${said}${this.kind === 'file' ? '; is it a video file OpenCV/FFmpeg can decode?' : ''}`);
    }
    this.fps = r.fps;
  }

  /**
   * A capture process whose library output reaches the log: FFmpeg's and GStreamer's own lines as warnings
   * (at most OUTPUT_LINES_PER_MINUTE a minute), OpenCV's backend warnings as debug lines (they repeat at
   * every probe; a failed open quotes them in its error anyway).
   */
  private newClient(): CaptureClient {
    const { log } = this.opts;
    if (!log) return new CaptureClient();
    return new CaptureClient(({ text: line, opencv }) => {
      if (opencv) return void log.debug(`capture process: ${line}`);
      const now = this.now();
      if (now - this.output.since >= 60_000) {
        if (this.output.skipped) log.warn(`capture process: ${this.output.skipped} more line(s) of library output in the last minute not logged`);
        this.output = { since: now, lines: 0, skipped: 0 };
      }
      if (this.output.lines++ < OUTPUT_LINES_PER_MINUTE) log.warn(`capture process: ${line}`);
      else this.output.skipped++;
    });
  }

  async *frames(): AsyncGenerator<Frame> {
    try {
      if (this.kind === 'images') yield* this.imageFrames();
      else yield* this.videoFrames();
    } finally {
      await this.close();
    }
  }

  /** One request to the capture process; a frame's pixels are rebuilt as Mats over the bytes it sent. */
  private async fetch(req: CaptureRequest): Promise<Captured | null> {
    if (!this.client || this.closed) return null;
    let r: CaptureReply;
    try {
      const what = req.op === 'imread' ? `decoding ${req.path}` : 'reading a frame';
      r = await this.client.request(req, this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS, what);
    } catch (err) {
      if (this.closed) return null;
      throw new SourceError(this.uri, (err as Error).message);
    }
    if (r.op === 'error') throw new SourceError(this.uri, r.message);
    if (r.op !== 'frame') return null;
    this.handedOver.frames++;
    if (r.full) this.handedOver.full++;
    return captured(this.cv, this.client, r);
  }

  /** The full pixels of a frame sent small, from the capture process that read it (null: gone). */
  private async fetchFull(c: Captured): Promise<Mat | null> {
    if (c.client !== this.client || this.closed) return null;
    const full = await fetchPixels(this.cv, c, this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
    if (full) this.handedOver.fetched++;
    return full;
  }

  /** The next read's request: the pipeline's latest needs (full frames, or detection-size copies). */
  private readRequest(): CaptureRequest {
    return this.needs.fit ? { op: 'read', full: this.needs.full, fit: this.needs.fit } : { op: 'read' };
  }

  need(needs: FrameNeeds): void {
    this.needs = needs;
  }

  private async *imageFrames(): AsyncGenerator<Frame> {
    const start = this.now();
    let index = 0;
    let idlePasses = 0;
    do {
      let read = 0;
      for (const path of this.images) {
        if (this.closed) return;
        // An unreadable file answers 'none'; a decode that hangs (capture process killed) ends the source.
        const got = await this.fetch({ op: 'imread', path });
        if (!got) {
          // Logged once per file, then skipped: a folder of unreadable files must not spin silently.
          if (!this.unreadable.has(path)) {
            this.unreadable.add(path);
            this.opts.log?.warn(`source ${this.uri}: ${path} cannot be read as an image; skipped`);
          }
          continue;
        }
        read++;
        const ts = start + index * this.opts.imageIntervalMs;
        if (this.opts.realtime) await sleep(Math.max(0, ts - this.now()));
        yield this.frame(got, index++, ts);
      }
      // A whole pass with nothing readable: back off (up to 30 s) before looking again, never a busy loop.
      idlePasses = read ? 0 : idlePasses + 1;
      if (idlePasses && this.opts.loop && !this.closed) {
        const backoffMs = Math.min(30_000, 250 * 2 ** Math.min(idlePasses, 7));
        this.opts.log?.debug(`source ${this.uri}: nothing readable in a whole pass; looking again in ${backoffMs} ms`);
        await sleep(backoffMs);
      }
    } while (this.opts.loop && !this.closed);
  }

  private async *videoFrames(): AsyncGenerator<Frame> {
    const isFile = this.kind === 'file';
    const frameMs = this.fps > 0 ? 1000 / this.fps : 0;
    let start = this.now();
    let index = 0;
    let inPass = 0;
    const read = () => {
      const p = this.fetch(this.readRequest());
      p.catch(() => undefined); // awaited below; a generator abandoned mid-read must not leave it unhandled
      return p;
    };
    let next = read();
    let restarts = 0;
    while (!this.closed) {
      let got: Captured | null;
      try {
        got = await next;
      } catch (err) {
        // A file has no reconnect loop around it: its capture process dying (SIGKILL, the OOM killer, a
        // read past its deadline) is restarted here and the file continues where it was. Only a process
        // that keeps dying without a frame ends the source, with the error (never a silent end).
        if (!isFile || this.closed || ++restarts > MAX_FILE_RESTARTS) throw err;
        this.opts.log?.warn(`${(err as Error).message}; restarting the capture process at frame ${inPass} (restart ${restarts})`);
        await this.client?.close();
        await this.start();
        if (inPass) await this.client!.request({ op: 'seek', frame: inPass }, this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS, 'seeking');
        next = read();
        continue;
      }
      if (this.closed) return;
      if (!got) {
        if (isFile && this.opts.loop && inPass > 0) {
          await this.client?.request({ op: 'rewind' }, this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS, 'rewinding');
          start = this.now();
          inPass = 0;
          next = read();
          continue;
        }
        return;
      }
      restarts = 0;
      next = read();
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
      yield this.frame(got, index++, ts);
    }
  }

  private frame(c: Captured, index: number, ts: number): Frame {
    return frameOf(c, index, ts, () => this.fetchFull(c));
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    // An in-flight read is cut short by killing the process; an idle one releases the camera first.
    await client?.close();
  }
}
