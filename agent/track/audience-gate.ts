// What counts as a viewer, decided per detection before tracking:
// - faces in an ignore zone (normalised polygons: a mirror, a window, a TV) are dropped;
// - faces smaller than minViewerFacePx (far passers-by) are opportunities to see, tracked on their own
//   and counted once each when confirmed, but never open a visit;
// - a face that has not moved for staticAfterMs (a poster, a photo on the wall, a screen showing faces)
//   stops counting: its detections are dropped while it stays put, with a log line and a counter.
import type { Detection } from '../detect/detector.js';
import { insidePolygon } from '../lib/camera-geometry.js';
import { boxIou, Tracker, type TrackerOptions } from './tracker.js';

export interface GateOptions {
  minViewerFacePx: number;
  ignoreZones: (readonly (readonly [number, number])[])[];
  /** 0: never declare a face static. */
  staticAfterMs: number;
  /** How far (fraction of the face size) a static face's centre may wander: sensor noise, not a person. */
  staticTolerance: number;
}

interface Anchor {
  box: Detection['box'];
  since: number;
  lastSeen: number;
  isStatic: boolean;
}

export interface GateResult {
  viewers: Detection[];
  /** Faces that became static on this pass (for a log line). */
  becameStatic: Detection[];
}

const FORGET_MS = 3000;
/** A poster hidden by someone walking past is still a poster: a static anchor is kept this long unseen. */
const FORGET_STATIC_MS = 60_000;

export class AudienceGate {
  private readonly anchors: Anchor[] = [];
  private readonly far: Tracker;
  /** Far faces confirmed so far: opportunities to see that opened no visit. */
  farFaces = 0;
  staticFaces = 0;
  ignored = 0;

  constructor(
    private readonly opts: GateOptions,
    tracker: TrackerOptions,
  ) {
    this.far = new Tracker(tracker);
  }

  filter(detections: Detection[], frame: { width: number; height: number }, ts: number): GateResult {
    const near: Detection[] = [];
    const far: Detection[] = [];
    for (const d of detections) {
      const c = { x: (d.box.x + d.box.w / 2) / frame.width, y: (d.box.y + d.box.h / 2) / frame.height };
      if (this.opts.ignoreZones.some((z) => insidePolygon(c, z))) {
        this.ignored++;
        continue;
      }
      (Math.max(d.box.w, d.box.h) < this.opts.minViewerFacePx ? far : near).push(d);
    }
    this.farFaces += this.far.update(far, ts).confirmed.length;
    const becameStatic: Detection[] = [];
    const viewers =
      this.opts.staticAfterMs > 0
        ? near.filter((d) => {
            const anchor = this.anchor(d, ts);
            if (!anchor.isStatic && ts - anchor.since >= this.opts.staticAfterMs) {
              anchor.isStatic = true;
              this.staticFaces++;
              becameStatic.push(d);
            }
            return !anchor.isStatic;
          })
        : near;
    for (let i = this.anchors.length - 1; i >= 0; i--) {
      const a = this.anchors[i]!;
      if (ts - a.lastSeen > (a.isStatic ? FORGET_STATIC_MS : FORGET_MS)) this.anchors.splice(i, 1);
    }
    return { viewers, becameStatic };
  }

  /** The anchor this detection sits on; it moves (and starts its clock again) when the face moves. */
  private anchor(d: Detection, ts: number): Anchor {
    const size = Math.max(d.box.w, d.box.h);
    const moved = (a: Anchor) => {
      const dx = a.box.x + a.box.w / 2 - (d.box.x + d.box.w / 2);
      const dy = a.box.y + a.box.h / 2 - (d.box.y + d.box.h / 2);
      return Math.hypot(dx, dy) > this.opts.staticTolerance * size || Math.abs(Math.max(a.box.w, a.box.h) - size) > this.opts.staticTolerance * size;
    };
    let best: Anchor | null = null;
    let bestIou = 0.3;
    for (const a of this.anchors) {
      const iou = boxIou(a.box, d.box);
      if (iou > bestIou) {
        best = a;
        bestIou = iou;
      }
    }
    if (!best) {
      best = { box: d.box, since: ts, lastSeen: ts, isStatic: false };
      this.anchors.push(best);
    } else if (moved(best)) {
      Object.assign(best, { box: d.box, since: ts, isStatic: false });
    }
    best.lastSeen = ts;
    return best;
  }
}
