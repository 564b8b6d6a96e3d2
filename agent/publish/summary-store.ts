// The daily summary's day so far, kept in the state directory so a restart mid-day continues the day
// instead of replacing it with a partial one, and a day that ended while the agent was down is still
// published (as final, through the outbox). A disk that refuses the write leaves the summary in memory
// (degraded) and the next save tries again.
//
// Writes are coalesced: at most one durable write a second (saveSoon), done off the main thread, of the
// latest state; a stop writes what is pending. What a crash (power cut, SIGKILL) can lose is therefore the
// summary's changes of at most the last second (plus the write in flight): the visits that left and the
// plays that ended in that second are missing from the day's counts after the restart. The events and
// impression records themselves are not: each is in the outbox, durably, before it is published. A crash
// right after midnight can also publish the finished day a second time (final, identical content).
// Before, every change rewrote the whole file with two fsyncs on the main thread: a content/set flood
// starved the frame loop.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DailySummarySchema } from '../contract/payloads.js';
import { realFs, writeDurable, writeDurableAsync, type DurableFs } from '../lib/durable.js';
import { silentLogger, type Logger } from '../lib/logging.js';

/** At most one durable write of the summary per this many ms. */
export const SAVE_EVERY_MS = 1000;

/** The shape of schedule.ts's DailySummary (publish sits below service, so it is restated here). */
export interface StoredSummary {
  date: string;
  timeZone?: string;
  visits: number;
  byHour: { hour: number; visits: number; age: Record<string, number>; gender: Record<string, number>; emotion?: Record<string, number> }[];
}

const counts = (v: unknown) => !!v && typeof v === 'object' && Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);

/** What is stored: the published day without its envelope (schema, device, ts), the zone optional (older files). */
const StoredSummarySchema = Type.Composite(
  [Type.Omit(DailySummarySchema, ['schema', 'device', 'ts', 'timeZone']), Type.Object({ timeZone: Type.Optional(Type.String()) })],
  { additionalProperties: false },
);

/** Files of the previous contract counted plays as `impressions`. */
function migrate(v: unknown): unknown {
  if (!v || typeof v !== 'object' || !('impressions' in v)) return v;
  const { impressions, ...rest } = v as Record<string, unknown>;
  return { ...rest, plays: impressions };
}

/** Valid as published (so a file written by a polluted or older process cannot republish nulls) and counts non-negative. */
function isSummary(v: unknown): v is StoredSummary {
  const s = v as StoredSummary;
  return Value.Check(StoredSummarySchema, v) && s.byHour.every((h) => counts(h.age) && counts(h.gender) && (h.emotion === undefined || counts(h.emotion)));
}

export class SummaryStore {
  readonly path: string;
  degraded: string | null = null;
  /** The latest state not yet written (saveSoon), as a thunk: serialised once per write, not per change. */
  private latest: (() => StoredSummary) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private lastWrite = -Infinity;

  constructor(
    stateDir: string,
    private readonly log: Logger = silentLogger,
    private readonly fs: DurableFs = realFs,
  ) {
    this.path = join(stateDir, 'summary.json');
  }

  /** The saved day, or null (none yet, or a bad file: moved aside and logged). */
  load(): StoredSummary | null {
    if (!existsSync(this.path)) return null;
    try {
      const v = migrate(JSON.parse(readFileSync(this.path, 'utf8')));
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
    this.log.warn(`daily summary file ${this.path} was unreadable; moved to ${aside}; the day starts from zero`);
    return null;
  }

  /** Durably saves the day so far, now, on the main thread; false (and degraded) when the disk refuses. */
  save(summary: StoredSummary): boolean {
    try {
      writeDurable(this.path, `${JSON.stringify(summary)}\n`, this.fs);
    } catch (err) {
      return this.failed(err);
    }
    return this.succeeded();
  }

  /** Saves `current()` within SAVE_EVERY_MS, off the main thread; changes until then share one write. */
  saveSoon(current: () => StoredSummary): void {
    this.latest = current;
    if (this.timer || this.writing) return; // the write in progress (or due) picks up the latest state
    const wait = Math.max(0, this.lastWrite + SAVE_EVERY_MS - performance.now());
    this.timer = setTimeout(() => this.writeLatest(), wait);
    this.timer.unref();
  }

  /** Writes what saveSoon holds now and waits for it (a stop). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.writing;
    if (this.latest) this.writeLatest();
    await this.writing;
  }

  private writeLatest(): void {
    this.timer = null;
    const current = this.latest;
    if (!current) return;
    this.latest = null;
    this.lastWrite = performance.now();
    this.writing = writeDurableAsync(this.path, `${JSON.stringify(current())}\n`)
      .then(
        () => void this.succeeded(),
        (err: unknown) => void this.failed(err),
      )
      .finally(() => {
        this.writing = null;
        if (this.latest) this.saveSoon(this.latest);
      });
  }

  private failed(err: unknown): false {
    const e = err as NodeJS.ErrnoException;
    if (!this.degraded) this.log.warn(`cannot save the daily summary to ${this.path} (${e.code ?? e.message}); kept in memory, saved again at the next change`);
    this.degraded = `cannot write ${this.path} (${e.code ?? e.message})`;
    return false;
  }

  private succeeded(): true {
    if (this.degraded) this.log.warn(`daily summary saved again to ${this.path}`);
    this.degraded = null;
    return true;
  }
}
