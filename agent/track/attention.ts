// Attention of one visit: how long the person looked at the camera, in how many glances, and how soon
// after arriving. Pure: fed with (time, looking?) per detection pass; a pass without a usable pose
// (no landmarks, face hidden) says nothing and ends no spell by itself — the next observation decides.
import type { AttentionSummary } from '../contract/payloads.js';

export interface AttentionOptions {
  /** A looking spell shorter than this is not a glance (it still adds to attentionMs). */
  minGlanceMs: number;
  /** Gaps between observations longer than this are not counted as looking (the person was not seen). */
  maxGapMs: number;
}

export class AttentionMeter {
  private attention = 0;
  private glanceCount = 0;
  private spellStart: number | null = null;
  private spellCounted = false;
  private last: { ts: number; looking: boolean } | null = null;
  private firstLook: number | null = null;

  constructor(private readonly firstSeen: number, private readonly opts: AttentionOptions) {}

  observe(ts: number, looking: boolean): void {
    const prev = this.last;
    if (prev && ts > prev.ts) {
      const gap = ts - prev.ts;
      if (prev.looking && looking && gap <= this.opts.maxGapMs) this.attention += gap;
      if (prev.looking && (!looking || gap > this.opts.maxGapMs)) this.endSpell();
    }
    if (looking && this.spellStart === null) {
      this.spellStart = ts;
      this.spellCounted = false;
      if (this.firstLook === null) this.firstLook = ts;
    }
    if (looking && this.spellStart !== null && !this.spellCounted && ts - this.spellStart >= this.opts.minGlanceMs) {
      this.glanceCount++;
      this.spellCounted = true;
    }
    this.last = { ts, looking };
  }

  private endSpell(): void {
    this.spellStart = null;
    this.spellCounted = false;
  }

  get looking(): boolean { return this.last?.looking ?? false; }

  /** Looking time between two instants (for a content play inside the visit) is kept by the caller. */
  summary(): AttentionSummary {
    return {
      attentionMs: Math.round(this.attention),
      glances: this.glanceCount,
      firstLookAfterMs: this.firstLook === null ? null : Math.max(0, Math.round(this.firstLook - this.firstSeen)),
    };
  }

  /** Carries a resumed visit's attention on (re-identification joins two track segments). */
  get totalMs(): number { return this.attention; }
}

/** Looking at the camera: the head turned less than the limits (degrees). */
export function isLooking(pose: { yaw: number; pitch: number } | null | undefined, limits: { yawDeg: number; pitchDeg: number }): boolean | null {
  if (!pose || !Number.isFinite(pose.yaw) || !Number.isFinite(pose.pitch)) return null;
  return Math.abs(pose.yaw) <= limits.yawDeg && Math.abs(pose.pitch) <= limits.pitchDeg;
}
