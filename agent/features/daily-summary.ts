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
  private readonly offs: (() => void)[] = [];
  /** Per content id: the day's impression totals. */
  private byContent: Record<string, { plays: number; ots: number; viewers: number; watchers: number; attentionMs: number }> = {};

  constructor(private readonly ctx: FeatureContext, private readonly now: () => Date = () => new Date()) {
    this.sends = new Sends(ctx.log('summary'));
    this.book = new SummaryBook(ctx.config.schedule.timezone, now());
  }

  start(): void {
    const tz = this.ctx.config.schedule.timezone;
    this.offs.push(this.ctx.bus.on('visit', ({ event }) => {
      if (event.type !== 'left') return;
      const a = event.attributes;
      this.book.add(this.now(), { age: a.age?.label, gender: a.gender?.label, emotion: a.emotion?.label });
      this.dirty = true;
    }));
    this.offs.push(this.ctx.bus.on('impression', (r) => {
      const t = (this.byContent[r.contentId] ??= { plays: 0, ots: 0, viewers: 0, watchers: 0, attentionMs: 0 });
      t.plays++;
      t.ots += r.ots;
      t.viewers += r.viewers;
      t.watchers += r.watchers;
      t.attentionMs += r.attentionMs;
      this.dirty = true;
    }));
    this.tasks.push(cronTask('* * * * *', tz, () => this.flush()));
    this.tasks.push(cronTask('0 0 * * *', tz, () => this.rollover()));
  }

  /** Publishes the running day if it changed since the last time. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.publish({ ...this.book.current(), byContent: this.byContent, final: false });
  }

  rollover(): void {
    this.dirty = false;
    this.publish({ ...this.book.rollover(this.now()), byContent: this.byContent, final: true });
    this.byContent = {};
  }

  private publish(body: object): void {
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.dailySummary, JSON.stringify(body), true));
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    for (const t of this.tasks) void t.stop();
    await this.sends.settle();
  }
}
