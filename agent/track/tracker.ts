// Frame-to-frame association of face detections into tracks (one track = one visit), by greedy IoU.
// Pure: detections and timestamps in, tracks out; no clock of its own.
import type { Box, Detection } from '../detect/detector.js';

export interface TrackerOptions {
  iouThreshold: number;
  minHits: number;
  maxUnseenMs: number;
}

export interface Track {
  id: number;
  box: Box;
  score: number;
  firstSeen: number;
  lastSeen: number;
  hits: number;
  confirmed: boolean;
  /** Seen in the latest update. */
  visible: boolean;
}

export function boxIou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

export class IouTracker {
  private nextId = 1;
  readonly tracks = new Map<number, Track>();

  constructor(private readonly opts: TrackerOptions) {}

  /** Associates one frame's detections; returns the tracks that ended (unseen for maxUnseenMs). */
  update(detections: Detection[], ts: number): { ended: Track[]; started: Track[] } {
    const pairs: { iou: number; t: Track; d: number }[] = [];
    for (const t of this.tracks.values()) {
      detections.forEach((det, d) => {
        const iou = boxIou(t.box, det.box);
        if (iou >= this.opts.iouThreshold) pairs.push({ iou, t, d });
      });
    }
    pairs.sort((a, b) => b.iou - a.iou);
    const usedTracks = new Set<number>();
    const usedDets = new Set<number>();
    for (const t of this.tracks.values()) t.visible = false;
    for (const { t, d } of pairs) {
      if (usedTracks.has(t.id) || usedDets.has(d)) continue;
      usedTracks.add(t.id);
      usedDets.add(d);
      const det = detections[d]!;
      Object.assign(t, { box: det.box, score: det.score, lastSeen: ts, visible: true });
      t.hits++;
      if (t.hits >= this.opts.minHits) t.confirmed = true;
    }
    const started: Track[] = [];
    detections.forEach((det, d) => {
      if (usedDets.has(d)) return;
      const t: Track = { id: this.nextId++, box: det.box, score: det.score, firstSeen: ts, lastSeen: ts, hits: 1, confirmed: this.opts.minHits <= 1, visible: true };
      this.tracks.set(t.id, t);
      started.push(t);
    });
    const ended: Track[] = [];
    for (const t of this.tracks.values()) {
      if (ts - t.lastSeen > this.opts.maxUnseenMs) {
        this.tracks.delete(t.id);
        ended.push(t);
      }
    }
    return { ended, started };
  }

  /** Ends every track (source finished or agent stopping). */
  endAll(): Track[] {
    const all = [...this.tracks.values()];
    this.tracks.clear();
    return all;
  }
}
