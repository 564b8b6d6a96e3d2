// Checks what the agent publishes against the topic table's TypeBox schema before it leaves, so the table
// drives the payloads and not only the documentation.
//
// Always on: each topic's schema is compiled once, on its first message (TypeCompiler: about 20 ms
// for nearest on a loaded 2-core box), then checked at every publish (about 13 µs for nearest there: at
// its 10 Hz, 0.13 ms a second). What a mismatch does is the mode's choice:
// - 'warn' (the service): one error line per topic a minute, and the message still goes out: a schema
//   that lags a new field must not silence a kiosk's sensors, but the log says so;
// - 'strict' (tests): the publish throws (ContractError), so a test that drives the payload fails.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { OUT_TOPICS, type OutTopicName, type TopicSpec } from '../contract/topics.js';
import type { Logger } from '../lib/logging.js';

// TypeBox checks no string format it was not told about (every timestamp would fail): the two the
// contract uses, as the generated JSON schemas mean them (ajv-formats' rules).
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)$/;
const UUID = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID.test(v));

export type ContractMode = 'warn' | 'strict';

export class ContractError extends Error {
  constructor(
    readonly topic: OutTopicName,
    detail: string,
  ) {
    super(`${topic}: the payload does not match its schema in agent/contract (${detail}); fix the payload or the contract`);
    this.name = 'ContractError';
  }
}

const LOG_EVERY_MS = 60_000;

export class ContractCheck {
  private readonly compiled = new Map<OutTopicName, TypeCheck<TSchema> | null>();
  private readonly loggedAt = new Map<OutTopicName, number>();
  /** Mismatches seen so far, per topic (warn mode keeps counting what it does not log). */
  readonly mismatches = new Map<OutTopicName, number>();

  constructor(
    readonly mode: ContractMode,
    private readonly log: Logger,
    /** The level of a mismatch line: the owner's (the publisher's are errors, the event sink's warnings). */
    private readonly level: 'warn' | 'error',
    private readonly now: () => number = Date.now,
  ) {}

  private checker(name: OutTopicName): TypeCheck<TSchema> | null {
    let c = this.compiled.get(name);
    if (c === undefined) {
      const spec: TopicSpec = OUT_TOPICS[name];
      c = spec.schema ? TypeCompiler.Compile(spec.schema) : null;
      this.compiled.set(name, c);
    }
    return c;
  }

  /** Throws in strict mode, logs (rate-limited) in warn mode; null (an empty retained payload) always passes. */
  check(name: OutTopicName, payload: unknown): void {
    if (payload === null) {
      if (!OUT_TOPICS[name].retained) this.fail(name, 'an empty payload only removes a retained topic');
      return;
    }
    const c = this.checker(name);
    if (!c || c.Check(payload)) return;
    const first = c.Errors(payload).First();
    this.fail(name, first ? `${first.path || '(root)'} ${first.message}` : 'invalid');
  }

  private fail(name: OutTopicName, detail: string): void {
    this.mismatches.set(name, (this.mismatches.get(name) ?? 0) + 1);
    const err = new ContractError(name, detail);
    if (this.mode === 'strict') throw err;
    const t = this.now();
    if (t - (this.loggedAt.get(name) ?? -Infinity) < LOG_EVERY_MS) return;
    this.loggedAt.set(name, t);
    this.log[this.level](`${err.message} (sent anyway; ${this.mismatches.get(name)} so far)`);
  }
}
