// Loads the effective configuration: schema defaults ← YAML file ← PERCEPT_* environment ← command-line
// flags. Validation reports every error with its path; nothing is half-applied.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigSchema, SECRET_PATHS, type Config, type TSchema } from './schema.js';

export const SYSTEM_CONFIG = '/etc/percept/percept.yaml';
/** sysexits EX_CONFIG: what systemd units and scripts can tell apart from crashes. */
export const EXIT_CONFIG = 78;

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly source: string, readonly issues: ConfigIssue[]) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
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
    } else if (e.keyword !== 'anyOf') {
      issues.set(`${issue.path}\u0000${issue.message}`, issue);
    }
  }
  for (const [path, values] of allowed) issues.set(path, { path, message: `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
  return [...issues.values()];
}

export function validateConfig(raw: unknown, source: string): Config {
  const copy = structuredClone(raw ?? {}) as object;
  if (typeof copy !== 'object' || Array.isArray(copy)) throw new ConfigError(source, [{ path: '', message: 'must be a mapping of sections (device, source, mqtt, …)' }]);
  if (!validate(copy)) throw new ConfigError(source, collect(validate.errors));
  return copy as Config;
}

export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(source, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0]! })));
  }
  return doc.toJS() ?? {};
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

interface Leaf { path: string[]; schema: TSchema & { type?: string; items?: TSchema } }

function leaves(schema: TSchema, path: string[] = []): Leaf[] {
  const s = schema as TSchema & { type?: string; properties?: Record<string, TSchema> };
  if (s.type === 'object' && s.properties) return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [{ path, schema: s }];
}

// Maps (log.namespaces) have no single environment value; every other leaf has one.
export const ENV_KEYS = leaves(ConfigSchema).filter((l) => (l.schema as { type?: string }).type !== 'object')
  .map((l) => ({ name: `PERCEPT_${l.path.map(snake).join('_')}`, path: l.path, schema: l.schema }));

function coerce(value: string, leaf: Leaf): unknown {
  const t = leaf.schema.type ?? (leaf.schema as { anyOf?: { const?: unknown; type?: string }[] }).anyOf?.[0]?.type;
  if (t === 'integer' || t === 'number') return value.trim() === '' ? value : Number(value);
  if (t === 'boolean') return ({ true: true, false: false, '1': true, '0': false, yes: true, no: false } as Record<string, boolean>)[value.toLowerCase()] ?? value;
  if (t === 'array') return value.split(',').map((v) => v.trim()).filter(Boolean);
  return value;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ENV_KEYS) {
    const v = env[key.name];
    if (v !== undefined) setPath(out, key.path, coerce(v, key));
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

export interface LoadOptions {
  /** A file named by --config; it must exist. Without it, /etc/percept/percept.yaml is read if present. */
  file?: string;
  /** The system file to fall back on; null reads none (the demo). */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as a partial config. */
  overrides?: Record<string, unknown>;
  systemFile?: string | null;
}

export interface LoadedConfig {
  config: Config;
  file: string | null;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const systemFile = opts.systemFile ?? SYSTEM_CONFIG;
  let file: string | null = null;
  let fromFile: unknown = {};
  if (opts.file) {
    if (!existsSync(opts.file)) throw new ConfigError(opts.file, [{ path: '', message: `file not found: ${opts.file}` }]);
    file = opts.file;
  } else if (systemFile && existsSync(systemFile)) {
    file = systemFile;
  }
  if (file) fromFile = parseYaml(readFileSync(file, 'utf8'), file);
  if (!isPlain(fromFile)) throw new ConfigError(file ?? 'config', [{ path: '', message: 'the file must hold a mapping of sections (device, source, mqtt, …)' }]);
  const merged = deepMerge(deepMerge(fromFile, envOverrides(env)), opts.overrides ?? {});
  const config = validateConfig(merged, [file ?? 'defaults', 'environment', 'flags'].join(' + '));
  return { config, file };
}

export function deviceId(config: Config): string {
  if (config.device.id) return config.device.id;
  return hostname().toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'percept';
}

export function redact(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, key] of SECRET_PATHS) {
    if (copy[section!]?.[key!]) copy[section!]![key!] = '***';
  }
  return copy as unknown as Config;
}

export function defaults(): Config {
  return validateConfig({}, 'defaults');
}
