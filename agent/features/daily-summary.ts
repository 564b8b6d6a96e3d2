// {root}/summary/daily: finished visits per local hour by label (never a person id), the day's attention
// and its content plays. The running day is republished (retained) at most once a minute when it changed
// and saved in the state directory, so a restart mid-day continues the day instead of starting a partial
// one. At local midnight — or at start, for a day that ended while the agent was down — the finished day
// goes out as final through the outbox, so a broker that is down at midnight loses nothing. Saving is
// coalesced (summary-store.ts: at most one write a second, off the main thread; what a crash can lose is
// said there).
import type { ScheduledTask } from 'node-cron';
import { SummaryStore } from '../publish/summary-store.js';
import { cronTask, SummaryBook, type DailySummary } from './schedule.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';
import { within } from '../lib/within.js';

export class DailySummaryFeature implements Feature {
  readonly name = 'daily-summary';
  private readonly sends: Sends;
  private readonly store: SummaryStore;
  private book: SummaryBook | null = null;
  private dirty = false;
  private readonly tasks: ScheduledTask[] = [];
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly ctx: FeatureContext,
    private readonly now: () => Date = () => new Date(),
  ) {
    const log = ctx.log('summary');
    this.sends = new Sends(log);
    this.store = new SummaryStore(ctx.stateDir, (m) => log.warn(m));
  }

  start(): void {
    const tz = this.ctx.config.schedule.timezone;
    const saved = this.store.load() as DailySummary | null;
    const book = new SummaryBook(tz, this.now(), saved ?? undefined);
    this.book = book;
    if (saved && saved.date !== book.date) this.ctx.records.publish(this.ctx.topics.dailySummary, { ...saved, final: true }, true);
    this.offs.push(
      this.ctx.bus.on('visit', ({ event, payload }) => {
        if (event.type !== 'left') return;
        const a = event.attributes;
        book.add(this.now(), { age: a.age?.label, gender: a.gender?.label, emotion: a.emotion?.label });
        if (payload.attention) book.addAttention(payload.attention.attentionMs);
        this.changed();
      }),
    );
    this.offs.push(
      this.ctx.bus.on('impression', (r) => {
        book.addImpression(r);
        this.changed();
      }),
    );
    this.tasks.push(cronTask('* * * * *', tz, () => this.flush()));
    this.tasks.push(cronTask('0 0 * * *', tz, () => this.rollover()));
  }

  private changed(): void {
    this.dirty = true;
    const book = this.book!;
    this.store.saveSoon(() => book.current());
  }

  /** Publishes the running day if it changed since the last time. */
  flush(): void {
    if (!this.dirty || !this.book) return;
    this.dirty = false;
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.dailySummary, JSON.stringify({ ...this.book.current(), final: false }), true));
  }

  rollover(): void {
    if (!this.book) return;
    this.dirty = false;
    this.ctx.records.publish(this.ctx.topics.dailySummary, { ...this.book.rollover(this.now()), final: true }, true);
    const book = this.book;
    this.store.saveSoon(() => book.current());
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    for (const t of this.tasks) void t.stop();
    this.flush();
    // A disk that hangs must not hold the stop past its grace.
    const saved = within(3000, this.store.flush(), 'timeout').then((r) => {
      if (r === 'timeout') this.ctx.log('summary').warn(`the daily summary was not saved within 3 s at stop (${this.store.path})`);
    });
    await Promise.all([this.sends.settle(), saved]);
  }
}
