// Where onnxruntime-node loads its CUDA/TensorRT provider libraries from, and why they may not load, in one
// line. Shared by the inference worker (a provider that failed is explained, not just "Failed to load
// shared library") and `percept gpu` (which installs them).
//
// Checked with LD_DEBUG and onnxruntime's error text (1.30): the binding opens the provider libraries by
// absolute path, `<directory of libonnxruntime.so.1>/libonnxruntime_providers_*.so` (onnxruntime's
// Env::GetRuntimePath is the directory of its own shared library). LD_LIBRARY_PATH cannot redirect that,
// so the provider libraries must be in (or linked into) the binding directory itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const PROVIDER_LIBS = {
  shared: 'libonnxruntime_providers_shared.so',
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
} as const;

/** The file `percept gpu install` writes beside the libraries it installed. */
export const GPU_MANIFEST = 'gpu.json';

export interface GpuManifest {
  /** onnxruntime-node's version the provider libraries are from (they must match it exactly). */
  onnxruntime: string;
  cudaMajor: number;
  /** null: installed without --tensorrt. */
  tensorrtMajor: number | null;
  wheels: { file: string; sha256: string }[];
  libraries: string[];
  installedAt: string;
}

const require_ = createRequire(import.meta.url);

export function ortNodeDir(): string {
  return dirname(require_.resolve('onnxruntime-node/package.json'));
}

/** onnxruntime-node's installed version, read at run time: the provider libraries must be of exactly this one. */
export function ortVersion(): string {
  return (JSON.parse(readFileSync(join(ortNodeDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The directory holding libonnxruntime.so.1 for this platform (PERCEPT_ORT_BINDING_DIR: tests). */
export function bindingDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PERCEPT_ORT_BINDING_DIR) return env.PERCEPT_ORT_BINDING_DIR;
  const bin = join(ortNodeDir(), 'bin');
  const napi = readdirSync(bin)
    .filter((d) => /^napi-v\d+$/.test(d))
    .sort()
    .reverse();
  for (const d of napi) {
    const dir = join(bin, d, process.platform, process.arch);
    if (existsSync(dir)) return realpathSync(dir);
  }
  return join(bin, napi[0] ?? 'napi-v6', process.platform, process.arch);
}

/** Whether the dynamic loader knows libcuda.so.1 (the NVIDIA driver's own library, never shipped by us). */
export function libcudaFound(): boolean {
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (r.error) continue;
    if (/^\s*libcuda\.so\.1 /m.test(r.stdout)) return true;
    break;
  }
  return (process.env.LD_LIBRARY_PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'libcuda.so.1')));
}

/** A Jetson's own onnxruntime build copied over the binding (README's recipe): its provider libraries are there. */
function fromSource(): boolean {
  try {
    return existsSync(join(bindingDir(), PROVIDER_LIBS.shared));
  } catch {
    return false;
  }
}

/** Why no CUDA device can be used here, or null. */
export function driverProblem(): string | null {
  if (process.platform !== 'linux') return `${process.platform}: percept's GPU providers are for Linux`;
  if (process.arch !== 'x64' && !fromSource())
    return `${process.arch}: npm's onnxruntime-node for linux-${process.arch} has no CUDA or TensorRT code at all; on a Jetson build onnxruntime from source (docs/jetson.md)`;
  // /dev/dxg: a GPU under WSL2; /dev/nvhost-ctrl-gpu: a Jetson's integrated GPU.
  const device = existsSync('/dev/nvidia0') || existsSync('/dev/dxg') || existsSync('/dev/nvhost-ctrl-gpu');
  const libcuda = libcudaFound();
  if (device && libcuda) return null;
  const missing = [!device && 'no /dev/nvidia0', !libcuda && 'no libcuda.so.1 known to the loader'].filter(Boolean).join(', ');
  return `no NVIDIA GPU or driver here (${missing}): install the NVIDIA driver on a machine with an NVIDIA GPU`;
}

/** The sonames `lib` needs that the loader cannot find (ldd; with `libDir`, that directory instead of LD_LIBRARY_PATH). */
export function unresolved(lib: string, libDir = ''): string[] {
  const env = libDir ? { ...process.env, LD_LIBRARY_PATH: libDir } : process.env;
  const r = spawnSync('ldd', [lib], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`ldd could not run: ${r.error.message}`);
  return [...new Set([...r.stdout.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]!))];
}

/** The release directory (with gpu.json and lib/) the binding directory's provider libraries link into, if any. */
export function installedDir(dir = bindingDir()): string | null {
  try {
    return dirname(dirname(realpathSync(join(dir, PROVIDER_LIBS.shared))));
  } catch {
    return null;
  }
}

/** The manifest of the installation a provider library in the binding directory links to, if any. */
export function installedManifest(dir = bindingDir()): GpuManifest | null {
  const release = installedDir(dir);
  try {
    return release ? (JSON.parse(readFileSync(join(release, GPU_MANIFEST), 'utf8')) as GpuManifest) : null;
  } catch {
    return null;
  }
}

/** What keeps a provider's libraries from being used as installed, or null (then only the driver is left). */
export function libraryProblem(provider: 'cuda' | 'tensorrt', dir = bindingDir()): string | null {
  const lib = PROVIDER_LIBS[provider];
  if (!existsSync(join(dir, PROVIDER_LIBS.shared)) || !existsSync(join(dir, lib)))
    return `${lib} is not beside libonnxruntime.so.1 in ${dir} (run \`percept gpu install${provider === 'tensorrt' ? ' --tensorrt' : ''}\`)`;
  return versionMismatch(dir);
}

/**
 * The installed provider libraries are of another onnxruntime than the binding (onnxruntime-node was
 * upgraded since `percept gpu install`): the provider bridge has no stable ABI, so they must not be loaded.
 */
export function versionMismatch(dir = bindingDir()): string | null {
  const m = installedManifest(dir);
  const version = ortVersion();
  if (m && m.onnxruntime !== version)
    return `the provider libraries in ${dir} are from onnxruntime ${m.onnxruntime}, the binding is ${version} (run \`percept gpu install\` again)`;
  return null;
}

/**
 * One line saying why a GPU provider did not load, from the facts of this machine; onnxruntime's own
 * message ("Failed to load shared library") follows it. Other providers get their message unchanged.
 */
export function explainProviderFailure(provider: string, message: string): string {
  if (provider !== 'cuda' && provider !== 'tensorrt') return message;
  const driver = driverProblem();
  const checkable = process.arch === 'x64' || fromSource();
  const libraries = checkable ? libraryProblem(provider) : null;
  const why = [driver, libraries].filter(Boolean);
  // Libraries in place: onnxruntime's message names no cause (its log does), ldd does.
  if (!libraries && checkable) {
    const missing = unresolved(join(bindingDir(), PROVIDER_LIBS[provider])).filter((s) => !(driver && s === 'libcuda.so.1'));
    if (missing.length) why.push(`the loader cannot find ${missing.join(', ')} (percept gpu status)`);
  }
  return why.length ? `${why.join('; ')} (onnxruntime: ${message})` : message;
}
