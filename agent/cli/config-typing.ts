// KEY=VALUE pairs from the command line → a JSON merge patch, each value typed by the config schema.
// Everything is checked here, before anything is sent: an unknown key or a value of the wrong type is
// refused with the key named and what it must be.
import { ConfigSchema, type TSchema } from '../config/schema.js';
import { closest, configKeys } from '../config/env-check.js';
import { ConfigError, defaults, deepMerge, validateConfig, type ConfigIssue } from '../config/load.js';

type Node = TSchema & { type?: string; properties?: Record<string, TSchema>; items?: TSchema; anyOf?: Node[]; const?: unknown };

/** The schema of a dotted key, or null when the config has no such key. */
export function schemaAt(path: string[]): Node | null {
  let node = ConfigSchema as Node;
  for (const k of path) {
    if (node.type !== 'object' || !node.properties || !Object.hasOwn(node.properties, k)) return null;
    node = node.properties[k] as Node;
  }
  return node;
}

function kind(s: Node): string {
  if (s.anyOf) return s.anyOf.map((a) => (a.const !== undefined ? JSON.stringify(a.const) : kind(a))).join(' | ');
  return s.type ?? 'value';
}

/** Types one textual value by its schema node; throws a message (without the key) when it cannot. */
function typed(text: string, s: Node): unknown {
  if (text === 'null') return null; // merge patch: back to the default
  if (s.anyOf) {
    const literal = s.anyOf.find((a) => a.const !== undefined && String(a.const) === text);
    if (literal) return literal.const;
    for (const branch of s.anyOf) {
      try {
        return typed(text, branch);
      } catch {
        /* next branch */
      }
    }
    throw new Error(`must be one of ${kind(s)}, got ${JSON.stringify(text)}`);
  }
  switch (s.type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`must be a number, got ${JSON.stringify(text)}`);
      if (s.type === 'integer' && !Number.isInteger(n)) throw new Error(`must be a whole number, got ${text}`);
      return n;
    }
    case 'boolean': {
      const b = ({ true: true, false: false, yes: true, no: false, on: true, off: false, '1': true, '0': false } as Record<string, boolean>)[
        text.toLowerCase()
      ];
      if (b === undefined) throw new Error(`must be true or false, got ${JSON.stringify(text)}`);
      return b;
    }
    case 'array': {
      if (text.trim().startsWith('[')) return JSON.parse(text) as unknown;
      const items = text
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      return s.items ? items.map((v) => typed(v, s.items as Node)) : items;
    }
    case 'object': {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        throw new Error(`must be a JSON object, e.g. '{"detect":"debug"}'`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('must be a JSON object');
      return v;
    }
    case 'string':
      return text;
    default:
      return text;
  }
}

export interface TypedPatch {
  patch: Record<string, unknown>;
  errors: ConfigIssue[];
}

export function patchFromPairs(pairs: string[]): TypedPatch {
  const patch: Record<string, unknown> = {};
  const errors: ConfigIssue[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      errors.push({ path: pair, message: 'expected KEY=VALUE, e.g. detector.minFacePx=32' });
      continue;
    }
    const key = pair.slice(0, eq).trim();
    const path = key.split('.');
    const s = schemaAt(path);
    if (!s) {
      const near = closest(key, configKeys());
      errors.push({
        path: key,
        message: near ? `unknown key (did you mean ${near}?)` : 'unknown key (check its spelling; "percept config print" shows every key)',
      });
      continue;
    }
    if (s.type === 'object' && s.properties) {
      errors.push({ path: key, message: `is a section; set one of its keys, e.g. ${key}.${Object.keys(s.properties)[0]}=…` });
      continue;
    }
    try {
      const last = path.at(-1);
      if (last === undefined) throw new Error('an empty key');
      let node = patch;
      for (const k of path.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
      node[last] = typed(pair.slice(eq + 1), s);
    } catch (err) {
      errors.push({ path: key, message: (err as Error).message });
    }
  }
  if (errors.length) return { patch, errors };
  // Bounds and patterns too (minimum, enum…), checked on the defaults: the device checks again on its own.
  try {
    validateConfig(deepMerge(defaults(), nullsRemoved(patch)), 'command line');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(...err.issues);
  }
  return { patch, errors };
}

function nullsRemoved(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, nullsRemoved(x)]),
  );
}

/** The value at a dotted path of a plain object (undefined when absent). */
export function valueAt(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}
