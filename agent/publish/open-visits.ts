// Visits that were open when the agent last stopped. A clean stop ends every visit with `left`; a crash
// (SIGKILL, power loss) cannot, and subscribers would keep phantom visitors. So the last event of every
// open visit is kept in the state directory (with when the person was last seen, refreshed every few
// seconds), and the next start ends each of them with a `left` marked `"recovered": true`.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventPayload } from '../contract/payloads.js';
import { writeDurable } from '../lib/durable.js';
import type { Logger } from '../lib/logging.js';

interface OpenVisit {
  last: EventPayload;
  /** Media-clock ms of the last sight known to the store. */
  lastSeen: number;
}

const FILE = 'open-visits.json';
/** How often the last sights are written while people stay (a crash loses at most this much dwell). */
const TOUCH_EVERY_MS = 5000;

export class OpenVisitsStore {
  private readonly path: string;
  private readonly open = new Map<string, OpenVisit>();
  private lastWrite = -Infinity;

  constructor(
    dir: string,
    private readonly log: Logger,
  ) {
    this.path = join(dir, FILE);
  }

  /** The visits an unclean stop left open, as `left` payloads to emit (seq to be assigned); the file is then cleared. */
  takeLeftovers(now: Date): Omit<EventPayload, 'seq'>[] {
    if (!existsSync(this.path)) return [];
    let saved: OpenVisit[] = [];
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      if (Array.isArray(raw)) saved = raw.filter((v): v is OpenVisit => !!v && typeof v === 'object' && typeof (v as OpenVisit).last?.person === 'string');
    } catch (err) {
      this.log.warn(`${this.path} is unreadable (${(err as Error).message}); the visits open at the last stop cannot be ended`);
    }
    rmSync(this.path, { force: true });
    return saved.map(({ last, lastSeen }) => {
      const { seq: _seq, ...rest } = last;
      const firstSeen = Date.parse(last.firstSeen);
      return { ...rest, type: 'left' as const, ts: now.toISOString(), dwellMs: Math.max(last.dwellMs, Math.round(lastSeen - firstSeen)), recovered: true };
    });
  }

  /** Follows the published events: entered/updated open or refresh a visit, left closes it. */
  onEvent(p: EventPayload): void {
    if (p.type === 'left') this.open.delete(p.person);
    else this.open.set(p.person, { last: p, lastSeen: Date.parse(p.firstSeen) + p.dwellMs });
    this.save();
  }

  /** The people present on a frame (media clock `ts`): their last sight (a lost person's is older), written every few seconds. */
  touch(people: readonly { person: string; lastSeen?: number }[], ts: number): void {
    for (const p of people) {
      const v = this.open.get(p.person);
      if (v) v.lastSeen = Math.min(ts, p.lastSeen ?? ts);
    }
    if (this.open.size && ts - this.lastWrite >= TOUCH_EVERY_MS) this.save(ts);
  }

  private save(ts = this.lastWrite): void {
    this.lastWrite = ts;
    try {
      if (this.open.size) writeDurable(this.path, JSON.stringify([...this.open.values()]));
      else rmSync(this.path, { force: true });
    } catch (err) {
      // The outbox reports a failing disk (degraded); this store only loses the crash case.
      this.log.warn(`could not record open visits in ${this.path}: ${(err as Error).message}`);
    }
  }
}
