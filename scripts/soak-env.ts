// The environment the shipped unit (systemd/percept.service) gives the agent: the soak runs the agent
// with it, so what is soaked is what ships (MALLOC_ARENA_MAX changes the agent's RSS curve).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../test/helpers/models.js';

/** `Environment=NAME=value` lines of a unit file (one assignment per line, unquoted: as the unit writes them). */
export function unitEnvironment(unitText: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of unitText.matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/gm)) env[m[1]!] = m[2]!;
  return env;
}

export function shippedUnitEnvironment(): Record<string, string> {
  return unitEnvironment(readFileSync(join(PACKAGE_ROOT, 'systemd/percept.service'), 'utf8'));
}
