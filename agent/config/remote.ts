// Remote configuration: a JSON merge patch (RFC 7396) on {root}/config/set, validated against the same
// schema as the YAML file. Either the whole patch is valid and applied, or nothing changes and every
// problem is reported with its path. Hostile input (huge, deeply nested, prototype-pollution keys,
// wrong types) is refused before it touches the config.
import mergePatch from 'json-merge-patch';
import { ConfigError, validateConfig, type ConfigIssue } from './load.js';
import type { Config } from './schema.js';

/** Keys a running agent applies at once; every other change needs a restart. */
export const HOT_SECTIONS: Record<string, string[] | '*'> = {
  detector: ['scoreThreshold', 'iouThreshold', 'minFacePx', 'maxFaces', 'intervalMs'],
  classifier: ['reclassifyMs', 'betterCropRatio', 'minGapMs', 'maxSamples', 'maxFacesPerSecond', 'minFacePx', 'minSharpness', 'edgeMargin', 'enterTimeoutMs', 'maxBatch'],
  tracker: '*',
  fusion: '*',
  log: ['level', 'namespaces'],
  homeassistant: ['enabled'],
};

const MAX_DEPTH = 6;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export interface PatchResult {
  requestId: string | null;
  ok: boolean;
  errors: ConfigIssue[];
  /** Changed keys applied now. */
  applied: string[];
  /** Changed keys that take effect after a restart. */
  restartRequired: string[];
  next?: Config;
}

function inspect(value: unknown, path: string, depth: number, issues: ConfigIssue[]): void {
  if (depth > MAX_DEPTH) {
    issues.push({ path, message: `nested deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => inspect(v, `${path}.${i}`, depth + 1, issues));
    return;
  }
  for (const key of Object.keys(value)) {
    const p = path ? `${path}.${key}` : key;
    if (FORBIDDEN.has(key)) issues.push({ path: p, message: 'forbidden key' });
    else inspect((value as Record<string, unknown>)[key], p, depth + 1, issues);
  }
}

/** Leaf paths whose values differ between a and b. */
export function changedPaths(a: unknown, b: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedPaths(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

export function isHot(path: string): boolean {
  const [section, key] = path.split('.');
  const hot = HOT_SECTIONS[section!];
  return hot === '*' || (!!hot && !!key && hot.includes(key));
}

export function evaluatePatch(current: Config, raw: Buffer | string, maxBytes: number): PatchResult {
  const fail = (errors: ConfigIssue[], requestId: string | null = null): PatchResult => ({ requestId, ok: false, errors, applied: [], restartRequired: [] });
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) return fail([{ path: '', message: `payload is ${size} bytes; at most ${maxBytes} (remoteConfig.maxBytes)` }]);
  let patch: unknown;
  try {
    patch = JSON.parse(String(raw));
  } catch (err) {
    return fail([{ path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return fail([{ path: '', message: 'a JSON merge patch must be an object, e.g. {"detector":{"scoreThreshold":0.6}}' }]);
  }
  const body = { ...(patch as Record<string, unknown>) };
  let requestId: string | null = null;
  if ('requestId' in body) {
    const id = body.requestId;
    delete body.requestId;
    if (typeof id !== 'string' || id.length > 128) return fail([{ path: 'requestId', message: 'must be a string of at most 128 characters' }]);
    requestId = id;
  }
  const issues: ConfigIssue[] = [];
  inspect(body, '', 0, issues);
  if (issues.length) return fail(issues, requestId);
  let next: Config;
  try {
    next = validateConfig(mergePatch.apply(structuredClone(current), body), 'config/set');
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.issues, requestId);
    throw err;
  }
  const changed = changedPaths(current, next);
  return { requestId, ok: true, errors: [], applied: changed.filter(isHot), restartRequired: changed.filter((p) => !isHot(p)), next };
}

/** Copies the hot keys of `next` into the live config objects the components hold. */
export function applyHot(live: Config, next: Config): void {
  for (const [section, keys] of Object.entries(HOT_SECTIONS)) {
    const target = (live as unknown as Record<string, Record<string, unknown>>)[section]!;
    const source = (next as unknown as Record<string, Record<string, unknown>>)[section]!;
    for (const key of keys === '*' ? Object.keys(source) : keys) target[key] = structuredClone(source[key]);
  }
}
