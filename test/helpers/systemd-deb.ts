// The Debian package for the system tests: built once per run from this checkout without compression
// (dpkg-deb -Znone: seconds, not minutes of xz), and re-versioned copies of it for upgrades and rollbacks
// (dpkg-deb -R, a new Version:, dpkg-deb -b again — the contents stay byte for byte the same).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './models.js';

export interface Deb {
  path: string;
  version: string;
}

/** Builds percept_<version>_<arch>.deb into `outDir` with scripts/package-deb.sh (what `npm run package` runs). */
export function buildDeb(outDir: string): Deb & { ms: number } {
  const t0 = Date.now();
  const path = execFileSync('bash', [join(PACKAGE_ROOT, 'scripts/package-deb.sh'), '--no-compress', '--out', outDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  }).trim();
  return { path, version: field(path, 'Version'), ms: Date.now() - t0 };
}

/** One control field of a .deb. */
export function field(deb: string, name: string): string {
  return execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
}

/** The packages a .deb depends on and recommends (first alternative of each, versions dropped). */
export function relations(deb: string): string[] {
  const names = ['Depends', 'Recommends']
    .flatMap((f) => field(deb, f).split(','))
    .map((r) =>
      r
        .split('|')[0]!
        .replace(/\(.*\)/, '')
        .trim(),
    )
    .filter(Boolean);
  return [...new Set(names)].sort();
}

/** A copy of `deb` that says `version` (for an upgrade from it, or a downgrade back to it). */
export function reversion(deb: Deb, version: string, outDir: string): Deb {
  const tree = mkdtempSync(join(outDir, 'reversion-'));
  try {
    execFileSync('dpkg-deb', ['-R', deb.path, tree]);
    const control = join(tree, 'DEBIAN/control');
    writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
    const path = join(outDir, `percept_${version}_${field(deb.path, 'Architecture')}.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Znone', '--build', tree, path], { stdio: 'ignore' });
    return { path, version };
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
