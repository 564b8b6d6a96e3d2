// The durable outbox: every entry is on disk before it is published and leaves only when the broker has
// acknowledged it, so neither a broker outage nor a killed agent loses one. One file per entry, named by
// its zero-padded key (the event seq, or an ordinal for seq-less records); any run of digits is accepted
// and sorted numerically, so names from older versions (12 digits) and seqs beyond 10^12 both deliver.
//
// What the disk holds is not trusted: an entry that cannot be read back (garbage, a directory with an
// entry's name, JSON without topic or payload, an unparseable name) is moved to `quarantine/`, logged and
// counted, and the rest is delivered. When the disk refuses a write (full, I/O error), entries are held in a
// bounded memory queue, `degraded` says why, and every later put (and retry()) writes them out again.
//
// Bounds: by count (the oldest go, in put) and by age (only in sweep(), never in put). The age rule, so that
// a clock step never drops a fresh event: an entry's age is measured on the monotonic clock from when this
// process stored or loaded it, plus — for an entry left by an earlier run — its wall-clock age at load,
// taken as 0 when the wall clock is behind the entry's time or the entry's time predates 2024 (written
// before the device's clock was set). A clock step during a run changes no age; a step between runs can
// only move when entries of the earlier run expire.
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { realFs, renameDurable, writeDurable, type DurableFs } from '../lib/durable.js';
import { silentLogger, type Logger } from '../lib/logging.js';
import { ageAtLoad, fileName, highestQuarantinedKey, NAME, parseEntry, readEntryFile, systemClock } from './outbox-entry.js';
import type { Clock, Deliverable, DeliveryQueue, OutboxEntry, OutboxOptions } from './outbox-entry.js';

export { systemClock, type Clock, type Deliverable, type DeliveryQueue, type OutboxEntry, type OutboxOptions };

interface Slot {
  /** File name on disk, or null while held in memory. */
  file: string | null;
  memory: OutboxEntry | null;
  ageAtLoad: number;
  since: number;
}

export class Outbox implements DeliveryQueue {
  readonly dir: string;
  readonly quarantineDir: string;
  dropped = 0;
  quarantined = 0;
  /** Why entries are held in memory (the disk refused a write), or null. */
  degraded: string | null = null;
  private readonly slots = new Map<number, Slot>();
  private order: number[] = [];
  private highestQuarantined = 0;
  private readonly clock: Clock;
  private readonly fs: DurableFs;
  private readonly memoryMax: number;
  private readonly listeners: (() => void)[] = [];

  constructor(
    stateDir: string,
    private readonly opts: OutboxOptions,
    private readonly log: Logger = silentLogger,
  ) {
    this.dir = join(stateDir, opts.name ?? 'outbox');
    this.quarantineDir = join(this.dir, 'quarantine');
    this.clock = opts.clock ?? systemClock;
    this.fs = opts.fs ?? realFs;
    this.memoryMax = opts.memoryMax ?? 1000;
    this.load();
  }

  /** Pending keys in delivery order. */
  pending(): number[] {
    return [...this.order];
  }

  get depth(): number {
    return this.order.length;
  }

  /** Entries held in memory (not yet on disk). */
  get inMemory(): number {
    return [...this.slots.values()].filter((s) => s.memory).length;
  }

  /** The highest key ever seen here, pending or quarantined: a seq at or below it must not be reused. */
  get highestKey(): number {
    return Math.max(this.order[this.order.length - 1] ?? 0, this.highestQuarantined);
  }

  onPut(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Stores an entry durably (tmp, fsync, rename, directory fsync); never throws for a disk fault. */
  put(entry: OutboxEntry): void {
    if (!Number.isSafeInteger(entry.seq) || entry.seq < 0) throw new Error(`outbox: key ${entry.seq} is not a safe non-negative integer`);
    if (this.slots.has(entry.seq)) throw new Error(`outbox: key ${entry.seq} is already pending (a seq must never be reused)`);
    this.retry();
    const slot: Slot = { file: null, memory: null, ageAtLoad: 0, since: this.clock.mono() };
    if (this.degraded)
      slot.memory = entry; // keep the order on disk: earlier held entries go first
    else if (!this.writeEntry(entry, slot)) slot.memory = entry;
    this.insert(entry.seq, slot);
    this.enforceBounds();
    for (const l of this.listeners) l();
  }

  /** Writes held entries to disk, oldest first; true when none is left in memory. */
  retry(): boolean {
    if (!this.degraded) return true;
    for (const seq of this.order) {
      const slot = this.slots.get(seq)!;
      if (!slot.memory) continue;
      if (!this.writeEntry(slot.memory, slot)) return false;
      slot.memory = null;
    }
    this.log.warn(`outbox ${this.dir} writable again: every held entry is on disk`);
    this.degraded = null;
    return true;
  }

  read(seq: number): OutboxEntry | null {
    const slot = this.slots.get(seq);
    if (!slot) return null;
    if (slot.memory) return slot.memory;
    let raw: string;
    try {
      raw = readEntryFile(join(this.dir, slot.file!));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.forget(seq);
        return null;
      }
      this.quarantine(slot.file!, (err as Error).message);
      this.forget(seq);
      return null;
    }
    try {
      const { createdAt: _, ...entry } = parseEntry(seq, raw);
      return entry;
    } catch (err) {
      this.quarantine(slot.file!, (err as Error).message);
      this.forget(seq);
      return null;
    }
  }

  next(): OutboxEntry | null {
    // Each bad entry leaves the order as it is met, so this ends after at most depth reads.
    for (;;) {
      const seq = this.order[0];
      if (seq === undefined) return null;
      const entry = this.read(seq);
      if (entry) return entry;
    }
  }

  delivered(entry: Deliverable): void {
    this.remove((entry as OutboxEntry).seq);
  }

  /** The broker acknowledged it. No directory fsync: a forgotten unlink means one redelivery (QoS 1 allows it). */
  remove(seq: number): void {
    const slot = this.slots.get(seq);
    if (!slot) return;
    if (slot.file)
      try {
        unlinkSync(join(this.dir, slot.file));
      } catch {
        /* already gone */
      }
    this.forget(seq);
  }

  /** Drops entries older than maxAgeMs (see the age rule above), checking at most `limit` of them. */
  sweep(limit = 1000): number {
    const now = this.clock.mono();
    const old = this.order.slice(0, limit).filter((seq) => {
      const s = this.slots.get(seq)!;
      return s.ageAtLoad + (now - s.since) > this.opts.maxAgeMs;
    });
    for (const seq of old) this.remove(seq);
    this.countDropped(old.length, 'older than mqtt.outboxMaxAgeS');
    return old.length;
  }

  private writeEntry(entry: OutboxEntry, slot: Slot): boolean {
    const file = fileName(entry.seq);
    try {
      this.fs.mkdirSync(this.dir, { recursive: true });
      writeDurable(
        join(this.dir, file),
        JSON.stringify({ topic: entry.topic, payload: entry.payload, retain: entry.retain ?? false, createdAt: this.clock.wall() }),
        this.fs,
      );
      slot.file = file;
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const first = !this.degraded;
      this.degraded = `cannot write the outbox ${this.dir} (${e.code ?? 'error'}: ${e.message}); entries held in memory (at most ${this.memoryMax}) and retried`;
      if (first) this.log.warn(this.degraded);
      return false;
    }
  }

  private insert(seq: number, slot: Slot): void {
    this.slots.set(seq, slot);
    const last = this.order.at(-1);
    if (last === undefined || seq > last) {
      this.order.push(seq);
      return;
    }
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, seq);
  }

  private forget(seq: number): void {
    if (!this.slots.delete(seq)) return;
    const i = this.order[0] === seq ? 0 : this.order.indexOf(seq);
    if (i >= 0) this.order.splice(i, 1);
  }

  private enforceBounds(): void {
    const over = this.order.length - this.opts.maxEvents;
    const oldest = over > 0 ? this.order.slice(0, over) : [];
    for (const seq of oldest) this.remove(seq);
    this.countDropped(oldest.length, 'beyond mqtt.outboxMaxEvents');
    const held = this.order.filter((seq) => this.slots.get(seq)!.memory);
    const extra = held.slice(0, Math.max(0, held.length - this.memoryMax));
    for (const seq of extra) this.forget(seq);
    this.countDropped(extra.length, `held in memory beyond ${this.memoryMax} while the disk refuses writes`);
  }

  private countDropped(n: number, why: string): void {
    if (!n) return;
    this.dropped += n;
    this.log.warn(
      `outbox: dropped the ${n} oldest undelivered entr${n === 1 ? 'y' : 'ies'} (${why}; ${this.dropped} in all); raise the outbox limits or fix the broker connection`,
    );
  }

  /** Moves a bad entry aside (kept for a human to look at), logs and counts it. */
  private quarantine(file: string, why: string): void {
    this.quarantined++;
    const key = NAME.exec(file)?.[1];
    if (key && Number.isSafeInteger(Number(key))) this.highestQuarantined = Math.max(this.highestQuarantined, Number(key));
    try {
      this.fs.mkdirSync(this.quarantineDir, { recursive: true });
      renameDurable(join(this.dir, file), join(this.quarantineDir, `${file}.${this.clock.wall()}`), this.fs);
      this.log.warn(`outbox: bad entry ${file} (${why}) moved to ${this.quarantineDir}; the others are delivered`);
    } catch (err) {
      this.log.warn(`outbox: bad entry ${file} (${why}) skipped; it could not be moved aside (${(err as Error).message})`);
    }
  }

  private load(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    this.highestQuarantined = Math.max(this.highestQuarantined, highestQuarantinedKey(this.quarantineDir));
    const wall = this.clock.wall();
    const mono = this.clock.mono();
    for (const name of names) {
      if (name === 'quarantine') continue;
      if (name.endsWith('.tmp')) {
        try {
          unlinkSync(join(this.dir, name));
        } catch {
          /* a directory: left alone */
        }
        continue;
      }
      const key = Number(NAME.exec(name)?.[1]);
      if (!Number.isSafeInteger(key)) {
        this.quarantine(name, 'not an outbox entry name');
        continue;
      }
      if (this.slots.has(key)) {
        this.quarantine(name, `a second entry for ${key}`);
        continue;
      }
      let createdAt: number | undefined;
      try {
        createdAt = parseEntry(key, readEntryFile(join(this.dir, name))).createdAt;
      } catch (err) {
        this.quarantine(name, (err as Error).message);
        continue;
      }
      this.insert(key, { file: name, memory: null, ageAtLoad: ageAtLoad(createdAt, wall), since: mono });
    }
  }
}
