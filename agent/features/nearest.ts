// {root}/nearest for social robots: the nearest person (largest face) with direction from the camera
// axis, an estimated distance, whether they look at the camera, and their labels — at most
// audience.nearestMaxHz while someone is present, and one empty record when nobody is any more.
import type { NearestPayload } from '../contract/payloads.js';
import { CONTRACT_SCHEMA } from '../contract/formats.js';
import { direction, distanceM, touchesEdge } from '../lib/camera-geometry.js';
import type { FrameDone, PresentPerson } from './events.js';
import { FeatureBase, type FeatureContext } from './feature.js';

const area = (p: PresentPerson) => p.box.w * p.box.h;

/**
 * The nearest person: the largest face seen in the latest detection pass, else the largest of those lost
 * (out of view within visit.graceMs), marked so. A face touching the frame edge may be cut: no distance.
 */
export function nearestRecord(f: FrameDone, cam: { hfovDeg: number; vfovDeg: number; faceWidthM: number }, device: string, now: Date): NearestPayload {
  const base = { schema: CONTRACT_SCHEMA, device, ts: now.toISOString() };
  const nearest = [...f.people].sort((a, b) => Number(a.lost === true) - Number(b.lost === true) || area(b) - area(a))[0];
  if (!nearest) return { ...base, person: null };
  const frame = { width: f.width, height: f.height };
  const centre = { x: nearest.box.x + nearest.box.w / 2, y: nearest.box.y + nearest.box.h / 2 };
  const dir = direction(centre, frame, cam);
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const lost = nearest.lost === true;
  const cut = touchesEdge(nearest.box, frame);
  return {
    ...base,
    person: nearest.person,
    lastSeenMs: Math.max(0, Math.round(f.ts - Math.min(f.ts, nearest.lastSeen ?? f.ts))),
    lost,
    azimuthDeg: r1(dir.azimuthDeg),
    elevationDeg: r1(dir.elevationDeg),
    ...(cut ? { atEdge: true as const } : { distanceM: Math.round(distanceM(nearest.box.w, frame, cam) * 100) / 100 }),
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
