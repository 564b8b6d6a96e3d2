// {root}/summary/daily: finished visits per local hour by label (never a person id), the day's attention
// and its content plays. The running day is republished (retained) at most once a minute when it changed
// and saved in the state directory, so a restart mid-day continues the day instead of starting a partial
// one. At local midnight — or at start, for a day that ended while the agent was down — the finished day
// goes out as final through the outbox, so a broker that is down at midnight loses nothing. Saving is
// coalesced (summary-store.ts: at most one write a second, off the main thread; what a crash can lose is
// said there).
import { SummaryStore } from '../publish/summary-store.js';
import { cronTask, SummaryBook, type DailySummary } from './schedule.js';
import { FeatureBase, type FeatureContext } from './feature.js';
import { within } from '../lib/within.js';
import { CONTRACT_SCHEMA } from '../contract/formats.js';
import type { DailySummaryPayload } from '../contract/payloads.js';

export class DailySummaryFeature extends FeatureBase {
  readonly name = 'daily-summary';
  private readonly store: SummaryStore;
  private book: SummaryBook | null = null;
  private dirty = false;

  constructor(
    ctx: FeatureContext,
    private readonly now: () => Date = () => new Date(),
  ) {
    super(ctx, 'summary');
    this.store = new SummaryStore(ctx.stateDir, ctx.log('summary'));
  }

  start(): void {
    const tz = this.ctx.config.schedule.timezone;
    const saved = this.store.load() as DailySummary | null;
    const book = new SummaryBook(tz, this.now(), saved ?? undefined, this.ctx.config.classifier.emotion);
    this.book = book;
    // A day saved before the time zone changed is finished in its own zone (files without one were in this zone).
    if (saved && (saved.date !== book.date || (saved.timeZone ?? tz) !== tz))
      this.ctx.records.publish('dailySummary', this.payload({ ...saved, timeZone: saved.timeZone ?? tz }, true));
    this.on('visit', ({ event, payload }) => {
      if (event.type !== 'left') return;
      const a = event.attributes;
      book.add(this.now(), { age: a.age?.label, gender: a.gender?.label, emotion: a.emotion?.label });
      if (payload.attention) book.addAttention(payload.attention.attentionMs);
      this.changed();
    });
    this.on('impression', (r) => {
      book.addImpression(r);
      this.changed();
    });
    for (const task of [cronTask('* * * * *', tz, () => this.flush()), cronTask('0 0 * * *', tz, () => this.rollover())]) this.hold(() => void task.stop());
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
    this.publish('dailySummary', this.payload(this.book.current(), false));
  }

  rollover(): void {
    if (!this.book) return;
    this.dirty = false;
    this.ctx.records.publish('dailySummary', this.payload(this.book.rollover(this.now()), true));
    const book = this.book;
    this.store.saveSoon(() => book.current());
  }

  /** The published form: the contract's envelope, the zone named (the day and its hours are in it). */
  private payload(day: DailySummary, final: boolean): DailySummaryPayload {
    const timeZone = day.timeZone ?? this.ctx.config.schedule.timezone;
    return { schema: CONTRACT_SCHEMA, device: this.ctx.device, ts: this.now().toISOString(), ...day, timeZone, final };
  }

  protected override async finish(): Promise<void> {
    this.flush();
    // A disk that hangs must not hold the stop past its grace (the publishes are waited for beside it).
    const saved = within(3000, this.store.flush(), 'timeout').then((r) => {
      if (r === 'timeout') this.ctx.log('summary').warn(`the daily summary was not saved within 3 s at stop (${this.store.path})`);
    });
    await Promise.all([this.sends.settle(), saved]);
  }
}
