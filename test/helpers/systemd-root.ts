// A minimal Debian root that boots a real systemd (debootstrap --variant=minbase + systemd, systemd-sysv,
// dbus) plus exactly the packages percept's .deb depends on and recommends — so `apt install ./percept…deb`
// runs offline, and a library missing from Depends: shows up as an agent that cannot start. Built once and
// cached; the recipe (suite, mirror, packages) is stamped into the root, and a changed recipe builds it again.
// Built into `DIR.new` and renamed at the end, so an interrupted build never leaves a half root behind.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './models.js';

export const ROOT_CACHE = process.env.PERCEPT_SYSTEMD_ROOT ?? join(PACKAGE_ROOT, '.cache/systemd-root');
const STAMP = '.percept-root-recipe.json';
/** Host apt's own package cache: reused so the root's packages are not downloaded twice. */
const HOST_DEBS = '/var/cache/apt/archives';
const OPENCV_ADDON = join(PACKAGE_ROOT, 'node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node');

export interface Recipe {
  suite: string;
  mirror: string;
  base: string[];
  extra: string[];
}

/** What must be on the host; each missing piece is named with its fix. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (systemd-nspawn and debootstrap need it: run the tests as root or with sudo)');
  for (const [tool, pkg] of [
    ['debootstrap', 'debootstrap'],
    ['systemd-nspawn', 'systemd-container'],
    ['nsenter', 'util-linux'],
    ['dpkg-shlibdeps', 'dpkg-dev'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(`${tool} (apt-get install ${pkg}; npm run setup does it)`);
  }
  if (!existsSync(OPENCV_ADDON)) missing.push(`${OPENCV_ADDON} (npm run setup)`);
  return missing;
}

function osRelease(key: string): string | undefined {
  const text = readFileSync('/etc/os-release', 'utf8');
  return new RegExp(`^${key}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1];
}

/** The Debian mirror this machine's apt uses for `suite` (one-line and deb822 sources), or Debian's CDN. */
export function hostMirror(suite: string): string {
  if (process.env.PERCEPT_DEBIAN_MIRROR) return process.env.PERCEPT_DEBIAN_MIRROR;
  const files = [
    '/etc/apt/sources.list',
    ...(existsSync('/etc/apt/sources.list.d')
      ? readdirSync('/etc/apt/sources.list.d')
          .sort()
          .map((f) => join('/etc/apt/sources.list.d', f))
      : []),
  ];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(suite)) return field('URIs')[0]!;
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m && m[2] === suite) return m[1]!;
      }
    }
  }
  return 'http://deb.debian.org/debian';
}

/** `extra`: the packages to add to the base (the .deb's Depends and Recommends: systemd-deb.ts relations()). */
export function recipe(extra: string[]): Recipe {
  const suite = osRelease('VERSION_CODENAME') || 'bookworm';
  return { suite, mirror: hostMirror(suite), base: ['systemd', 'systemd-sysv', 'dbus'], extra: [...extra].sort() };
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stdout + r.stderr).slice(-4000)}`);
}

/** The cached root, built first when missing or made from another recipe; `builtMs` says what it cost. */
export function ensureRoot(extra: string[], dir = ROOT_CACHE): { dir: string; recipe: Recipe; builtMs: number | null } {
  const want = recipe(extra);
  const stamp = join(dir, STAMP);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(want)) return { dir, recipe: want, builtMs: null };
  const t0 = Date.now();
  const tmp = `${dir}.new`;
  rmSync(tmp, { recursive: true, force: true });
  const cache = existsSync(HOST_DEBS) && statSync(HOST_DEBS).isDirectory() ? [`--cache-dir=${HOST_DEBS}`] : [];
  run('debootstrap', ['--variant=minbase', `--include=${want.base.join(',')}`, ...cache, want.suite, tmp, want.mirror]);
  // apt in the new root resolves the libraries' dependencies; nspawn (no boot) gives it /proc and /dev.
  run('systemd-nspawn', [
    '-q',
    '--register=no',
    '--keep-unit',
    '-D',
    tmp,
    ...(cache.length ? [`--bind=${HOST_DEBS}`] : []),
    '-E',
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    'install',
    '-y',
    '-q',
    '--no-install-recommends',
    ...want.extra,
  ]);
  writeFileSync(join(tmp, STAMP), JSON.stringify(want));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, recipe: want, builtMs: Date.now() - t0 };
}
