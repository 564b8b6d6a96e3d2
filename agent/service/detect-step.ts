// A frame's detection step: motion on a small grey copy, the pass (full frame, regions, or nothing:
// track/detect-plan.ts) from that motion and where the tracking side's last plan expects its faces, then
// the detector on what the pass says. A failed pass (a model error, a timed-out call whose worker is
// being replaced) is a frame without detections: tracks coast.
import type { CV } from '../capture/opencv.js';
import type { Frame } from '../capture/frame.js';
import type { Box, Detection, FaceDetector } from '../detect/detector.js';
import { MotionDetector, type MotionOptions } from '../detect/motion.js';
import { DetectPlanner, type DetectPass, type DetectPlanOptions } from '../track/detect-plan.js';
import type { Logger } from '../lib/logging.js';
import type { PipelineStats } from './stats.js';
import type { Config } from '../config/schema.js';

/** Read on every frame (hot-reloadable). */
export interface DetectSettings {
  readonly motion: MotionOptions & { readonly enabled: boolean };
  readonly plan: DetectPlanOptions;
}

export class DetectStep {
  private readonly planner: DetectPlanner;
  private readonly motion: MotionDetector;
  /** performance.now() when the pass in flight started (null: none): the watchdog's measure of a stall. */
  since: number | null = null;

  constructor(
    cv: CV,
    private readonly detector: FaceDetector,
    private readonly settings: DetectSettings,
    private readonly stats: PipelineStats,
    private readonly log: Logger,
  ) {
    // The options objects are live views of the config: the planner and motion read them on every frame.
    this.planner = new DetectPlanner(settings.plan);
    this.motion = new MotionDetector(cv, settings.motion);
  }

  /**
   * Detections of this frame's pass, or null when it had none (planned so, or failed). `expected`: where
   * the tracking side's last plan expects the faces it follows (TrackPlan.expected).
   */
  async run(frame: Frame, expected: Iterable<Box>): Promise<Detection[] | null> {
    const gated = this.settings.motion.enabled && this.detector.detectRegions !== undefined;
    let motion = null;
    if (gated) {
      const t = performance.now();
      motion = this.motion.detect(frame).regions;
      this.stats.stages.motion.add(performance.now() - t);
    }
    const pass = this.planner.next(frame.ts, frame, motion, expected);
    if (pass.kind === 'none') return null;
    this.planner.done(frame.ts, pass);
    const t = performance.now();
    const found = await this.detect(frame, pass);
    if (found) {
      this.stats.stages.detect.add(performance.now() - t);
      this.stats.faces += found.length;
      if (pass.kind === 'full') this.stats.fullPasses++;
      else this.stats.regionPasses++;
    }
    return found;
  }

  private async detect(frame: Frame, pass: DetectPass): Promise<Detection[] | null> {
    this.since = performance.now();
    try {
      return pass.kind === 'regions' ? await this.detector.detectRegions!(frame, pass.regions) : await this.detector.detect(frame);
    } catch (err) {
      const s = this.stats;
      s.detectFailures++;
      if (s.detectFailures % 100 === 1) this.log.error(`detection failed (${s.detectFailures} so far): ${(err as Error).message}`);
      return null;
    } finally {
      this.since = null;
    }
  }
}

/** Motion gating and the detection plan, live views of the motion, detector and audience sections. */
export function detectSettings(c: Config): DetectSettings {
  return {
    motion: {
      get enabled() {
        return c.motion.enabled;
      },
      get width() {
        return c.motion.width;
      },
      get threshold() {
        return c.motion.threshold;
      },
      get cellFraction() {
        return c.motion.cellFraction;
      },
      get minArea() {
        return c.motion.minArea;
      },
      get backgroundMs() {
        return c.motion.backgroundMs;
      },
      get lightingFraction() {
        return c.motion.lightingFraction;
      },
      // Motion in an ignore zone (a TV, a window) wakes no detection.
      get ignoreZones() {
        return c.audience.ignoreZones;
      },
    },
    plan: {
      get intervalMs() {
        return c.detector.intervalMs;
      },
      get fullFrameMs() {
        return c.detector.fullFrameMs;
      },
      get trackScale() {
        return c.motion.trackScale;
      },
      get maxRegionFraction() {
        return c.motion.maxRegionFraction;
      },
    },
  };
}
