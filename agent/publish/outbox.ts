// The durable outbox: every event is on disk before it is published and leaves only when the broker has
// acknowledged it, so neither a broker outage nor a killed agent loses one. One file per event, named by
// its zero-padded seq, so the directory listing is the delivery order. Bounded by count and age: the
// oldest go first, counted and logged, so a long outage never fills the disk or the memory.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OutboxOptions {
  maxEvents: number;
  maxAgeMs: number;
}

export interface OutboxEntry {
  seq: number;
  topic: string;
  payload: string;
}

const NAME = /^(\d{12})\.json$/;
const fileName = (seq: number) => `${String(seq).padStart(12, '0')}.json`;

export class Outbox {
  readonly dir: string;
  dropped = 0;

  constructor(stateDir: string, private readonly opts: OutboxOptions, private readonly warn: (msg: string) => void = () => undefined) {
    this.dir = join(stateDir, 'outbox');
  }

  /** Pending seqs in delivery order. */
  pending(): number[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).map((f) => NAME.exec(f)?.[1]).filter((s): s is string => !!s).map(Number).sort((a, b) => a - b);
  }

  get depth(): number { return this.pending().length; }

  /** Durably stores an event (write, fsync, rename), then enforces the bounds. */
  put(entry: OutboxEntry): void {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, fileName(entry.seq));
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ topic: entry.topic, payload: entry.payload, storedAt: Date.now() }));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    this.enforceBounds();
  }

  read(seq: number): OutboxEntry | null {
    try {
      const raw = JSON.parse(readFileSync(join(this.dir, fileName(seq)), 'utf8')) as { topic: string; payload: string };
      return { seq, topic: raw.topic, payload: raw.payload };
    } catch {
      return null;
    }
  }

  /** The broker acknowledged it. */
  remove(seq: number): void {
    try { unlinkSync(join(this.dir, fileName(seq))); } catch { /* already gone (dropped by the bounds) */ }
  }

  private enforceBounds(): void {
    const seqs = this.pending();
    const over = seqs.length - this.opts.maxEvents;
    const now = Date.now();
    let dropped = 0;
    for (const [i, seq] of seqs.entries()) {
      const path = join(this.dir, fileName(seq));
      const tooMany = i < over;
      const tooOld = !tooMany && now - statSync(path).mtimeMs > this.opts.maxAgeMs;
      if (!tooMany && !tooOld) break;
      this.remove(seq);
      dropped++;
    }
    if (dropped) {
      this.dropped += dropped;
      this.warn(`outbox full or stale: dropped the ${dropped} oldest undelivered event(s) (${this.dropped} in all); raise mqtt.outbox limits or fix the broker connection`);
    }
  }
}
