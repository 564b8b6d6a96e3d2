// The machine itself: distribution, CPU architecture, Jetson board, Node. Each check is a pure function of
// what it reads, so a test can hand it another machine's files.
import { readFile } from 'node:fs/promises';
import { fail, ok, skip, warn, type Check, type Result } from './check.js';

/** /etc/os-release as a map (quotes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/** What setup.sh installs on: Debian 12/13 (tested), Ubuntu 22.04 — JetPack 6 — and 24.04 (package names known). */
const KNOWN: Record<string, string[]> = { debian: ['12', '13'], ubuntu: ['22.04', '24.04'] };

export function osResult(text: string | null): Result {
  if (text === null) return warn('no /etc/os-release: distribution unknown', 'percept is installed and tested on Debian 12/13 and Ubuntu 22.04 (JetPack)');
  const os = parseOsRelease(text);
  const name = os.PRETTY_NAME ?? `${os.NAME ?? os.ID ?? 'unknown'} ${os.VERSION_ID ?? ''}`.trim();
  const id = os.ID ?? '';
  if (KNOWN[id]?.includes(os.VERSION_ID ?? '')) return ok(name);
  const like = (os.ID_LIKE ?? '').split(/\s+/).some((l) => l in KNOWN);
  return warn(
    `${name}: ${like ? 'a derivative setup does not know by name' : 'not a distribution setup knows'}`,
    'setup.sh installs on Debian 12/13 and Ubuntu 22.04 (JetPack) or 24.04; elsewhere install OpenCV 4 (core, imgproc, imgcodecs, videoio, calib3d) and Node ≥ 20 by hand',
  );
}

export function archResult(arch: string): Result {
  if (arch === 'x64' || arch === 'arm64') return ok(arch === 'x64' ? 'x64 (x86_64)' : 'arm64 (aarch64)');
  return fail(`${arch}: onnxruntime-node ships binaries for x64 and arm64 only`, 'use an x86_64 or aarch64 machine (a 64-bit OS on a Raspberry Pi or Jetson)');
}

/** /proc/device-tree/model (NUL-terminated) and, on JetPack, /etc/nv_tegra_release. */
export function jetsonResult(model: string | null, tegraRelease: string | null): Result {
  if (model === null) return skip('not a Jetson (no /proc/device-tree/model)');
  const board = model.replace(/\0+$/, '').trim();
  if (!/jetson|nvidia/i.test(board)) return skip(`not a Jetson: ${board}`);
  const l4t = tegraRelease ? /^#\s*(R\d+)[^,]*,\s*REVISION:\s*([\d.]+)/.exec(tegraRelease) : null;
  if (!l4t)
    return warn(
      `${board}, but no /etc/nv_tegra_release: not JetPack's L4T`,
      'install JetPack (its OpenCV has GStreamer for the CSI camera; GPU inference needs its CUDA): see docs/jetson.md',
    );
  return ok(`${board}; L4T ${l4t[1]}.${l4t[2]}`);
}

export function nodeResult(version: string): Result {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  if (major >= 20) return ok(`${version} (≥ 20 needed)`);
  return fail(
    `${version}: percept needs Node 20 or newer`,
    'install Node 20 (Debian 13 and NodeSource for Ubuntu 22.04 have it), then run npm run setup again',
  );
}

const read = (path: string) => readFile(path, 'utf8').catch(() => null);

export function platformChecks(): Check[] {
  return [
    { id: 'os', timeoutMs: 5000, run: async () => osResult(await read('/etc/os-release')) },
    { id: 'arch', timeoutMs: 1000, run: async () => archResult(process.arch) },
    { id: 'jetson', timeoutMs: 5000, run: async () => jetsonResult(await read('/proc/device-tree/model'), await read('/etc/nv_tegra_release')) },
    { id: 'node', timeoutMs: 1000, run: async () => nodeResult(process.version) },
  ];
}
