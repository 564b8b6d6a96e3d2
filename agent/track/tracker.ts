// Multi-face tracking: a constant-velocity Kalman filter per track predicts where each face is now;
// detections are associated by overlap with that prediction, or by centre distance when a face moved
// too fast to overlap. Tracks coast on prediction through missed detections and frames without
// detection. Where motion cannot tell two faces apart (a detection close to two tracks: a crossing), the
// caller may pass an appearance veto (from face embeddings) that forbids a pairing. Pure: detections and
// timestamps in, tracks out.
import { boxIou } from '../lib/geometry.js';
import type { Box, Detection } from '../detect/detector.js';
import { BoxKalman } from './kalman.js';

export interface TrackerOptions {
  iouThreshold: number;
  minHits: number;
  maxUnseenMs: number;
  /** A track not yet confirmed ends after this long unseen (a flicker is not a person). */
  tentativeUnseenMs: number;
}

export interface Track {
  id: number;
  /** Best estimate now: the detection when seen, the prediction while coasting. */
  box: Box;
  /** The last detected box. */
  seenBox: Box;
  /** The last detection (with its landmarks when the detector gives them): what an embedder is fed. */
  detection: Detection;
  score: number;
  firstSeen: number;
  lastSeen: number;
  hits: number;
  confirmed: boolean;
  confirmedAt: number | null;
  /** Detected in the latest detection pass. */
  visible: boolean;
  kalman: BoxKalman;
}

export { boxIou };

/** Centre distance in units of the larger face side, or Infinity when the sizes are too different. */
function centreDistance(a: Box, b: Box): number {
  const sa = Math.max(a.w, a.h);
  const sb = Math.max(b.w, b.h);
  if (sa / sb > 2 || sb / sa > 2) return Infinity;
  const dx = a.x + a.w / 2 - (b.x + b.w / 2);
  const dy = a.y + a.h / 2 - (b.y + b.h / 2);
  return Math.hypot(dx, dy) / Math.max(sa, sb);
}

const MAX_CENTRE_DISTANCE = 0.75;

/** How well a detection continues a box: 1 + IoU when they overlap enough, else by centre distance; < 0: not at all. */
function motionScore(p: Box, det: Box, iouThreshold: number): number {
  const iou = boxIou(p, det);
  if (iou >= iouThreshold) return 1 + iou;
  const dist = centreDistance(p, det);
  return dist < MAX_CENTRE_DISTANCE ? 1 - dist / MAX_CENTRE_DISTANCE : -1;
}

export interface TrackUpdate {
  started: Track[];
  ended: Track[];
  /** Tracks confirmed by this update. */
  confirmed: Track[];
}

/** True forbids continuing `track` with detection number `detection` (appearance says: someone else). */
export type AppearanceVeto = (track: Track, detection: number) => boolean;

interface Pair {
  score: number;
  t: Track;
  d: number;
}

export class Tracker {
  private nextId = 1;
  readonly tracks = new Map<number, Track>();
  confirmedTotal = 0;
  endedTotal = 0;

  constructor(private readonly opts: TrackerOptions) {}

  /** Candidate (track, detection) pairs at time ts with their motion scores, higher is better. */
  private candidates(detections: Detection[], ts: number): Pair[] {
    const pairs: Pair[] = [];
    for (const t of this.tracks.values()) {
      const p = t.kalman.predict(ts);
      detections.forEach((det, d) => {
        // A coasting track is also looked for where it was last seen: while a face is being covered, its
        // shrinking detections can give the filter a velocity the person never had.
        const score = Math.max(motionScore(p, det.box, this.opts.iouThreshold), t.visible ? -1 : motionScore(t.seenBox, det.box, this.opts.iouThreshold));
        if (score >= 0) pairs.push({ score, t, d });
      });
    }
    return pairs;
  }

  /**
   * Detections that motion alone cannot assign with certainty: a candidate for two tracks, or for a track
   * that has another candidate detection. Embed these before update() to pass an appearance veto.
   */
  contested(detections: Detection[], ts: number): number[] {
    const pairs = this.candidates(detections, ts);
    const perTrack = new Map<number, number>();
    const perDet = new Map<number, number>();
    for (const { t, d } of pairs) {
      perTrack.set(t.id, (perTrack.get(t.id) ?? 0) + 1);
      perDet.set(d, (perDet.get(d) ?? 0) + 1);
    }
    const out = new Set<number>();
    for (const { t, d } of pairs) if (perDet.get(d)! > 1 || perTrack.get(t.id)! > 1) out.add(d);
    return [...out].sort((a, b) => a - b);
  }

  /** One detection pass at time ts; `veto` (optional) forbids pairings appearance rules out. */
  update(detections: Detection[], ts: number, veto?: AppearanceVeto): TrackUpdate {
    const predicted = new Map<number, Box>();
    for (const t of this.tracks.values()) predicted.set(t.id, t.kalman.predict(ts));
    // Greedy association, best pair first: with the few faces of a kiosk scene it picks what an optimal
    // (Hungarian) assignment would, and needs no solver.
    const pairs = this.candidates(detections, ts).filter(({ t, d }) => !veto?.(t, d));
    pairs.sort((a, b) => b.score - a.score);
    const usedTracks = new Set<number>();
    const usedDets = new Set<number>();
    for (const t of this.tracks.values()) t.visible = false;
    const confirmed: Track[] = [];
    for (const { t, d } of pairs) {
      if (usedTracks.has(t.id) || usedDets.has(d)) continue;
      usedTracks.add(t.id);
      usedDets.add(d);
      const det = detections[d]!;
      t.kalman.update(det.box, ts);
      Object.assign(t, { box: det.box, seenBox: det.box, detection: det, score: det.score, lastSeen: ts, visible: true });
      t.hits++;
      if (!t.confirmed && t.hits >= this.opts.minHits) {
        t.confirmed = true;
        t.confirmedAt = ts;
        this.confirmedTotal++;
        confirmed.push(t);
      }
    }
    for (const t of this.tracks.values()) if (!t.visible) t.box = predicted.get(t.id)!;
    const started: Track[] = [];
    detections.forEach((det, d) => {
      if (usedDets.has(d)) return;
      const now = this.opts.minHits <= 1;
      const t: Track = {
        id: this.nextId++,
        box: det.box,
        seenBox: det.box,
        detection: det,
        score: det.score,
        firstSeen: ts,
        lastSeen: ts,
        hits: 1,
        confirmed: now,
        confirmedAt: now ? ts : null,
        visible: true,
        kalman: new BoxKalman(det.box, ts),
      };
      if (now) {
        this.confirmedTotal++;
        confirmed.push(t);
      }
      this.tracks.set(t.id, t);
      started.push(t);
    });
    return { started, ended: this.expire(ts), confirmed };
  }

  /** A frame without a detection pass: tracks coast on their prediction. */
  coast(ts: number): TrackUpdate {
    for (const t of this.tracks.values()) t.box = t.kalman.predict(ts);
    return { started: [], ended: this.expire(ts), confirmed: [] };
  }

  private expire(ts: number): Track[] {
    const ended: Track[] = [];
    for (const t of this.tracks.values()) {
      const limit = t.confirmed ? this.opts.maxUnseenMs : Math.min(this.opts.maxUnseenMs, this.opts.tentativeUnseenMs);
      if (ts - t.lastSeen > limit) {
        this.tracks.delete(t.id);
        if (t.confirmed) this.endedTotal++;
        ended.push(t);
      }
    }
    return ended;
  }

  /** Ends every track (source finished or agent stopping). */
  endAll(): Track[] {
    const all = [...this.tracks.values()];
    this.tracks.clear();
    this.endedTotal += all.filter((t) => t.confirmed).length;
    return all;
  }
}
