// Persisted remote patches: one JSON file in the state directory (the only place the service may write
// under systemd's ProtectSystem=strict), layered over the YAML file. The YAML file stays the operator's:
// the agent never rewrites it.
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../lib/durable.js';
import { isRemoteSettable, isSection } from './keys.js';
import { ConfigError } from './errors.js';
import { CONFIG_VERSION, migrate } from './migrations.js';

export const OVERRIDES_NAME = 'config-overrides.json';
const MAX_OVERRIDES_BYTES = 1_048_576;

export function overridesPath(stateDir: string): string {
  return join(stateDir, OVERRIDES_NAME);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Removes the keys a remote patch may not set (and sections left empty); returns what was dropped. */
export function keepRemoteSettable(overrides: Record<string, unknown>, allow: readonly string[]): { kept: Record<string, unknown>; dropped: string[] } {
  const dropped: string[] = [];
  const prune = (node: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (isRemoteSettable(path, allow)) {
        out[k] = v;
      } else if (isPlain(v) && isSection(path)) {
        const inner = prune(v, path);
        if (Object.keys(inner).length) out[k] = inner;
      } else {
        dropped.push(path);
      }
    }
    return out;
  };
  return { kept: prune(overrides, ''), dropped };
}

export interface LoadedOverrides {
  overrides: Record<string, unknown>;
  warnings: string[];
  /** Why the file was refused whole (unreadable as JSON, from a newer version, …); it must be kept aside. */
  rejected?: string;
}

/**
 * The stored overrides, migrated to this version and reduced to the keys the local config lets a remote
 * patch set (a file edited by hand, or written before an allow entry was removed, cannot widen what
 * remote config may do). A missing file is no overrides; one that cannot be used is `rejected`, never
 * silently treated as empty (the next patch would overwrite the installer's tuning).
 */
export function loadOverrides(file: string, allow: readonly string[]): LoadedOverrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { overrides: {}, warnings: [] };
    return { overrides: {}, warnings: [], rejected: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  let parsed: Record<string, unknown>;
  try {
    if (Buffer.byteLength(text) > MAX_OVERRIDES_BYTES) throw new Error(`larger than ${MAX_OVERRIDES_BYTES} bytes`);
    const json: unknown = JSON.parse(text);
    if (!isPlain(json)) throw new Error('not a JSON object');
    parsed = migrate(json, file).doc;
  } catch (err) {
    const why = err instanceof ConfigError ? err.issues.map((i) => `${i.path}: ${i.message}`).join('; ') : (err as Error).message;
    return { overrides: {}, warnings: [], rejected: why };
  }
  const { kept, dropped } = keepRemoteSettable(parsed, allow);
  const warnings = dropped.length ? [`ignoring ${dropped.join(', ')} in ${file}: not settable remotely (remoteConfig.allow)`] : [];
  return { overrides: kept, warnings };
}

/**
 * Moves a refused overrides file aside (config-overrides.json.rejected-<time>), so the next accepted patch
 * starts a new file instead of overwriting it; returns the new name, or throws with the OS reason.
 */
export function setAside(file: string, now = new Date()): string {
  const aside = `${file}.rejected-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, aside);
  return aside;
}

/** Replaces the stored overrides (stamped with this config version); throws (with the OS reason) when the write fails. */
export function writeOverrides(file: string, overrides: Record<string, unknown>): void {
  writeDurable(file, `${JSON.stringify({ version: CONFIG_VERSION, ...overrides }, null, 2)}\n`);
}
