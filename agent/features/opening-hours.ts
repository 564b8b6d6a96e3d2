// Opening hours: outside them a live camera is released (status says "paused") and taken up again when
// they begin; checked at start and every minute in the configured time zone.
import { cronTask, isOpen } from './schedule.js';
import { FeatureBase, type FeatureContext } from './feature.js';

/** The part of a live camera the schedule needs. */
export interface PausableCamera {
  readonly state: string;
  pause(): void;
  resume(): void;
}

export class OpeningHoursFeature extends FeatureBase {
  readonly name = 'opening-hours';

  constructor(
    ctx: FeatureContext,
    private readonly camera: PausableCamera,
    private readonly now: () => Date = () => new Date(),
  ) {
    super(ctx, 'schedule');
  }

  start(): void {
    this.check();
    const task = cronTask('* * * * *', this.ctx.config.schedule.timezone, () => this.check());
    this.hold(() => void task.stop());
  }

  check(): void {
    const { schedule } = this.ctx.config;
    const open = isOpen(this.now(), schedule.openingHours, schedule.timezone);
    const log = this.ctx.log('schedule');
    if (!open && this.camera.state !== 'paused') {
      log.info('outside opening hours: camera released');
      this.camera.pause();
    }
    if (open && this.camera.state === 'paused') {
      log.info('opening hours: camera resumed');
      this.camera.resume();
    }
  }
}
