// {root}/summary/daily: finished visits per local hour by label (never a person id). The running day is
// republished (retained) at most once a minute when it changed; at local midnight the day is final.
import type { ScheduledTask } from 'node-cron';
import { cronTask, SummaryBook } from './schedule.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class DailySummaryFeature implements Feature {
  readonly name = 'daily-summary';
  private readonly sends: Sends;
  private readonly book: SummaryBook;
  private dirty = false;
  private readonly tasks: ScheduledTask[] = [];
  private off: (() => void) | null = null;

  constructor(private readonly ctx: FeatureContext, private readonly now: () => Date = () => new Date()) {
    this.sends = new Sends(ctx.log('summary'));
    this.book = new SummaryBook(ctx.config.schedule.timezone, now());
  }

  start(): void {
    const tz = this.ctx.config.schedule.timezone;
    this.off = this.ctx.bus.on('visit', ({ event }) => {
      if (event.type !== 'left') return;
      const a = event.attributes;
      this.book.add(this.now(), { age: a.age?.label, gender: a.gender?.label, emotion: a.emotion?.label });
      this.dirty = true;
    });
    this.tasks.push(cronTask('* * * * *', tz, () => this.flush()));
    this.tasks.push(cronTask('0 0 * * *', tz, () => this.rollover()));
  }

  /** Publishes the running day if it changed since the last time. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.publish({ ...this.book.current(), final: false });
  }

  rollover(): void {
    this.dirty = false;
    this.publish({ ...this.book.rollover(this.now()), final: true });
  }

  private publish(body: object): void {
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.dailySummary, JSON.stringify(body), true));
  }

  async stop(): Promise<void> {
    this.off?.();
    for (const t of this.tasks) void t.stop();
    await this.sends.settle();
  }
}
