// Persisted remote patches: one JSON file in the state directory (the only place the service may write
// under systemd's ProtectSystem=strict), layered over the YAML file. The YAML file stays the operator's:
// the agent never rewrites it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../lib/durable.js';
import { isRemoteSettable, isSection } from './keys.js';

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

/**
 * The stored overrides, reduced to the keys the local config lets a remote patch set (a file edited by
 * hand, or written before an allow entry was removed, cannot widen what remote config may do). A missing
 * file is no overrides; an unreadable one is ignored with a warning.
 */
export function loadOverrides(file: string, allow: readonly string[]): { overrides: Record<string, unknown>; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { overrides: {}, warnings: [] };
    return { overrides: {}, warnings: [`ignoring ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  let parsed: unknown;
  try {
    if (Buffer.byteLength(text) > MAX_OVERRIDES_BYTES) throw new Error(`larger than ${MAX_OVERRIDES_BYTES} bytes`);
    parsed = JSON.parse(text);
    if (!isPlain(parsed)) throw new Error('not a JSON object');
  } catch (err) {
    return { overrides: {}, warnings: [`ignoring ${file}: ${(err as Error).message}`] };
  }
  const { kept, dropped } = keepRemoteSettable(parsed, allow);
  const warnings = dropped.length ? [`ignoring ${dropped.join(', ')} in ${file}: not settable remotely (remoteConfig.allow)`] : [];
  return { overrides: kept, warnings };
}

/** Replaces the stored overrides; throws (with the OS reason) when the write fails. */
export function writeOverrides(file: string, overrides: Record<string, unknown>): void {
  writeDurable(file, `${JSON.stringify(overrides, null, 2)}\n`);
}
