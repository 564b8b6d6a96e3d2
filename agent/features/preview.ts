// The local preview (preview.enabled): an annotated live view for the installer, served on loopback only
// — an MJPEG stream (/stream.mjpg), one annotated frame (/snapshot.jpg) and a page showing the stream
// (/). Frames are annotated and JPEG-encoded only while someone is watching, at most preview.maxFps, so
// the feature costs nothing otherwise. node:http is enough for three routes; no framework needed.
// Who is answered, how many at once and how slow readers are dropped: preview-guard.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../config/load.js';
import { previewIssues } from '../config/checks.js';
import type { Config } from '../config/schema.js';
import { loadOpenCV, type CV } from '../capture/opencv.js';
import type { FrameDone } from './events.js';
import { FeatureBase, type FeatureContext } from './feature.js';
import { annotate } from './preview-draw.js';
import { BUSY_RESPONSE, hostAllowed, isLoopbackHost, MAX_CONNECTIONS, STALL_MS } from './preview-guard.js';

const BOUNDARY = 'perceptframe';
const SNAPSHOT_WAIT_MS = 10_000;
/** Long enough to smooth a detection pass that takes a few frames' time, short enough to follow a change. */
const FPS_WINDOW_MS = 5000;

export const isLoopback = isLoopbackHost;
/** Sent with every answer: another site's page may not even embed a frame (no <img> of it). */
const PRIVATE = { 'cache-control': 'no-store', 'cross-origin-resource-policy': 'same-origin', 'x-content-type-options': 'nosniff' };
/** Refusals are logged at most this often (a page or a scan can make thousands). */
const REFUSAL_LOG_MS = 60_000;

/** The preview's config rule (config/checks.ts previewIssues) as an error, for a config built in code. */
export function checkPreviewConfig(config: Config): void {
  const issues = previewIssues(config);
  if (issues.length) throw new ConfigError('preview', issues);
}

export class PreviewFeature extends FeatureBase {
  readonly name = 'preview';
  private server: Server | null = null;
  private cv: CV | null = null;
  /** Viewers of the MJPEG stream: since when the frame last written to each has been waiting (null: sent). */
  private readonly streams = new Map<ServerResponse, { blockedSince: number | null }>();
  private readonly sockets = new Set<Socket>();
  private readonly overCap = new WeakSet<Socket>();
  private readonly refusals = { host: 0, busy: 0, dropped: 0, loggedAt: 0 };
  private readonly waiting = new Set<(jpeg: Buffer) => void>();
  private encoding = false;
  private lastSent = 0;
  private readonly arrivals: number[] = [];
  /** The bound address (port 0 picks one). */
  address: AddressInfo | null = null;

  constructor(ctx: FeatureContext) {
    super(ctx, 'preview');
    checkPreviewConfig(ctx.config);
  }

  wantsPixels(): boolean {
    return this.streams.size > 0 || this.waiting.size > 0;
  }

  async start(): Promise<void> {
    const p = this.ctx.config.preview;
    if (!p.enabled) return;
    this.cv = await loadOpenCV();
    // A connection that sends no request is closed within 10 s (Node's default is 60 s per header set).
    const server = createServer({ headersTimeout: 10_000, requestTimeout: 10_000 }, (req, res) => this.route(req, res));
    server.on('connection', (socket: Socket) => this.admit(socket));
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
    this.on('frame', (f) => this.onFrame(f));
    const sweeper = setInterval(() => this.dropStalled(Date.now()), 1000);
    sweeper.unref();
    this.hold(() => clearInterval(sweeper));
  }

  private admit(socket: Socket): void {
    if (this.sockets.size >= MAX_CONNECTIONS) {
      // Answered and closed before the request is read; route() ignores one that slips through.
      this.overCap.add(socket);
      this.refused('busy', `refused a connection: ${MAX_CONNECTIONS} already open`);
      socket.end(BUSY_RESPONSE, () => socket.destroy());
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Debug per refusal; a warning with the counts at most once a minute. */
  private refused(kind: 'host' | 'busy', why: string): void {
    this.refusals[kind]++;
    const log = this.ctx.log('preview');
    log.debug(why);
    const now = Date.now();
    if (now - this.refusals.loggedAt < REFUSAL_LOG_MS) return;
    this.refusals.loggedAt = now;
    log.warn(
      `refused so far: ${this.refusals.host} request(s) for another host name (a web page or a scan; open http://127.0.0.1:${this.address?.port}/), ` +
        `${this.refusals.busy} connection(s) over the limit of ${MAX_CONNECTIONS}; ${this.refusals.dropped} stalled viewer(s) dropped`,
    );
  }

  /** Viewers whose last frame has not left for STALL_MS: reset, so the kernel frees their buffers too. */
  private dropStalled(now: number): void {
    for (const [res, s] of this.streams) {
      if (res.writableLength === 0) s.blockedSince = null;
      else if (s.blockedSince !== null && now - s.blockedSince > STALL_MS) {
        this.streams.delete(res);
        this.refusals.dropped++;
        this.ctx
          .log('preview')
          .info(`dropped a viewer that stopped reading (${Math.round(res.writableLength / 1024)} KiB unsent for over ${STALL_MS / 1000} s)`);
        res.socket?.resetAndDestroy();
      }
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    if (this.overCap.has(req.socket)) return; // already answered 503 and closing
    const p = this.ctx.config.preview;
    if (!hostAllowed(req.headers.host, { bindHost: p.host, allowNonLoopback: p.allowNonLoopback }, req.socket.localAddress)) {
      // JSON.stringify: a forged Host cannot put control characters into the log.
      this.refused('host', `refused a request for Host ${JSON.stringify((req.headers.host ?? '').slice(0, 100))}`);
      res
        .writeHead(403, { ...PRIVATE, 'content-type': 'text/plain', connection: 'close' })
        .end('the preview answers only to http://127.0.0.1, http://localhost or http://[::1] (tunnel with ssh -L to view it elsewhere)\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { ...PRIVATE, 'content-type': 'text/html; charset=utf-8' }).end(page(this.ctx.device));
      return;
    }
    if (path === '/stream.mjpg') {
      res.writeHead(200, {
        ...PRIVATE,
        'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
        connection: 'close',
      });
      this.streams.set(res, { blockedSince: null });
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
        res.writeHead(200, { ...PRIVATE, 'content-type': 'image/jpeg' }).end(jpeg);
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

  /** Frames the pipeline processed per second over the last FPS_WINDOW_MS (every frame counts, drawn or not). */
  private fps(now: number): number {
    this.arrivals.push(now);
    while (this.arrivals.length && now - this.arrivals[0]! > FPS_WINDOW_MS) this.arrivals.shift();
    const span = now - this.arrivals[0]!;
    return span > 0 ? ((this.arrivals.length - 1) * 1000) / span : 0;
  }

  private onFrame(frame: FrameDone): void {
    const now = Date.now();
    const fps = this.fps(now);
    if (!frame.mat || !this.cv || this.encoding || !this.wantsPixels()) return;
    if (!this.waiting.size && now - this.lastSent < 1000 / this.ctx.config.preview.maxFps) return;
    this.encoding = true;
    this.lastSent = now;
    const cv = this.cv;
    const c = this.ctx.config;
    const annotated = annotate(cv, frame, frame.mat, { minFacePx: c.classifier.minFacePx, fps, ignoreZones: c.audience.ignoreZones });
    // imencodeAsync runs on libuv's pool, off the event loop the pipeline shares.
    cv.imencodeAsync('.jpg', annotated, [cv.IMWRITE_JPEG_QUALITY, 80])
      .then((jpeg) => {
        const waiting = [...this.waiting];
        this.waiting.clear();
        for (const send of waiting) send(jpeg);
        const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
        // A viewer whose socket is still full skips this frame instead of queueing it in memory; one whose
        // frame stays unsent is dropped by dropStalled().
        const now = Date.now();
        for (const [res, s] of this.streams)
          if (res.writableLength === 0) {
            res.write(head);
            res.write(jpeg);
            res.write('\r\n');
            s.blockedSince = res.writableLength > 0 ? now : null;
          }
      })
      .catch((err: Error) => this.ctx.log('preview').warn(`encoding failed: ${err.message}`))
      .finally(() => {
        this.encoding = false;
      });
  }

  protected override async finish(): Promise<void> {
    // A viewer that does not read would keep the server from closing: its socket goes too.
    for (const res of this.streams.keys()) res.socket?.destroy();
    this.streams.clear();
    for (const socket of this.sockets) socket.destroy();
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
<p>percept · ${name} · boxes: people present (green; orange = not looking), thin magenta: faces the detector found (before far, zoned and static faces are dropped), red polygons: ignore zones, white square: classifier.minFacePx; fps: frames processed per second. Served on this device only.</p>
<script>
// The first frame is a still (so the page has loaded once it shows); then the live MJPEG stream.
const img = document.getElementById('live');
img.addEventListener('load', () => { if (!img.src.endsWith('stream.mjpg') && !location.search.includes('still')) img.src = 'stream.mjpg'; }, { once: true });
</script>
</body></html>
`;
}
