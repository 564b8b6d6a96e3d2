// Loads the effective configuration as layers: schema defaults ← YAML file ← remote overrides (state dir,
// when remoteConfig.persist) ← PERCEPT_* environment ← command-line flags. Each value's layer is known
// (`config print` shows it). Validation reports every error with its path; nothing is half-applied.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { Ajv, type ErrorObject } from 'ajv';
import { redact as redactSecrets } from '../lib/redact.js';
import { runIssues, valueIssues, waitIssues } from './checks.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { getPath, KEYS, setPath } from './keys.js';
import { loadOverrides, overridesPath, setAside } from './overrides.js';
import { MAX_FILE_BYTES, parseYaml, readConfigFile } from './yaml-file.js';
import { defaultStateDir } from '../lib/state-dir.js';
import { ConfigSchema, type Config, type TSchema } from './schema.js';

export { ConfigError, type ConfigIssue };
export { MAX_FILE_BYTES, parseYaml, readConfigFile };

export const SYSTEM_CONFIG = '/etc/percept/percept.yaml';

// verbose: errors carry their schema, whose x-hint replaces a bare regular expression in the message.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validate = ajv.compile<Config>(ConfigSchema);

function describe(e: ErrorObject): ConfigIssue {
  const base = e.instancePath.slice(1).replaceAll('/', '.');
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return { path: base ? `${base}.${key}` : key, message: 'unknown key (check its spelling; "percept config print" shows every key)' };
    }
    case 'enum':
      return { path: base, message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` };
    case 'pattern': {
      const hint = (e.parentSchema as { 'x-hint'?: string } | undefined)?.['x-hint'];
      return { path: base, message: hint ?? e.message ?? 'is invalid' };
    }
    default:
      return { path: base, message: e.message ?? 'is invalid' };
  }
}

/** Ajv reports each failed branch of a literal union; fold them into one "must be one of" per path. */
function collect(errors: ErrorObject[] | null | undefined): ConfigIssue[] {
  const issues = new Map<string, ConfigIssue>();
  const allowed = new Map<string, unknown[]>();
  for (const e of errors ?? []) {
    const issue = describe(e);
    if (e.keyword === 'const') {
      allowed.set(issue.path, [...(allowed.get(issue.path) ?? []), (e.params as { allowedValue: unknown }).allowedValue]);
    } else if (e.keyword !== 'anyOf' && e.keyword !== 'propertyNames') {
      // both only summarise the errors beneath them
      issues.set(`${issue.path}\u0000${issue.message}`, issue);
    }
  }
  for (const [path, values] of allowed) issues.set(path, { path, message: `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
  return [...issues.values()];
}

/**
 * The schema's verdict, without throwing for a mapping: the copy with defaults filled in and the schema's
 * issues (empty: valid). Ajv fills defaults even where a sibling fails, so later checks can still look.
 */
function schemaCheck(raw: unknown, source: string): { config: Config; issues: ConfigIssue[] } {
  const copy = structuredClone(raw ?? {}) as object;
  if (typeof copy !== 'object' || Array.isArray(copy))
    throw new ConfigError(source, [{ path: '', message: 'must be a mapping of sections (device, source, mqtt, …)' }]);
  return { config: copy as Config, issues: validate(copy) ? [] : collect(validate.errors) };
}

export function validateConfig(raw: unknown, source: string): Config {
  const { config, issues } = schemaCheck(raw, source);
  if (issues.length) throw new ConfigError(source, issues);
  return config;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

// Maps (log.namespaces) have no single environment value; every other key has one.
export const ENV_KEYS = KEYS.filter((k) => (k.schema as { type?: string }).type !== 'object').map((k) => ({
  name: `PERCEPT_${k.segments.map(snake).join('_')}`,
  path: k.segments,
  schema: k.schema,
}));

function coerce(value: string, schema: TSchema): unknown {
  const s = schema as { type?: string; anyOf?: { type?: string }[] };
  const t = s.type ?? s.anyOf?.[0]?.type;
  if (t === 'integer' || t === 'number') return value.trim() === '' ? value : Number(value);
  if (t === 'boolean')
    return ({ true: true, false: false, '1': true, '0': false, yes: true, no: false } as Record<string, boolean>)[value.toLowerCase()] ?? value;
  if (t === 'array')
    return value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  return value;
}

export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ENV_KEYS) {
    const v = env[key.name];
    if (v !== undefined) setPath(out, key.path, coerce(v, key.schema));
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlain(base) || !isPlain(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** Where a value comes from, lowest first. */
export const LAYER_NAMES = ['default', 'file', 'overrides', 'environment', 'flags'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

/** The partial configs the effective one is made of; each a plain object of the keys it sets. */
export interface ConfigLayers {
  file: Record<string, unknown>;
  /** Accepted remote patches (merged), saved or not: what the running config is made of. */
  overrides: Record<string, unknown>;
  /** The part of `overrides` that is on disk (patches sent with save); absent: all of `overrides`. */
  saved?: Record<string, unknown>;
  /** Set when the stored overrides were refused at start (and kept aside): why, and where they are now. */
  overridesRejected?: string;
  environment: Record<string, unknown>;
  flags: Record<string, unknown>;
  /** The YAML file read, if any. */
  fileName: string | null;
  /** Where saved overrides are kept (the state directory); null: nowhere (a config built in code). */
  overridesFile: string | null;
}

export interface ComposeOptions {
  /** Also check what `percept run` needs: a source, and the files and directories named. */
  forRun?: boolean;
}

function layerSource(layers: ConfigLayers): string {
  return [layers.fileName ?? 'defaults', ...(layers.overridesFile ? [layers.overridesFile] : []), 'environment', 'flags'].join(' + ');
}

/** The effective config of some layers: schema, value checks (and run checks); ConfigError otherwise. */
export function composeLayers(layers: ConfigLayers, opts: ComposeOptions = {}): Config {
  const merged = [layers.overrides, layers.environment, layers.flags].reduce((acc, l) => deepMerge(acc, l), layers.file as unknown);
  const source = layerSource(layers);
  // Every problem in one pass, as `percept config validate` promises: the schema's, then the value and
  // run-time checks on what the schema let through (a key the schema already faulted is not named twice).
  const { config, issues: schema } = schemaCheck(merged, source);
  let later: ConfigIssue[];
  try {
    later = [...valueIssues(config), ...(opts.forRun ? runIssues(config, { waitable: true }) : [])];
  } catch (err) {
    // Only a config that failed its schema can trip a check up (a section of the wrong type).
    if (!schema.length) throw err;
    later = [];
  }
  const faulted = (path: string) => schema.some((i) => path === i.path || path.startsWith(`${i.path}.`));
  const issues = [...schema, ...later.filter((i) => !faulted(i.path))];
  if (issues.length) throw new ConfigError(source, issues);
  return config;
}

/** Layers for a config built in code (tests, bench): all of it counts as the local file. */
export function layersOf(config: Config): ConfigLayers {
  return {
    // Config is an interface without an index signature, so it does not widen to a record by itself.
    file: structuredClone(config) as unknown as Record<string, unknown>,
    overrides: {},
    environment: {},
    flags: {},
    fileName: null,
    overridesFile: null,
  };
}

/** For every key, the highest layer that sets it. */
export function provenance(layers: ConfigLayers): Record<string, LayerName> {
  const out: Record<string, LayerName> = {};
  const order: [LayerName, Record<string, unknown>][] = [
    ['flags', layers.flags],
    ['environment', layers.environment],
    ['overrides', layers.overrides],
    ['file', layers.file],
  ];
  for (const key of KEYS) out[key.path] = order.find(([, layer]) => getPath(layer, key.segments) !== undefined)?.[0] ?? 'default';
  return out;
}

export interface LoadOptions {
  /** A file named by --config; it must exist. Without it, /etc/percept/percept.yaml is read if present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as a partial config. */
  overrides?: Record<string, unknown>;
  /** The system file to fall back on; null reads none (the demo). */
  systemFile?: string | null;
  /** Check what `percept run` needs too (a source, files that must exist). */
  forRun?: boolean;
  /** Read the saved remote overrides from the state directory; default true. */
  readOverrides?: boolean;
  /** Move a stored overrides file this release refuses aside (percept run only); default false. */
  setAsideRejected?: boolean;
}

export interface LoadedConfig {
  config: Config;
  file: string | null;
  layers: ConfigLayers;
  /** Things worth a log line that did not stop the load: overrides ignored, and why. */
  warnings: string[];
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const systemFile = opts.systemFile === undefined ? SYSTEM_CONFIG : opts.systemFile;
  let file: string | null = null;
  if (opts.file) file = opts.file;
  else if (systemFile && existsSync(systemFile)) file = systemFile;
  let layers: ConfigLayers = {
    file: file ? readConfigFile(file) : {},
    overrides: {},
    environment: envOverrides(opts.env ?? process.env),
    flags: opts.overrides ?? {},
    fileName: file,
    overridesFile: null,
  };
  // The local layers alone first: they decide whether and where overrides are read, and what they may set.
  const local = composeLayers(layers, { forRun: opts.forRun });
  const warnings: string[] = opts.forRun ? waitIssues(local).map((i) => `${i.path}: ${i.message}`) : [];
  // Saved overrides are read whatever remoteConfig.persist says: persist is only the default of a
  // patch's `save`, and a patch saved once must survive every restart.
  if (opts.readOverrides !== false) {
    const overridesFile = overridesPath(local.state.dir || defaultStateDir());
    const read = loadOverrides(overridesFile, local.remoteConfig.allow);
    warnings.push(...read.warnings);
    let rejected = read.rejected;
    const withOverrides = { ...layers, overrides: read.overrides, overridesFile };
    if (!rejected) {
      try {
        composeLayers(withOverrides);
        layers = withOverrides;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        rejected = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      }
    }
    if (rejected) {
      // A stored patch this version refuses (a bound tightened, a newer release's file) must neither keep
      // the device down nor be lost: it is moved aside, reported, and the next patch starts a new file.
      let where = `left in place (${overridesFile})`;
      if (opts.setAsideRejected) {
        try {
          where = `kept as ${setAside(overridesFile)}`;
        } catch (err) {
          where = `could not be moved aside (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); saving patches is refused until it is`;
        }
      }
      const message = `stored config overrides refused (${rejected}); ${where}`;
      warnings.push(message);
      layers = { ...layers, overridesFile: opts.setAsideRejected && where.startsWith('kept') ? overridesFile : null, overridesRejected: message };
    }
  }
  return { config: composeLayers(layers, { forRun: opts.forRun }), file, layers, warnings };
}

export function deviceId(config: Config): string {
  if (config.device.id) return config.device.id;
  return (
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'percept'
  );
}

/** The config with secrets and URL passwords removed (lib/redact: the one redaction function). */
export function redact(config: Config): Config {
  return redactSecrets(config);
}

export function defaults(): Config {
  return validateConfig({}, 'defaults');
}
