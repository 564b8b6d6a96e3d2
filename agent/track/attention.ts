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

  constructor(
    private readonly firstSeen: number,
    private readonly opts: AttentionOptions,
  ) {}

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

  get looking(): boolean {
    return this.last?.looking ?? false;
  }

  /** Looking time between two instants (for a content play inside the visit) is kept by the caller. */
  summary(): AttentionSummary {
    return {
      attentionMs: Math.round(this.attention),
      glances: this.glanceCount,
      firstLookAfterMs: this.firstLook === null ? null : Math.max(0, Math.round(this.firstLook - this.firstSeen)),
    };
  }

  /** Carries a resumed visit's attention on (re-identification joins two track segments). */
  get totalMs(): number {
    return this.attention;
  }
}

/**
 * YuNet's landmarks jitter by several pixels, which reads as 5–15° of head pose from frame to frame: the
 * median over the last half second decides "looking", not one frame.
 */
export class PoseSmoother {
  private readonly samples: { ts: number; yaw: number; pitch: number }[] = [];

  constructor(private readonly windowMs = 500) {}

  push(ts: number, pose: { yaw: number; pitch: number }): { yaw: number; pitch: number } {
    this.samples.push({ ts, yaw: pose.yaw, pitch: pose.pitch });
    while (this.samples.length > 1 && ts - this.samples[0]!.ts > this.windowMs) this.samples.shift();
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    };
    return { yaw: median(this.samples.map((x) => x.yaw)), pitch: median(this.samples.map((x) => x.pitch)) };
  }
}
