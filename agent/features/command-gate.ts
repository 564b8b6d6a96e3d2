// The one place for the rules every inbound command topic follows ({root}/config/set, {root}/content/set,
// Home Assistant's status):
// - a retained command is ignored and logged: it was sent earlier (maybe long ago) and would replay at
//   every start and reconnect, undoing later changes;
// - a rate limit (token bucket per topic): a buggy player or script sending thousands of messages a second
//   must not starve the frame loop with disk writes. What happens beyond the rate is the topic's choice
//   (config/set refuses and answers, content/set merges plays), but it is always counted;
// - request ids are read here, so even a command refused unread is answered with its id;
// - answers are queued with a bound on those in flight, so a flood of answers cannot pile up in the client.
// Log lines about refused commands are themselves limited (a flood must not become a log flood).
// A token bucket is a dozen lines; the npm limiters (limiter, bottleneck) bring timers and promises we
// do not want on a synchronous message path.
import type { Publisher, Release } from '../publish/publisher.js';
import type { Logger } from '../lib/logging.js';

export interface CommandLimit {
  /** Tokens added per second (sustained commands a second). */
  perSecond: number;
  /** Bucket size: commands accepted at once after a quiet spell. */
  burst: number;
}

/** A monotonic clock in ms (performance.now), injectable for tests. */
export type MonoClock = () => number;
const mono: MonoClock = () => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `limit` is read at every call, so a hot config change applies at once. */
  constructor(
    private readonly limit: () => CommandLimit,
    private readonly now: MonoClock = mono,
  ) {
    this.tokens = limit().burst;
    this.last = now();
  }

  private refill(): void {
    const { perSecond, burst } = this.limit();
    const t = this.now();
    this.tokens = Math.min(burst, this.tokens + ((t - this.last) / 1000) * perSecond);
    this.last = t;
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** ms until a token is available (0: now). */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / Math.max(this.limit().perSecond, 1e-6)) * 1000);
  }
}

/** Counts of one command topic, published in stats under `commands`. */
export interface CommandCounts {
  received: number;
  /** Within the rate: handed to the topic's handler. */
  accepted: number;
  retainedIgnored: number;
  /** Beyond the rate limit (refused or merged, as the topic decides). */
  limited: number;
  /** content/set: plays beyond the rate superseded before they applied (their time is in the running play). */
  merged?: number;
  /** Answers not sent because too many were already waiting (answers to a flood are bounded). */
  answersDropped?: number;
}

export type Admission = 'accepted' | 'retained' | 'limited';

export interface GateOptions {
  /** Short name for logs and stats, e.g. "config/set". */
  name: string;
  limit: () => CommandLimit;
  log: Logger;
  /** Some inbound topics are state, not commands (Home Assistant's status): their retained value counts. */
  allowRetained?: boolean;
  now?: MonoClock;
  /** Warn lines about limited or refused commands per minute before they are summarised. Default 10. */
  logsPerMinute?: number;
}

export class CommandGate {
  readonly counts: CommandCounts = { received: 0, accepted: 0, retainedIgnored: 0, limited: 0 };
  private readonly bucket: TokenBucket;
  private readonly now: MonoClock;
  private logWindow = { start: -Infinity, lines: 0, suppressed: 0 };

  constructor(readonly opts: GateOptions) {
    this.now = opts.now ?? mono;
    this.bucket = new TokenBucket(opts.limit, this.now);
  }

  get name(): string {
    return this.opts.name;
  }

  /** Decides what to do with one inbound message; counts it. */
  admit(retained: boolean): Admission {
    this.counts.received++;
    if (retained && !this.opts.allowRetained) {
      this.counts.retainedIgnored++;
      this.warn(
        `${this.name}: a retained message is ignored (publish commands without the retain flag: a stale command would replay at every start and reconnect; clear it with an empty retained message)`,
      );
      return 'retained';
    }
    if (!this.bucket.take()) {
      this.counts.limited++;
      return 'limited';
    }
    this.counts.accepted++;
    return 'accepted';
  }

  /** Takes a token for work held back earlier (a merged play applied late); false when none is free yet. */
  takeLater(): boolean {
    return this.bucket.take();
  }

  /** ms until the next command would be within the rate. */
  wait(): number {
    return this.bucket.wait();
  }

  /** The limit as a reader can act on it. */
  describeLimit(): string {
    const { perSecond, burst } = this.opts.limit();
    return `at most ${perSecond} a second, ${burst} at once`;
  }

  /** A warn line, at most logsPerMinute a minute; the rest are counted and summarised in the next line. */
  warn(line: string): void {
    const t = this.now();
    const w = this.logWindow;
    if (t - w.start >= 60_000) {
      if (w.suppressed) this.opts.log.warn(`${this.name}: ${w.suppressed} similar line(s) not logged in the last minute`);
      this.logWindow = { start: t, lines: 0, suppressed: 0 };
    }
    if (this.logWindow.lines++ < (this.opts.logsPerMinute ?? 10)) this.opts.log.warn(line);
    else this.logWindow.suppressed++;
  }

  /** Subscribes `handler` behind the gate until the release is called; see `take`. */
  listen(publisher: Publisher, topic: string, handler: (payload: Buffer) => void, onLimited?: (payload: Buffer) => void): Release {
    return publisher.subscribe(topic, (_topic, payload, retained) => this.take(payload, retained, handler, onLimited));
  }

  /** One inbound message: retained ones (and, unless `onLimited` is given, limited ones) never reach `handler`. */
  take(
    payload: Buffer,
    retained: boolean,
    handler: (payload: Buffer) => void,
    onLimited: (payload: Buffer) => void = () => {
      this.warn(`${this.name}: more messages than allowed (${this.describeLimit()}); ignored`);
    },
  ): Admission {
    const a = this.admit(retained);
    if (a === 'accepted') handler(payload);
    else if (a === 'limited') onLimited(payload);
    return a;
  }
}

/**
 * The requestId of a command payload, without acting on it: null when there is none, it is not a string
 * of at most 128 characters, or the payload is too large or not a JSON object.
 */
export function requestIdOf(payload: Buffer, maxBytes: number): string | null {
  if (payload.length > maxBytes) return null;
  try {
    const body = JSON.parse(String(payload)) as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !Object.hasOwn(body, 'requestId')) return null;
    const id = (body as { requestId: unknown }).requestId;
    return typeof id === 'string' && id.length <= 128 ? id : null;
  } catch {
    return null;
  }
}

/**
 * Answers to commands (config/result), at most `maxInFlight` unacknowledged at a time; more wait in a queue
 * of at most `maxQueued`, beyond which an answer is dropped and counted (a flood that outruns the broker
 * must not grow memory without bound). Failures are logged once per burst, never thrown. p-queue would
 * bound concurrency but not drop: the drop rule is the point, and it is a few lines.
 */
export class AnswerQueue<T = string> {
  private inFlight = 0;
  private queue: T[] = [];
  private head = 0;
  private idle: (() => void)[] = [];
  dropped = 0;

  constructor(
    private readonly send: (payload: T) => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly maxInFlight = 16,
    private readonly maxQueued = 10_000,
  ) {}

  /** Queues one answer; false when it was dropped (the queue is full). */
  push(payload: T): boolean {
    if (this.queue.length - this.head >= this.maxQueued) {
      this.dropped++;
      return false;
    }
    this.queue.push(payload);
    this.pump();
    return true;
  }

  get pending(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.head < this.queue.length) {
      const payload = this.queue[this.head++]!;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      this.inFlight++;
      this.send(payload)
        .catch((err: Error) => this.onError(err))
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (!this.pending) for (const r of this.idle.splice(0)) r();
        });
    }
  }

  /** Resolves when every queued answer went out (or failed); callers bound the wait (stop grace). */
  drained(): Promise<void> {
    return this.pending ? new Promise((r) => this.idle.push(r)) : Promise.resolve();
  }
}

/** Every gate of the running agent, for the stats topic. */
export class CommandRegistry {
  private readonly gates = new Map<string, CommandGate>();

  add(gate: CommandGate): CommandGate {
    this.gates.set(gate.name, gate);
    return gate;
  }

  snapshot(): Record<string, CommandCounts> {
    return Object.fromEntries([...this.gates].map(([name, g]) => [name, { ...g.counts }]));
  }
}
