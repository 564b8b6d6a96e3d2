// Live sources (cameras, streams, pipelines) fail in the field: the device is unplugged, the RTSP server
// drops, a stream freezes. This wrapper reopens them with exponential backoff and jitter, treats "no
// frame for frozenMs" as a failure, pauses (releasing the camera) outside opening hours, and never ends
// by itself: the process never exits because of its camera. A source that has not delivered yet (a
// device not plugged in, a pipeline whose file is not there, no source.uri at all) is 'waiting'; one that
// delivered and failed is 'lost'; the detail says why and when the next try is.
import type { Frame, FrameNeeds, FrameSource } from './frame.js';
import { backoffDelay } from '../lib/backoff.js';

export type CameraState = 'connecting' | 'ok' | 'waiting' | 'lost' | 'paused';

/** cameraDetail when no source is configured: what to set, and where. */
export const NO_SOURCE_DETAIL =
  'no source configured: set source.uri in /etc/percept/percept.yaml (a video file, /dev/videoN, /dev/v4l/by-id/…, rtsp://…, gst:<pipeline>) or pass --source, then systemctl restart percept';

export interface ResilienceOptions {
  reconnectMinMs: number;
  reconnectMaxMs: number;
  frozenMs: number;
}

const FROZEN = Symbol('frozen');

export class ResilientSource implements FrameSource {
  state: CameraState = 'connecting';
  reconnects = 0;
  lastError = '';
  /** Why the camera is in its state (the status message's cameraDetail); empty when ok. */
  detail = '';
  private everDelivered = false;
  private closed = false;
  private paused = false;
  private current: FrameSource | null = null;
  private wake: (() => void) | null = null;
  /** The pipeline's latest needs, passed to each source it opens. */
  private needs: FrameNeeds | null = null;

  constructor(
    readonly uri: string,
    private readonly make: () => FrameSource,
    private readonly opts: ResilienceOptions,
    private readonly onState: (state: CameraState, detail: string) => void = () => undefined,
  ) {
    if (!uri) {
      this.state = 'waiting';
      this.detail = NO_SOURCE_DETAIL;
    }
  }

  private set(state: CameraState, detail = ''): void {
    if (state === this.state && detail === this.detail) return;
    this.state = state;
    this.detail = detail;
    this.onState(state, detail);
  }

  /** Opening is part of the retry loop: a camera missing at start is waited for, not fatal. */
  async open(): Promise<void> {}

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  need(needs: FrameNeeds): void {
    this.needs = needs;
    this.current?.need?.(needs);
  }

  async *frames(): AsyncGenerator<Frame> {
    let attempt = 0;
    while (!this.closed) {
      if (this.paused) {
        this.set('paused');
        await this.sleep(3_600_000);
        continue;
      }
      if (!this.uri) {
        // Nothing to open until the config names a source (a restart): wait, healthy and saying so.
        this.set('waiting', NO_SOURCE_DETAIL);
        await this.sleep(3_600_000);
        continue;
      }
      const src = this.make();
      this.current = src;
      if (this.needs) src.need?.(this.needs);
      let failure = 'ended';
      // Up since its first frame: the time opening took (a capture process starting, a slow camera) is
      // not time the stream stayed up.
      let upSince = Infinity;
      try {
        await src.open();
        const it = src.frames()[Symbol.asyncIterator]();
        let first = true;
        for (;;) {
          let timer: NodeJS.Timeout | undefined;
          const next = await Promise.race([
            it.next(),
            new Promise<typeof FROZEN>((r) => {
              timer = setTimeout(() => r(FROZEN), this.opts.frozenMs);
            }),
          ]);
          clearTimeout(timer);
          if (this.closed || this.paused) break;
          if (next === FROZEN) {
            failure = `no frame for ${this.opts.frozenMs} ms (frozen)`;
            break;
          }
          if (next.done) {
            failure = 'the stream ended';
            break;
          }
          if (first) {
            this.set('ok');
            this.everDelivered = true;
            first = false;
            upSince = Date.now();
          }
          // Only a connection that stayed up resets the backoff: a stream that keeps dropping backs off.
          if (attempt && Date.now() - upSince > this.opts.reconnectMaxMs) attempt = 0;
          yield next.value;
        }
      } catch (err) {
        failure = (err as Error).message;
      }
      void src.close();
      this.current = null;
      if (this.closed) return;
      if (this.paused) continue;
      attempt++;
      this.reconnects++;
      this.lastError = failure;
      const delay = backoffDelay(attempt, this.opts.reconnectMinMs, Math.max(this.opts.reconnectMinMs, this.opts.reconnectMaxMs));
      const next = `next try in ${Math.round(delay / 100) / 10} s, attempt ${attempt}`;
      if (this.everDelivered) this.set('lost', `${failure}; reconnecting (${next})`);
      else this.set('waiting', `${failure}; waiting (${next})`);
      await this.sleep(delay);
    }
  }

  /** Outside opening hours: release the camera until resume(). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    void this.current?.close();
    this.set('paused');
    this.wake?.();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.set(this.uri ? 'connecting' : 'waiting', this.uri ? '' : NO_SOURCE_DETAIL);
    this.wake?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.current?.close();
  }
}
