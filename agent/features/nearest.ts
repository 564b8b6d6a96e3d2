// {root}/nearest for social robots: the nearest person (largest face) with direction from the camera
// axis, an estimated distance, whether they look at the camera, and their labels — at most
// audience.nearestMaxHz while someone is present, and one empty record when nobody is any more.
import type { NearestPayload } from '../contract/payloads.js';
import { direction, distanceM } from '../lib/camera-geometry.js';
import type { FrameDone } from './events.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';
import { TOPICS } from '../contract/topics.js';

export function nearestRecord(f: FrameDone, cam: { hfovDeg: number; vfovDeg: number; faceWidthM: number }, device: string, now: Date): NearestPayload {
  const base = { schema: 1 as const, ts: now.toISOString(), device };
  const nearest = [...f.people].sort((a, b) => b.box.w * b.box.h - a.box.w * a.box.h)[0];
  if (!nearest) return { ...base, person: null };
  const frame = { width: f.width, height: f.height };
  const centre = { x: nearest.box.x + nearest.box.w / 2, y: nearest.box.y + nearest.box.h / 2 };
  const dir = direction(centre, frame, cam);
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return {
    ...base,
    person: nearest.person,
    azimuthDeg: r1(dir.azimuthDeg),
    elevationDeg: r1(dir.elevationDeg),
    distanceM: Math.round(distanceM(nearest.box.w, frame, cam) * 100) / 100,
    ...(nearest.looking !== undefined ? { looking: nearest.looking } : {}),
    ...nearest.labels,
  };
}

export class NearestFeature implements Feature {
  readonly name = 'nearest';
  private readonly sends: Sends;
  private off: (() => void) | null = null;
  private lastSent = -Infinity;
  private someoneWasThere = false;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly clock: () => number = () => Date.now(),
  ) {
    this.sends = new Sends(ctx.log('nearest'));
  }

  start(): void {
    this.off = this.ctx.bus.on('frame', (f) => this.onFrame(f));
  }

  private onFrame(f: FrameDone): void {
    const hz = this.ctx.config.audience.nearestMaxHz;
    if (hz <= 0 || f.width <= 0) return;
    const present = f.people.length > 0;
    const now = this.clock();
    if (present) {
      if (now - this.lastSent < 1000 / hz) return;
    } else if (!this.someoneWasThere) {
      return;
    }
    this.someoneWasThere = present;
    this.lastSent = now;
    const body = nearestRecord(f, this.ctx.config.camera, this.ctx.device, new Date(now));
    // QoS and retain from the topic table: at 10 Hz the next message replaces a lost one (QoS 0).
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.nearest, JSON.stringify(body), TOPICS.nearest.retained, TOPICS.nearest.qos));
  }

  async stop(): Promise<void> {
    this.off?.();
    await this.sends.settle();
  }
}
