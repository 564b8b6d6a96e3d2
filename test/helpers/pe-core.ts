// Runs the real export tool (models/pe-core/export.py) in its virtualenv.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './models.js';

let python: string | undefined;

/** The export tool's python, installing its venv on first use (about a minute). */
export function exportPython(): string {
  python ??= execFileSync('bash', [join(PACKAGE_ROOT, 'models/pe-core/setup-venv.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return python;
}

export function runExport(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(exportPython(), [join(PACKAGE_ROOT, 'models/pe-core/export.py'), ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stderr: r.stderr };
}
