// {root}/nearest for social robots: the nearest person (largest face) with direction from the camera
// axis, an estimated distance, whether they look at the camera, and their labels — at most
// audience.nearestMaxHz while someone is present, and one empty record when nobody is any more.
import type { NearestPayload } from '../contract/payloads.js';
import { direction, distanceM } from '../lib/camera-geometry.js';
import type { FrameDone } from './events.js';
import { FeatureBase, type FeatureContext } from './feature.js';

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

export class NearestFeature extends FeatureBase {
  readonly name = 'nearest';
  private lastSent = -Infinity;
  private someoneWasThere = false;

  constructor(
    ctx: FeatureContext,
    private readonly clock: () => number = () => Date.now(),
  ) {
    super(ctx, 'nearest');
  }

  start(): void {
    this.on('frame', (f) => this.onFrame(f));
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
    // QoS 0 by the topic table: at 10 Hz the next message replaces a lost one.
    this.publish('nearest', body);
  }
}
