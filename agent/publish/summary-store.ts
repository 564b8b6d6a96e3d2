// The daily summary's day so far, kept in the state directory so a restart mid-day continues the day
// instead of replacing it with a partial one, and a day that ended while the agent was down is still
// published (as final, through the outbox). Written durably after every change; a disk that refuses the
// write leaves the summary in memory (degraded) and the next save tries again.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { realFs, writeDurable, type DurableFs } from '../lib/durable.js';

/** The shape of schedule.ts's DailySummary (publish sits below service, so it is restated here). */
export interface StoredSummary {
  date: string;
  visits: number;
  byHour: { hour: number; visits: number; age: Record<string, number>; gender: Record<string, number>; emotion: Record<string, number> }[];
}

const counts = (v: unknown) => !!v && typeof v === 'object' && Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);

function isSummary(v: unknown): v is StoredSummary {
  const s = v as StoredSummary;
  return (
    !!s &&
    typeof s.date === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(s.date) &&
    Number.isSafeInteger(s.visits) &&
    Array.isArray(s.byHour) &&
    s.byHour.every(
      (h) =>
        Number.isInteger(h?.hour) && h.hour >= 0 && h.hour < 24 && Number.isSafeInteger(h.visits) && counts(h.age) && counts(h.gender) && counts(h.emotion),
    )
  );
}

export class SummaryStore {
  readonly path: string;
  degraded: string | null = null;

  constructor(
    stateDir: string,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly fs: DurableFs = realFs,
  ) {
    this.path = join(stateDir, 'summary.json');
  }

  /** The saved day, or null (none yet, or a bad file: moved aside and logged). */
  load(): StoredSummary | null {
    if (!existsSync(this.path)) return null;
    try {
      const v: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      if (isSummary(v)) return v;
    } catch {
      /* reported below */
    }
    const aside = `${this.path}.bad-${Date.now()}`;
    try {
      renameSync(this.path, aside);
    } catch {
      /* overwritten at the next save */
    }
    this.log(`daily summary file ${this.path} was unreadable; moved to ${aside}; the day starts from zero`);
    return null;
  }

  /** Durably saves the day so far; false (and degraded) when the disk refuses. */
  save(summary: StoredSummary): boolean {
    try {
      writeDurable(this.path, `${JSON.stringify(summary)}\n`, this.fs);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (!this.degraded) this.log(`cannot save the daily summary to ${this.path} (${e.code ?? e.message}); kept in memory, saved again at the next change`);
      this.degraded = `cannot write ${this.path} (${e.code ?? e.message})`;
      return false;
    }
    if (this.degraded) this.log(`daily summary saved again to ${this.path}`);
    this.degraded = null;
    return true;
  }
}
