// Building blocks of the config schema: the hot/remote flags each key carries, bounded time values,
// topic and time patterns. Shared by the schema's sections.
import { Type } from '@sinclair/typebox';

export const levelUnion = (opts = {}) =>
  Type.Union(
    ['error', 'warn', 'info', 'debug'].map((l) => Type.Literal(l)),
    opts,
  );

// Per-key flags, kept in the generated JSON Schema as x- keywords (validators and editors ignore them).
// Set on a section, they apply to every key in it unless a key says otherwise.
/** A running agent applies the key at once (remote patch or SIGHUP); otherwise it waits for a restart. */
export const HOT = { 'x-hot': true } as const;
/** A remote patch on {root}/config/set may set the key. Keys without it are local-only, unless the local
 *  file names them in remoteConfig.allow. Deny by default: a new key is local until marked. */
export const REMOTE = { 'x-remote': true } as const;
export const TUNE = { ...HOT, ...REMOTE } as const;

/** Node's timers overflow above 2^31-1 ms (they fire after 1 ms): no time value may come near. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const HOUR_MS = 3_600_000;
/** A time in ms with a sensible ceiling (every one of them ends up in a timer or a comparison). */
export const ms = (def: number, min: number, max: number, description: string, flags: object = {}) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description, ...flags });
/** An MQTT topic level sequence: no wildcard, no NUL, no empty level, not a $-reserved topic. */
export const TOPIC_PATTERN = '^[^$#+/\\u0000][^#+/\\u0000]*(/[^#+/\\u0000]+)*$';
export const PATH = { maxLength: 4096 } as const;
/** `x-hint`: the message shown when a pattern does not match, instead of the regular expression. */
export const TOPIC = {
  pattern: TOPIC_PATTERN,
  maxLength: 128,
  'x-hint': 'must be MQTT topic levels without +, #, NUL, empty levels or a leading $ (e.g. percept, shop/floor1)',
} as const;
export const HHMM = { pattern: '^(([01]?\\d|2[0-3]):[0-5]\\d|24:00)$', 'x-hint': 'must be a time HH:MM from 00:00 to 24:00, e.g. "08:30"' } as const;
export const NO_NUL = { pattern: '^[^\\u0000]*$', 'x-hint': 'must not contain a NUL character' } as const;
