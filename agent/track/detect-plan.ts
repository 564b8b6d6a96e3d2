// Which detection pass a frame gets (issue 22): the whole frame, some regions of it, or none. The
// tracking side decides, since it knows where the faces are expected: the regions are where motion was
// seen and around the predicted box of every live track (enlarged: a face moves between passes), merged
// where they overlap. Faces the audience gate holds static (posters) have no track, so outside the
// full-frame passes nobody looks at them. A full-frame pass runs at least every fullFrameMs, so a person
// who arrives without moving much (or stood there when the agent started) is found all the same; and
// whenever the regions would cover most of the frame anyway.
import type { Box } from '../lib/geometry.js';

export interface DetectPlanOptions {
  /** Any detection pass at most this often, ms (0: every frame). */
  intervalMs: number;
  /** A full-frame pass at least this often, ms (0: every pass is full-frame: no regions). */
  fullFrameMs: number;
  /** A track's region: its predicted box scaled by this around its centre. */
  trackScale: number;
  /** Regions covering more than this fraction of the frame: detect the whole frame instead. */
  maxRegionFraction: number;
}

export type DetectPass = { kind: 'full' } | { kind: 'regions'; regions: Box[] } | { kind: 'none' };

export interface FrameSize {
  width: number;
  height: number;
}

/** Motion regions are padded by this fraction of their larger side (at least MIN_PAD px): a face's edge may not have moved. */
const MOTION_PAD = 0.25;
const MIN_PAD = 16;

export class DetectPlanner {
  private lastPass = -Infinity;
  private lastFull = -Infinity;

  constructor(private readonly opts: DetectPlanOptions) {}

  /**
   * The pass for the frame at ts. `motion` null: no motion gating (every pass full-frame, at most every
   * intervalMs, as before regions existed). `tracked`: the live tracks' predicted boxes (TrackPlan.expected).
   * Call done() once the pass ran.
   */
  next(ts: number, frame: FrameSize, motion: Box[] | null, tracked: Iterable<Box>): DetectPass {
    const { intervalMs, fullFrameMs } = this.opts;
    if (intervalMs > 0 && ts - this.lastPass < intervalMs) return { kind: 'none' };
    if (motion === null || fullFrameMs <= 0 || ts - this.lastFull >= fullFrameMs) return { kind: 'full' };
    const wanted: Box[] = motion.map((m) => pad(m, Math.max(MIN_PAD, MOTION_PAD * Math.max(m.w, m.h))));
    for (const b of tracked) wanted.push(scale(b, this.opts.trackScale));
    const regions = mergeOverlapping(wanted.map((b) => clamp(b, frame)).filter((b): b is Box => b !== null));
    if (!regions.length) return { kind: 'none' };
    const area = regions.reduce((s, r) => s + r.w * r.h, 0);
    if (area > this.opts.maxRegionFraction * frame.width * frame.height) return { kind: 'full' };
    return { kind: 'regions', regions };
  }

  /** Records that the pass ran at ts (a failed pass counts too: it is retried on the next schedule). */
  done(ts: number, pass: DetectPass): void {
    if (pass.kind === 'none') return;
    this.lastPass = ts;
    if (pass.kind === 'full') this.lastFull = ts;
  }
}

function pad(b: Box, p: number): Box {
  return { x: b.x - p, y: b.y - p, w: b.w + 2 * p, h: b.h + 2 * p };
}

function scale(b: Box, k: number): Box {
  const w = b.w * k;
  const h = b.h * k;
  return { x: b.x + b.w / 2 - w / 2, y: b.y + b.h / 2 - h / 2, w, h };
}

function clamp(b: Box, f: FrameSize): Box | null {
  const x0 = Math.max(0, b.x);
  const y0 = Math.max(0, b.y);
  const x1 = Math.min(f.width, b.x + b.w);
  const y1 = Math.min(f.height, b.y + b.h);
  return x1 - x0 >= 1 && y1 - y0 >= 1 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
}

const touches = (a: Box, b: Box) => a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h;

/** Boxes that overlap become their union, until none overlaps another (a face is never cut between two tiles). */
export function mergeOverlapping(boxes: Box[]): Box[] {
  const out = [...boxes];
  for (let merged = true; merged;) {
    merged = false;
    for (let i = 0; i < out.length && !merged; i++)
      for (let j = i + 1; j < out.length; j++) {
        const a = out[i]!;
        const b = out[j]!;
        if (!touches(a, b)) continue;
        const x = Math.min(a.x, b.x);
        const y = Math.min(a.y, b.y);
        out[i] = { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
        out.splice(j, 1);
        merged = true;
        break;
      }
  }
  return out;
}
