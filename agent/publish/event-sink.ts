// The event sink: the one place that assigns event seqs and stores what must reach the broker. It owns the
// seq (state store), the event outbox and an outbox for seq-less records (the
// final daily summary, impressions), and is the delivery queue the MQTT publisher drains: events first, in
// seq order, then records in the order they were made.
//
// Durable first: an event is in the outbox before its seq is committed and before anyone publishes it; a
// crash between the two is healed at the next start (the seq resumes above the outbox's highest key).
// A disk that refuses writes never stops the agent, also when it is full at start: entries wait in a
// bounded memory queue, `degraded` says why, and a timer retries. The state directory's lock is taken by
// the caller before anything opens (lib/instance-lock.ts).
import type { EventPayload } from '../contract/payloads.js';
import type { Publisher } from './publisher.js';
import { Outbox, systemClock, type Clock, type Deliverable, type DeliveryQueue, type OutboxEntry } from './outbox.js';
import { StateStore } from './state-store.js';
import type { DurableFs } from '../lib/durable.js';
import { checkStateDir } from '../lib/state-dir.js';
import type { Logger } from '../lib/logging.js';
import { ContractCheck, type ContractMode } from './contract-check.js';

export interface EventSinkOptions {
  stateDir: string;
  /** The topic of an event type, e.g. deviceTopics(prefix, device).event. */
  eventTopic: (type: EventPayload['type']) => string;
  maxEvents: number;
  maxAgeMs: number;
  /** Entries held in memory while the disk refuses writes (per outbox). Default 1000. */
  memoryMax?: number;
  log: Logger;
  /** Retry held writes this often (ms). Default 5000. */
  retryEveryMs?: number;
  /** Sweep entries older than maxAgeMs this often (ms). Default 60000. */
  sweepEveryMs?: number;
  clock?: Clock;
  fs?: DurableFs;
  /** What an event that does not match the contract's schema does (contract-check.ts); default 'warn'. */
  contract?: ContractMode;
}

export interface EventSinkStats {
  depth: number;
  delivered: number;
  dropped: number;
  quarantined: number;
  inMemory: number;
  degraded: string | null;
  lastSeq: number;
}

type Tagged = OutboxEntry & { box: Outbox };

export class EventSink implements DeliveryQueue {
  private readonly events: Outbox;
  private readonly records: Outbox;
  private readonly state: StateStore;
  /** Why the start's write probe failed (a full disk), until a retry's probe succeeds. */
  private probe: string | null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly listeners: (() => void)[] = [];
  private publisher: Publisher | null = null;
  private deliveredCount = 0;
  private readonly contract: ContractCheck;

  /** Checks the directory (StateDirError, exit 73, when it can never be written), loads the outboxes, recovers the seq. */
  constructor(private readonly opts: EventSinkOptions) {
    const warn = (m: string) => opts.log.warn(m);
    this.contract = new ContractCheck(opts.contract ?? 'warn', opts.log, 'warn');
    const box = (name: string) => ({
      maxEvents: opts.maxEvents,
      maxAgeMs: opts.maxAgeMs,
      memoryMax: opts.memoryMax,
      name,
      clock: opts.clock ?? systemClock,
      fs: opts.fs,
    });
    // Check the directory before anything in it is read, moved aside or written.
    this.probe = checkStateDir(opts.stateDir);
    if (this.probe) warn(this.probe);
    this.events = new Outbox(opts.stateDir, box('outbox'), opts.log);
    this.records = new Outbox(opts.stateDir, box('outbox-records'), opts.log);
    this.state = new StateStore(opts.stateDir, { recover: () => this.events.highestKey, log: opts.log, fs: opts.fs });
    const highest = this.events.highestKey;
    if (highest > this.state.lastSeq) {
      warn(`the outbox holds seq ${highest}, above the recorded ${this.state.lastSeq}: the next event is ${highest + 1}`);
      this.state.ensureAtLeast(highest);
    }
    const pending = this.events.pending();
    if (pending.length)
      opts.log.info(`${pending.length} undelivered event(s) from an earlier run wait in the outbox (seq ${pending[0]}…${pending[pending.length - 1]})`);
    if (this.records.depth) opts.log.info(`${this.records.depth} undelivered record(s) from an earlier run wait in the outbox`);
    this.events.sweep();
    this.records.sweep();
    for (const b of [this.events, this.records])
      b.onPut(() => {
        for (const l of this.listeners) l();
      });
  }

  /** Starts the retry and age-sweep timers (unref'd: they never keep the process alive). */
  start(): void {
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.retryEveryMs ?? 5000, () => this.retry());
    every(this.opts.sweepEveryMs ?? 60_000, () => {
      this.events.sweep();
      this.records.sweep();
    });
  }

  /** The publisher, for its delivery count. */
  attach(publisher: Publisher): void {
    this.publisher = publisher;
  }

  /** The event outbox. */
  get outbox(): Outbox {
    return this.events;
  }

  /** Gives the payload built for the next seq to the outbox (durably, before anyone publishes it), then records the seq. */
  emit(build: (seq: number) => EventPayload): EventPayload {
    const seq = this.state.lastSeq + 1;
    const payload = build(seq);
    if (payload.seq !== seq) throw new Error(`event sink: the payload was built with seq ${payload.seq}, not ${seq}`);
    this.contract.check('event', payload);
    this.events.put({ seq, topic: this.opts.eventTopic(payload.type), payload: JSON.stringify(payload) });
    this.state.commit(seq);
    return payload;
  }

  /** A seq-less record that must reach the broker (e.g. the final daily summary), retained or not. */
  record(topic: string, payload: string | object, retain = false): void {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    this.records.put({ seq: this.records.highestKey + 1, topic, payload: text, retain });
  }

  get lastSeq(): number {
    return this.state.lastSeq;
  }

  /** Undelivered entries (events and records). */
  get depth(): number {
    return this.events.depth + this.records.depth;
  }

  /** Undelivered event seqs, in order. */
  get pending(): number[] {
    return this.events.pending();
  }

  /** Why something is held in memory instead of on disk, or null. */
  get degraded(): string | null {
    return this.events.degraded ?? this.records.degraded ?? this.state.degraded ?? this.probe;
  }

  stats(): EventSinkStats {
    const both = [this.events, this.records];
    return {
      depth: this.depth,
      delivered: this.publisher?.delivered ?? this.deliveredCount,
      dropped: both.reduce((a, b) => a + b.dropped, 0),
      quarantined: both.reduce((a, b) => a + b.quarantined, 0),
      inMemory: both.reduce((a, b) => a + b.inMemory, 0),
      degraded: this.degraded,
      lastSeq: this.lastSeq,
    };
  }

  onPut(listener: () => void): void {
    this.listeners.push(listener);
  }

  next(): Deliverable | null {
    for (const box of [this.events, this.records]) {
      const entry = box.next();
      if (entry) {
        const tagged: Tagged = { ...entry, box };
        return tagged;
      }
    }
    return null;
  }

  delivered(entry: Deliverable): void {
    const t = entry as Tagged;
    t.box.remove(t.seq);
    this.deliveredCount++;
  }

  /** Writes what is held in memory; true when nothing is left there. */
  retry(): boolean {
    const ok = [this.state.retry(), this.events.retry(), this.records.retry()];
    if (this.probe) {
      try {
        this.probe = checkStateDir(this.opts.stateDir);
      } catch (err) {
        this.probe = (err as Error).message;
      }
      if (!this.probe) this.opts.log.info(`state directory ${this.opts.stateDir} takes writes again`);
    }
    return ok.every(Boolean) && !this.probe;
  }

  /** Stops the timers and saves what it can. */
  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.retry();
    const held = this.stats().inMemory;
    if (held) this.opts.log.warn(`${held} entr${held === 1 ? 'y' : 'ies'} held in memory could not be written (${this.degraded}); they are lost`);
    this.state.close();
  }
}
