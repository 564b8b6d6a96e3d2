// What an outbox holds and hands to the publisher: entries, their file names and how a stored entry is
// read back (and refused when it is not one), the clock ages are measured with, and the delivery-queue
// port the MQTT publisher drains.
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
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

/** An entry is far smaller than this; anything larger is not one (and is not read into memory). */
const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

/**
 * Reads a stored entry's text. What the disk holds is not trusted: a symlink is not followed (O_NOFOLLOW:
 * it could point at any file the agent can read, or a FIFO), and only a regular file of a sane size is
 * read. Throws with a reason that quotes none of the file's bytes.
 */
export function readEntryFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new Error('a symbolic link, not an entry (not followed)', { cause: err });
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(st.isDirectory() ? 'a directory, not an entry' : 'not a regular file'), { code: 'EISDIR' });
    if (st.size > MAX_ENTRY_BYTES) throw new Error(`${st.size} bytes, far larger than any entry`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Parses a stored entry; throws with the reason (never quoting the bytes: they may be anything) when it is not one. */
export function parseEntry(seq: number, raw: string): OutboxEntry & { createdAt?: number } {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (${raw.length} characters)`);
  }
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
