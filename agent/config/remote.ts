// Remote configuration and SIGHUP as pure functions of the config layers. A remote patch is a JSON merge
// patch (RFC 7396) on {root}/config/set, merged into the overrides layer: either the whole patch is valid,
// allowed and applied, or nothing changes and every problem is reported with its key. What a patch may set
// is declared in the schema (x-remote) plus the local file's remoteConfig.allow; hostile input (huge,
// deeply nested, too many keys, prototype-pollution keys, wrong types) is refused before it touches
// anything. Hot keys (x-hot) apply at once; the rest is reported as waiting for a restart.
import mergePatch from 'json-merge-patch';
import { type ConfigIssue, ConfigError } from './errors.js';
import { changedPaths, getPath, inSchemaOrder, isHot, isRemoteSettable, isSection, keyInfo, KEYS, pathsIn, setPath } from './keys.js';
import { composeLayers, readConfigFile, type ConfigLayers } from './load.js';
import { runIssues } from './checks.js';
import { keepRemoteSettable, writeOverrides } from './overrides.js';
import { takeRequestFields } from './patch-fields.js';
import type { Config } from './schema.js';
import type { ConfigResultBody } from '../contract/payloads.js';

export { changedPaths, isHot };

export interface PatchLimits {
  /** Larger payloads are refused unread; default remoteConfig.maxBytes. */
  maxBytes: number;
  /** Keys in the whole patch, at every depth. */
  maxKeys: number;
  maxDepth: number;
}
export const DEFAULT_PATCH_LIMITS = { maxKeys: 256, maxDepth: 6 } as const;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export interface PatchResult {
  requestId: string | null;
  ok: boolean;
  errors: ConfigIssue[];
  /** Changed keys applied now. */
  applied: string[];
  /** Changed keys that take effect after a restart. */
  restartRequired: string[];
  /** The patch asked to be saved (its `save`, else remoteConfig.persist). */
  save?: boolean;
  /** The overrides are on disk (set by commitPatch). */
  saved?: boolean;
  /** Only evaluated, never applied or saved (`percept config diff/apply` ask what a device would do). */
  dryRun?: boolean;
  /** The desired config after the change (hot keys and those waiting for a restart). */
  next?: Config;
  /** The layers after the change: keep them for the next patch; persist `layers.overrides`. */
  layers?: ConfigLayers;
}

function inspect(value: unknown, path: string, depth: number, limits: PatchLimits, count: { keys: number }, issues: ConfigIssue[]): void {
  if (depth > limits.maxDepth) {
    issues.push({ path, message: `nested deeper than ${limits.maxDepth} levels` });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, v] of entries) {
    if (++count.keys > limits.maxKeys) {
      if (count.keys === limits.maxKeys + 1) issues.push({ path, message: `more than ${limits.maxKeys} keys in one patch` });
      return;
    }
    const p = path ? `${path}.${key}` : key;
    if (FORBIDDEN.has(key)) issues.push({ path: p, message: 'forbidden key' });
    else inspect(v, p, depth + 1, limits, count, issues);
  }
}

const LOCAL_ONLY =
  'is local-only (broker, credentials, TLS, model paths, state, providers, source, device id): ' +
  "set it in the config file, or list it in the file's remoteConfig.allow to let remote patches set it";

/** Why a patch may not touch these paths, one issue per refused key. */
function refusals(body: Record<string, unknown>, layers: ConfigLayers, allow: readonly string[], sectionReset: boolean): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const path of pathsIn(body)) {
    const value = getPath(body, path.split('.'));
    if (isSection(path)) {
      // Resetting a section removes only overrides, which never hold local-only keys.
      if (value === null && !sectionReset) {
        const local = KEYS.filter((k) => k.path.startsWith(`${path}.`) && !isRemoteSettable(k.path, allow)).map((k) => k.path);
        if (local.length) issues.push({ path, message: `resetting it would reset local-only keys (${local.join(', ')}); reset keys one by one` });
      }
      continue; // a non-object value is the schema's to report
    }
    const info = keyInfo(path);
    if (!info) continue; // unknown keys are reported by validation, with a hint
    // Where the value comes from is said first: `config diff` tells flag and environment values apart.
    if (path.startsWith('remoteConfig.')) issues.push({ path, message: 'remote config settings can only be changed in the local config file' });
    else if (getPath(layers.flags, info.segments) !== undefined)
      issues.push({ path, message: 'is set by a command-line flag, which a remote patch does not override' });
    else if (getPath(layers.environment, info.segments) !== undefined) {
      issues.push({
        path,
        message: `is set by the environment (PERCEPT_${info.segments.map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}), which a remote patch does not override`,
      });
    } else if (!isRemoteSettable(path, allow)) issues.push({ path, message: LOCAL_ONLY });
  }
  return issues;
}

function outcome(current: Config, next: Config, nextLayers: ConfigLayers, requestId: string | null, checkRun = true): PatchResult {
  const changed = inSchemaOrder(changedPaths(current, next));
  // Files a changed key names must exist (an allowed mqtt.tls.ca, say); unchanged ones were checked at start.
  const missing = checkRun ? runIssues(next).filter((i) => changed.some((c) => i.path === c || i.path.startsWith(`${c}.`))) : [];
  if (missing.length) return refused(missing, requestId);
  return {
    requestId,
    ok: true,
    errors: [],
    applied: changed.filter(isHot),
    restartRequired: changed.filter((p) => !isHot(p)),
    next,
    layers: nextLayers,
  };
}

function refused(errors: ConfigIssue[], requestId: string | null = null): PatchResult {
  return { requestId, ok: false, errors, applied: [], restartRequired: [] };
}

/** Was the first argument the pre-layers API (a whole Config)? */
function isLayers(x: ConfigLayers | Config): x is ConfigLayers {
  return 'flags' in x && 'overrides' in x;
}

/**
 * Evaluates a config/set payload against the current layers. Pure: nothing is applied or written; on ok,
 * `next` is the validated desired config and `layers` the layers to keep (see commitPatch, applyHot).
 */
export function evaluatePatch(layers: ConfigLayers, payload: Buffer | string, limits?: Partial<PatchLimits>): PatchResult;
/** @deprecated the pre-layers API used by service/device-topics.ts; goes with it. */
export function evaluatePatch(current: Config, payload: Buffer | string, maxBytes: number): PatchResult;
export function evaluatePatch(state: ConfigLayers | Config, payload: Buffer | string, limitsOrMax?: Partial<PatchLimits> | number): PatchResult {
  const legacy = !isLayers(state);
  // Legacy: the whole config is the overrides layer (so null resets to the default, as before); the SIGHUP
  // caller passes MAX_SAFE_INTEGER and a whole file, which is local and so not held to the allow list.
  const layers: ConfigLayers = legacy
    ? {
        file: {},
        // Config is an interface without an index signature, so it does not widen to a record by itself.
        overrides: structuredClone(state) as unknown as Record<string, unknown>,
        environment: {},
        flags: {},
        fileName: null,
        overridesFile: null,
      }
    : state;
  const localReload = legacy && limitsOrMax === Number.MAX_SAFE_INTEGER;
  let current: Config;
  try {
    current = legacy ? (state as Config) : composeLayers(layers);
  } catch (err) {
    if (err instanceof ConfigError) return refused(err.issues);
    throw err;
  }
  const given = typeof limitsOrMax === 'number' ? { maxBytes: limitsOrMax } : (limitsOrMax ?? {});
  const limits: PatchLimits = { ...DEFAULT_PATCH_LIMITS, maxBytes: current.remoteConfig.maxBytes, ...given };
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > limits.maxBytes) return refused([{ path: '', message: `payload is ${size} bytes; at most ${limits.maxBytes} (remoteConfig.maxBytes)` }]);
  let patch: unknown;
  try {
    patch = JSON.parse(String(payload));
  } catch (err) {
    return refused([{ path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return refused([{ path: '', message: 'a JSON merge patch must be an object, e.g. {"detector":{"scoreThreshold":0.6}}' }]);
  }
  const body = { ...(patch as Record<string, unknown>) };
  const fields = takeRequestFields(body, current.remoteConfig.persist);
  if ('error' in fields) return refused([fields.error], fields.requestId);
  const { requestId, save, dryRun } = fields;
  const answer = (r: PatchResult): PatchResult => (dryRun ? { ...r, dryRun } : r);
  const issues: ConfigIssue[] = [];
  inspect(body, '', 0, limits, { keys: 0 }, issues);
  if (issues.length) return answer(refused(issues, requestId));
  if (!localReload) {
    const refusedKeys = refusals(body, layers, current.remoteConfig.allow, !legacy);
    if (refusedKeys.length) return answer(refused(refusedKeys, requestId));
  }
  const merged = (base: Record<string, unknown>) => mergePatch.apply(structuredClone(base), structuredClone(body)) as Record<string, unknown>;
  // Unsaved patches stay out of what is written: a later saved patch must not persist them too.
  const saved = layers.saved ?? layers.overrides;
  const nextLayers = { ...layers, overrides: merged(layers.overrides), saved: save ? merged(saved) : saved };
  let next: Config;
  try {
    next = composeLayers(nextLayers);
  } catch (err) {
    if (err instanceof ConfigError) return answer(refused(err.issues, requestId));
    throw err;
  }
  // The legacy SIGHUP caller reloads without the command-line flags (so without --source): as before.
  const result = answer({ ...outcome(current, next, nextLayers, requestId, !localReload), save });
  // The legacy caller publishes everything but `next` as config/result: the layers must not go out.
  if (legacy) delete result.layers;
  return result;
}

/** The {root}/config/result payload of a result: exactly the contract's fields, never the config itself. */
export function resultPayload(r: PatchResult): ConfigResultBody {
  return {
    requestId: r.requestId,
    ok: r.ok,
    errors: r.errors,
    applied: r.applied,
    restartRequired: r.restartRequired,
    ...(r.ok && r.saved !== undefined ? { saved: r.saved } : {}),
    ...(r.dryRun ? { dryRun: true } : {}),
  };
}

/**
 * Saves an accepted patch's overrides (when it asked to be saved) before anything is applied: a failed
 * write makes the result not ok, so config/result never says ok for a change that asked to survive a
 * restart and would not, and nothing is half-applied. Only the saved part of the overrides is written.
 */
export function commitPatch(result: PatchResult, write: (file: string, overrides: Record<string, unknown>) => void = writeOverrides): PatchResult {
  const layers = result.layers;
  if (!result.ok || !layers || result.dryRun) return result;
  const file = layers.overridesFile;
  if (!result.save) return { ...result, saved: false };
  if (!file) {
    if (layers.overridesRejected)
      return refused(
        [{ path: 'save', message: `not saved: ${layers.overridesRejected}; send with "save": false to apply until the next restart` }],
        result.requestId,
      );
    return { ...result, saved: false };
  }
  try {
    write(file, layers.saved ?? layers.overrides);
    return { ...result, saved: true };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return refused([{ path: '', message: `not saved (${reason} writing ${file}); nothing changed` }], result.requestId);
  }
}

export interface ReloadResult extends PatchResult {
  /** Keys the file no longer sets: back to their default (or overrides) value. */
  removed: string[];
  /** Overrides dropped because the file's remoteConfig.allow no longer covers them. */
  warnings: string[];
}

/**
 * SIGHUP: the config file read again and put in place of the file layer; overrides, environment and
 * command-line flags stay (so flags are never reported as changed). A key removed from the file goes
 * back to its default or overrides value. A file that would not load is refused with every issue.
 */
export function reloadFromFile(layers: ConfigLayers): ReloadResult {
  const fail = (errors: ConfigIssue[]): ReloadResult => ({ ...refused(errors), removed: [], warnings: [] });
  if (!layers.fileName) return fail([{ path: '', message: 'no config file to reload (started without --config or /etc/percept/percept.yaml)' }]);
  let current: Config;
  let next: Config;
  let nextLayers: ConfigLayers;
  const warnings: string[] = [];
  try {
    current = composeLayers(layers);
    const file = readConfigFile(layers.fileName);
    const local = composeLayers({ ...layers, file, overrides: {} });
    const { kept, dropped } = keepRemoteSettable(layers.overrides, local.remoteConfig.allow);
    if (dropped.length) warnings.push(`overrides dropped, no longer in remoteConfig.allow: ${dropped.join(', ')}`);
    nextLayers = { ...layers, file, overrides: kept };
    next = composeLayers(nextLayers);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.issues);
    throw err;
  }
  const before = new Set(pathsIn(nextLayers.file));
  const removed = pathsIn(layers.file).filter((p) => !before.has(p));
  const result = outcome(current, next, nextLayers, null);
  return { ...result, removed: result.ok ? removed : [], warnings };
}

/** Copies the hot keys of `next` into the live config objects the components hold (in place). */
export function applyHot(live: Config, next: Config): void {
  for (const key of KEYS) {
    // setPath walks by key path; Config has no index signature, so it is seen as the plain object it is.
    if (key.hot) setPath(live as unknown as Record<string, unknown>, key.segments, structuredClone(getPath(next, key.segments)));
  }
}

/** One log line for a patch or reload result. */
export function describeResult(what: string, r: PatchResult & { removed?: string[] }): string {
  if (!r.ok) return `${what} refused: ${r.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`;
  return (
    `${what}${r.requestId ? ` ${r.requestId}` : ''}: applied ${r.applied.join(', ') || 'nothing'}` +
    (r.restartRequired.length ? `; needs a restart: ${r.restartRequired.join(', ')}` : '') +
    (r.removed?.length ? `; no longer in the file: ${r.removed.join(', ')}` : '')
  );
}
