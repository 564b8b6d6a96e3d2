// Opening hours and the daily summary. Time zone from the config; node-cron fires the checks and the
// midnight rollover; the decisions themselves are pure functions of a Date, so they are tested with an
// injected clock.
import { parseDays } from '../config/checks.js';
import nodeCron, { type ScheduledTask } from 'node-cron';
import { CONTRACT_LABELS } from '../contract/labels.js';
import { ContentBook, type ContentTotals, type ImpressionTotals, type OtherContent } from './content-totals.js';

export interface OpeningRule {
  days: string;
  from: string;
  to: string;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

// Day lists are parsed by the same function that validates the config, so what loads also runs.
export { parseDays };

/** Weekday and minutes since midnight of `date` in `timeZone`. */
export function localTime(date: Date, timeZone: string): { day: number; minutes: number; ymd: string; hour: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const hour = Number(parts.hour);
  return {
    day: DAY_NAMES.indexOf(String(parts.weekday).toLowerCase().slice(0, 3)),
    minutes: hour * 60 + Number(parts.minute),
    ymd: `${parts.year}-${parts.month}-${parts.day}`,
    hour,
  };
}

const toMinutes = (hhmm: string) => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new Error(`schedule: "${hhmm}" is not a time (HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/** Open when any rule covers the local time; no rules means always open. A rule may run past midnight. */
export function isOpen(date: Date, rules: OpeningRule[], timeZone: string): boolean {
  if (!rules.length) return true;
  const { day, minutes } = localTime(date, timeZone);
  return rules.some((r) => {
    const days = parseDays(r.days);
    const from = toMinutes(r.from);
    const to = toMinutes(r.to);
    if (from <= to) return days.has(day) && minutes >= from && minutes < to;
    return (days.has(day) && minutes >= from) || (days.has((day + 6) % 7) && minutes < to);
  });
}

export type { ContentTotals };

/** The day as the book keeps and stores it; the published payload adds schema, device and ts. */
export interface DailySummary {
  date: string;
  /** The zone of date and of every hour (absent in files saved before it was recorded). */
  timeZone?: string;
  visits: number;
  /** emotion: absent with classifier.emotion false. */
  byHour: { hour: number; visits: number; age: Record<string, number>; gender: Record<string, number>; emotion?: Record<string, number> }[];
  /** Time the day's finished visits spent looking at the camera. */
  attentionMs?: number;
  /** Content plays that ended today, and their totals per content id (bounded: see content-totals.ts). */
  plays?: number;
  byContent?: Record<string, ContentTotals>;
  otherContent?: OtherContent;
  mergedPlays?: number;
}

/** Counts of finished visits per local hour, by label; never a person id. */
export class SummaryBook {
  /** The day without its content totals, which the ContentBook keeps (keyed by remote ids: a Map). */
  private summary: DailySummary;
  private contents: ContentBook;

  /** `saved` (the day so far, from disk) is taken when it is of today, so a restart keeps the whole day. */
  constructor(
    private readonly timeZone: string,
    now: Date,
    saved?: DailySummary,
    /** classifier.emotion: false keeps no emotion counts (and drops those saved earlier today). */
    private readonly emotion = true,
  ) {
    const date = localTime(now, timeZone).ymd;
    // A day saved in another zone is not continued: its hours would mix two clocks.
    const same = saved?.date === date && (saved.timeZone ?? timeZone) === timeZone;
    const start: DailySummary = same ? { ...structuredClone(saved), timeZone } : { date, timeZone, visits: 0, byHour: [] };
    if (!emotion) for (const h of start.byHour) delete h.emotion;
    const { byContent, otherContent, mergedPlays, ...day } = start;
    this.summary = day;
    this.contents = new ContentBook({ byContent, otherContent, mergedPlays });
  }

  get date(): string {
    return this.summary.date;
  }

  add(at: Date, labels: { age?: string; gender?: string; emotion?: string }): void {
    const { hour } = localTime(at, this.timeZone);
    let h = this.summary.byHour.find((x) => x.hour === hour);
    if (!h) {
      const zero = (labels2: readonly string[]) => Object.fromEntries(labels2.map((l) => [l, 0]));
      h = {
        hour,
        visits: 0,
        age: zero(CONTRACT_LABELS.age),
        gender: zero(CONTRACT_LABELS.gender),
        ...(this.emotion ? { emotion: zero(CONTRACT_LABELS.emotion) } : {}),
      };
      this.summary.byHour.push(h);
      this.summary.byHour.sort((a, b) => a.hour - b.hour);
    }
    h.visits++;
    this.summary.visits++;
    if (labels.age) h.age[labels.age]! += 1;
    if (labels.gender) h.gender[labels.gender]! += 1;
    if (labels.emotion && h.emotion) h.emotion[labels.emotion]! += 1;
  }

  /** A finished visit's attention (ms spent looking). */
  addAttention(ms: number): void {
    this.summary.attentionMs = (this.summary.attentionMs ?? 0) + Math.max(0, Math.round(ms));
  }

  /** A finished content play. */
  addImpression(r: ImpressionTotals): void {
    this.contents.add(r);
    this.summary.plays = (this.summary.plays ?? 0) + 1;
  }

  current(): DailySummary {
    return { ...structuredClone(this.summary), ...this.contents.toJSON() };
  }

  /** Returns the finished day and starts the next one. */
  rollover(now: Date): DailySummary {
    const done = this.current();
    this.summary = { date: localTime(now, this.timeZone).ymd, timeZone: this.timeZone, visits: 0, byHour: [] };
    this.contents = new ContentBook();
    return done;
  }
}

/** Cron tasks in the configured time zone (node-cron 4: createTask, then start). */
export function cronTask(expression: string, timeZone: string, fn: () => void): ScheduledTask {
  const task = nodeCron.createTask(expression, () => fn(), { timezone: timeZone });
  void task.start();
  return task;
}
