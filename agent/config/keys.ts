// The config's keys as the schema declares them: every leaf path with its schema, whether a running agent
// applies it at once (x-hot) and whether a remote patch may set it (x-remote, or the local file's
// remoteConfig.allow). A flag set on a section holds for every key in it unless the key says otherwise.
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.js';

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  'x-hot'?: boolean;
  'x-remote'?: boolean;
  [k: string]: unknown;
}

export interface KeyInfo {
  path: string;
  segments: string[];
  schema: TSchema;
  hot: boolean;
  remote: boolean;
}

function walk(node: SchemaNode, segments: string[], hot: boolean, remote: boolean, out: KeyInfo[]): void {
  const h = node['x-hot'] ?? hot;
  const r = node['x-remote'] ?? remote;
  if (node.type === 'object' && node.properties) {
    for (const [k, v] of Object.entries(node.properties)) walk(v, [...segments, k], h, r, out);
    return;
  }
  out.push({ path: segments.join('.'), segments, schema: node as TSchema, hot: h, remote: r });
}

/** Every leaf key (maps such as log.namespaces and arrays are leaves), in schema order. */
export const KEYS: readonly KeyInfo[] = (() => {
  const out: KeyInfo[] = [];
  // TypeBox's static types describe the values, not the schema tree; SchemaNode is the part of the JSON
  // schema walked here (properties and the x- flags), which every TypeBox object schema has at run time.
  walk(ConfigSchema as unknown as SchemaNode, [], false, false, out);
  return out;
})();

const BY_PATH = new Map(KEYS.map((k) => [k.path, k]));
const SECTIONS = new Set(KEYS.flatMap((k) => k.segments.slice(0, -1).map((_, i) => k.segments.slice(0, i + 1).join('.'))));

export function keyInfo(path: string): KeyInfo | undefined {
  return BY_PATH.get(path);
}

/** True for a section (an object of keys), e.g. "mqtt" or "mqtt.tls". */
export function isSection(path: string): boolean {
  return SECTIONS.has(path);
}

/** The leaf keys at or under `path` (a key or a section). */
export function keysUnder(path: string): KeyInfo[] {
  return KEYS.filter((k) => k.path === path || k.path.startsWith(`${path}.`));
}

export function isHot(path: string): boolean {
  return keyInfo(path)?.hot ?? false;
}

/** Keys that stay local whatever the allow list says: the remote config's own rules. */
export const NEVER_REMOTE = 'remoteConfig';

/**
 * May a remote patch set `path`? Tuning keys are marked in the schema; any other key only when the local
 * configuration lists it (or a section holding it) in remoteConfig.allow. remoteConfig.* never.
 */
export function isRemoteSettable(path: string, allow: readonly string[]): boolean {
  const info = keyInfo(path);
  if (!info || info.segments[0] === NEVER_REMOTE) return false;
  return info.remote || allow.some((a) => path === a || path.startsWith(`${a}.`));
}

/** The value at a dotted path of a plain object, or undefined. */
export function getPath(obj: unknown, segments: readonly string[]): unknown {
  let node = obj;
  for (const s of segments) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, s)) return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}

/** Sets a value at a dotted path, creating the sections on the way. */
export function setPath(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = target;
  for (const key of segments.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const key = segments.at(-1);
  if (key === undefined) throw new Error('setPath: an empty key path');
  node[key] = value;
}

/** Leaf paths whose values differ between a and b (keys of either). */
export function changedPaths(a: unknown, b: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  // Maps that are leaves (log.namespaces) compare whole.
  if (isObj(a) && isObj(b) && !keyInfo(path)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedPaths(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

const ORDER = new Map(KEYS.map((k, i) => [k.path, i]));
/** Paths sorted as the schema (and config/percept.yaml) lists them; unknown ones last. */
export function inSchemaOrder(paths: string[]): string[] {
  const at = (p: string) => ORDER.get(p) ?? Number.MAX_SAFE_INTEGER;
  return [...paths].sort((a, b) => at(a) - at(b));
}

/** Leaf paths set in a partial config (a layer or a patch); unknown keys are returned as they are. */
export function pathsIn(partial: unknown, path = ''): string[] {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial) || (path && keyInfo(path))) return path ? [path] : [];
  return Object.entries(partial).flatMap(([k, v]) => pathsIn(v, path ? `${path}.${k}` : k));
}
