// What an outbox holds and hands to the publisher: entries, their file names and how a stored entry is
// read back (and refused when it is not one), the clock ages are measured with, and the delivery-queue
// port the MQTT publisher drains.
import { readdirSync } from 'node:fs';
import type { DurableFs } from '../lib/durable.js';
export interface Clock {
  /** Wall time, ms since the epoch (stored in entries). */
  wall(): number;
  /** Monotonic ms (ages within a run). */
  mono(): number;
}

export const systemClock: Clock = { wall: () => Date.now(), mono: () => performance.now() };

export interface OutboxOptions {
  maxEvents: number;
  maxAgeMs: number;
  /** Entries held in memory while the disk refuses writes; beyond, the oldest are dropped. Default 1000. */
  memoryMax?: number;
  /** Sub-directory of the state directory. Default `outbox`. */
  name?: string;
  clock?: Clock;
  fs?: DurableFs;
}

/** What the broker gets: the publisher's side of a queue. */
export interface Deliverable {
  topic: string;
  payload: string;
  retain?: boolean;
}

/** A queue the publisher drains in order: next() is synchronous and finite, so the send loop always awaits. */
export interface DeliveryQueue {
  readonly depth: number;
  /** The oldest undelivered entry (bad ones are quarantined on the way), or null when empty. */
  next(): Deliverable | null;
  /** The broker acknowledged it. */
  delivered(entry: Deliverable): void;
  /** Called after every put, to wake the sender. */
  onPut(listener: () => void): void;
}

export interface OutboxEntry extends Deliverable {
  /** Position in delivery order: the event seq in the event outbox, an ordinal elsewhere. */
  seq: number;
}

export const NAME = /^(\d+)\.json$/;
export const fileName = (seq: number) => `${String(seq).padStart(20, '0')}.json`;
export const PLAUSIBLE_EPOCH = Date.UTC(2024, 0, 1);

/** Parses a stored entry; throws with the reason when it is not one. */
export function parseEntry(seq: number, raw: string): OutboxEntry & { createdAt?: number } {
  const v = JSON.parse(raw) as Record<string, unknown>;
  if (!v || typeof v !== 'object') throw new Error('not a JSON object');
  if (typeof v.topic !== 'string' || !v.topic || /[#+\0]/.test(v.topic)) throw new Error('no valid "topic"');
  if (typeof v.payload !== 'string') throw new Error('no "payload" string');
  const createdAt = typeof v.createdAt === 'number' ? v.createdAt : typeof v.storedAt === 'number' ? v.storedAt : undefined;
  return { seq, topic: v.topic, payload: v.payload, retain: v.retain === true, createdAt };
}

/** The highest key among quarantined entries (a recovered seq never reuses one); 0 when there are none. */
export function highestQuarantinedKey(quarantineDir: string): number {
  let highest = 0;
  try {
    for (const q of readdirSync(quarantineDir)) {
      const key = Number(NAME.exec(q.replace(/\.\d+$/, ''))?.[1]);
      if (Number.isSafeInteger(key)) highest = Math.max(highest, key);
    }
  } catch {
    /* no quarantine yet */
  }
  return highest;
}

/** An entry's wall-clock age when loaded; 0 when its time predates 2024 (clock not yet set) or is ahead of the clock. */
export function ageAtLoad(createdAt: number | undefined, wall: number): number {
  return createdAt !== undefined && createdAt >= PLAUSIBLE_EPOCH ? Math.max(0, wall - createdAt) : 0;
}
