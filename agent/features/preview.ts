// The local preview (preview.enabled): an annotated live view for the installer, served on loopback only
// — an MJPEG stream (/stream.mjpg), one annotated frame (/snapshot.jpg) and a page showing the stream
// (/). Frames are annotated and JPEG-encoded only while someone is watching, at most preview.maxFps, so
// the feature costs nothing otherwise. node:http is enough for three routes; no framework needed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadOpenCV, type CV } from '../capture/opencv.js';
import type { FrameDone } from './events.js';
import type { Feature, FeatureContext } from './feature.js';
import { annotate } from './preview-draw.js';

const BOUNDARY = 'perceptframe';
const SNAPSHOT_WAIT_MS = 10_000;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The preview's config rule the schema cannot state: loopback only, unless explicitly allowed. */
export function checkPreviewConfig(config: Config): void {
  const p = config.preview;
  if (p.enabled && !isLoopback(p.host) && !p.allowNonLoopback) {
    throw new ConfigError('preview', [
      {
        path: 'preview.host',
        message:
          `"${p.host}" is not a loopback address: the camera would be visible to that network, unauthenticated. ` +
          'Use 127.0.0.1 and reach it with "ssh -L", or set preview.allowNonLoopback: true if you really mean it',
      },
    ]);
  }
}

export class PreviewFeature implements Feature {
  readonly name = 'preview';
  private server: Server | null = null;
  private cv: CV | null = null;
  private readonly streams = new Set<ServerResponse>();
  private readonly waiting = new Set<(jpeg: Buffer) => void>();
  private encoding = false;
  private lastSent = 0;
  private readonly arrivals: number[] = [];
  private off: (() => void) | null = null;
  /** The bound address (port 0 picks one). */
  address: AddressInfo | null = null;

  constructor(private readonly ctx: FeatureContext) {
    checkPreviewConfig(ctx.config);
  }

  async start(): Promise<void> {
    const p = this.ctx.config.preview;
    if (!p.enabled) return;
    this.cv = await loadOpenCV();
    const server = createServer((req, res) => this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`preview: cannot listen on ${p.host}:${p.port}: ${err.message} (set preview.port)`)));
      server.listen(p.port, p.host, () => resolve());
    });
    this.server = server;
    this.address = server.address() as AddressInfo;
    const where = `http://${this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address}:${this.address.port}/`;
    this.ctx
      .log('preview')
      .info(`preview on ${where} (${isLoopback(p.host) ? 'this machine only; from a laptop: percept preview' : 'NOT loopback: visible on that network'})`);
    this.off = this.ctx.bus.on('frame', (f) => this.onFrame(f));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page(this.ctx.device));
      return;
    }
    if (path === '/stream.mjpg') {
      res.writeHead(200, {
        'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
        'cache-control': 'no-store',
        connection: 'close',
      });
      this.streams.add(res);
      res.once('close', () => this.streams.delete(res));
      return;
    }
    if (path === '/snapshot.jpg') {
      const timer = setTimeout(() => {
        this.waiting.delete(send);
        res.writeHead(503).end('no frame (camera lost or paused?)\n');
      }, SNAPSHOT_WAIT_MS);
      const send = (jpeg: Buffer) => {
        clearTimeout(timer);
        res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store' }).end(jpeg);
      };
      this.waiting.add(send);
      res.once('close', () => {
        clearTimeout(timer);
        this.waiting.delete(send);
      });
      return;
    }
    res.writeHead(404).end();
  }

  private fps(now: number): number {
    this.arrivals.push(now);
    while (this.arrivals.length && now - this.arrivals[0]! > 2000) this.arrivals.shift();
    const span = now - this.arrivals[0]!;
    return span > 0 ? ((this.arrivals.length - 1) * 1000) / span : 0;
  }

  private onFrame(frame: FrameDone): void {
    const now = Date.now();
    const fps = this.fps(now);
    if (!frame.mat || !this.cv || this.encoding || (!this.streams.size && !this.waiting.size)) return;
    if (!this.waiting.size && now - this.lastSent < 1000 / this.ctx.config.preview.maxFps) return;
    this.encoding = true;
    this.lastSent = now;
    const cv = this.cv;
    const annotated = annotate(cv, frame, frame.mat, { minFacePx: this.ctx.config.classifier.minFacePx, fps });
    // imencodeAsync runs on libuv's pool, off the event loop the pipeline shares.
    cv.imencodeAsync('.jpg', annotated, [cv.IMWRITE_JPEG_QUALITY, 80])
      .then((jpeg) => {
        const waiting = [...this.waiting];
        this.waiting.clear();
        for (const send of waiting) send(jpeg);
        const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
        // A viewer whose socket is still full skips this frame instead of queueing it in memory.
        for (const res of this.streams)
          if (res.writableLength === 0) {
            res.write(head);
            res.write(jpeg);
            res.write('\r\n');
          }
      })
      .catch((err: Error) => this.ctx.log('preview').warn(`encoding failed: ${err.message}`))
      .finally(() => {
        this.encoding = false;
      });
  }

  async stop(): Promise<void> {
    this.off?.();
    for (const res of this.streams) res.end();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function page(device: string): string {
  const name = device.replace(/[^A-Za-z0-9_-]/g, '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>percept preview · ${name}</title>
<style>body{margin:0;background:#111;color:#ddd;font:14px system-ui,sans-serif}img{display:block;max-width:100%}p{margin:6px 10px}</style>
</head><body>
<img id="live" src="snapshot.jpg" alt="annotated camera view">
<p>percept · ${name} · boxes: people present (green; orange = not looking), red: ignore zones, white square: classifier.minFacePx. Served on this device only.</p>
<script>
// The first frame is a still (so the page has loaded once it shows); then the live MJPEG stream.
const img = document.getElementById('live');
img.addEventListener('load', () => { if (!img.src.endsWith('stream.mjpg') && !location.search.includes('still')) img.src = 'stream.mjpg'; }, { once: true });
</script>
</body></html>
`;
}
