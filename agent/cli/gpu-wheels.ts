// The Python wheels that carry onnxruntime's GPU provider libraries and the CUDA libraries they need:
// which ones, fetched with pip or found in a directory of wheels, and their shared libraries extracted.
//
// Extraction uses `unzip` (Debian's unzip package, 180 kB): it extracts only the named members, flattened
// (-j), streaming, and reads zip64. `python3 -m zipfile -e` can only extract a whole archive (TensorRT's
// wheel unpacks to gigabytes), and a kiosk without pip has no reason to carry python3. Node has no zip reader.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface WheelSpec {
  /** The project name as pip knows it. */
  name: string;
  /** A pip requirement specifier, e.g. "==1.30.0" or ">=10,<11". */
  spec: string;
  /** What it is for, in messages. */
  why: string;
}

export interface FoundWheel {
  spec: WheelSpec;
  path: string;
  version: string;
}

/** onnxruntime-gpu of exactly onnxruntime-node's version: its provider libraries are built for that release only. */
export const ortWheel = (version: string): WheelSpec => ({ name: 'onnxruntime-gpu', spec: `==${version}`, why: 'the provider libraries' });

/**
 * The CUDA runtime wheels for the CUDA major the provider libraries were linked against (their NEEDED
 * libcudart.so.N). NVIDIA names CUDA 12 wheels with a -cu12 suffix and CUDA 13 ones without (the -cu13
 * names are deprecated stubs), except cuDNN. cuDNN is opened by the provider at run time (dlopen, not in
 * its NEEDED); NVRTC is what cuDNN's runtime-compiled engines need.
 */
export function cudaWheels(cudaMajor: number): WheelSpec[] {
  const suffix = cudaMajor >= 13 ? '' : `-cu${cudaMajor}`;
  const major = `>=${cudaMajor},<${cudaMajor + 1}`;
  return [
    { name: `nvidia-cuda-runtime${suffix}`, spec: major, why: `libcudart.so.${cudaMajor}` },
    { name: `nvidia-cublas${suffix}`, spec: major, why: 'cuBLAS and cuBLASLt' },
    { name: `nvidia-cufft${suffix}`, spec: '', why: 'cuFFT' },
    { name: `nvidia-curand${suffix}`, spec: '', why: 'cuRAND' },
    { name: `nvidia-cuda-nvrtc${suffix}`, spec: major, why: "NVRTC (cuDNN's runtime-compiled engines)" },
    { name: `nvidia-cudnn-cu${cudaMajor}`, spec: '>=9,<10', why: 'cuDNN 9' },
  ];
}

/** TensorRT of the major its provider library was linked against (NEEDED libnvinfer.so.N). */
export const tensorrtWheel = (cudaMajor: number, trtMajor: number): WheelSpec => ({
  name: `tensorrt-cu${cudaMajor}-libs`,
  spec: `>=${trtMajor},<${trtMajor + 1}`,
  why: `TensorRT ${trtMajor}`,
});

/** PEP 503 normalisation, as wheel file names carry it (with underscores). */
const normal = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '_');

function versionKey(v: string): number[] {
  return v.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
}

function compareVersions(a: string, b: string): number {
  const x = versionKey(a);
  const y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** Whether a version meets the few specifier forms used here: "", "==V", ">=A,<B". */
export function satisfies(version: string, spec: string): boolean {
  if (!spec) return true;
  if (spec.startsWith('==')) return version === spec.slice(2);
  return spec.split(',').every((part) => {
    const m = /^(>=|<)(.+)$/.exec(part.trim());
    if (!m) return false;
    const c = compareVersions(version, m[2]!);
    return m[1] === '>=' ? c >= 0 : c < 0;
  });
}

/** The newest wheel in `dir` for this spec that runs on linux x86_64, or null. */
export function findWheel(dir: string, spec: WheelSpec): FoundWheel | null {
  const found: FoundWheel[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.whl')) continue;
    const [dist, version, ...tags] = file.slice(0, -4).split('-');
    if (!dist || !version || normal(dist) !== normal(spec.name)) continue;
    const platform = tags.at(-1) ?? '';
    if (!/x86_64|(^|\.)any$/.test(platform)) continue;
    if (satisfies(version, spec.spec)) found.push({ spec, path: join(dir, file), version });
  }
  found.sort((a, b) => compareVersions(b.version, a.version));
  return found[0] ?? null;
}

/** manylinux tags this machine's glibc runs, for pip's --platform (a wheel is chosen for the kiosk, not for pip's Python). */
export function manylinuxTags(): string[] {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const minor = Number((header?.glibcVersionRuntime ?? '2.28').split('.')[1] ?? 28);
  const tags = ['manylinux2014_x86_64'];
  for (let m = 17; m <= minor; m++) tags.push(`manylinux_2_${m}_x86_64`);
  return tags;
}

/**
 * `pip download --no-deps --only-binary=:all:` of these specs into `dir`, for linux x86_64 whatever
 * Python pip runs on (the libraries do not depend on it; onnxruntime-gpu's wheels are per Python version,
 * so one that is published is named). Throws with pip's last lines when it fails.
 */
export function pipDownload(specs: WheelSpec[], dir: string): void {
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--python-version', '3.12', '--dest', dir];
  for (const tag of manylinuxTags()) args.push('--platform', tag);
  args.push(...specs.map((s) => `${s.name}${s.spec}`));
  const r = spawnSync('python3', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`python3 -m pip could not run (${r.error.message}): install python3-pip, or pass --wheels DIR`);
  if (r.status !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`pip download ${specs.map((s) => s.name + s.spec).join(' ')} failed: ${tail} (offline? pass --wheels DIR)`);
  }
}

/** In 8 MB chunks: a cuDNN wheel is over half a gigabyte, a kiosk may have 4 GB of memory. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(8 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The names of a wheel's members. */
function members(wheel: string): string[] {
  const r = spawnSync('unzip', ['-Z1', wheel], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`unzip is needed to read wheels (${r.error.message}): apt-get install unzip`);
  if (r.status !== 0) throw new Error(`${wheel} is not a readable wheel: ${(r.stderr || '').trim()}`);
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Extracts the shared libraries of `wheel` into `dir` (flattened): those named in `only` (by file name),
 * else every `*.so` / `*.so.N…` except Python extension modules. Returns the file names extracted.
 */
export function extractLibraries(wheel: string, dir: string, only?: readonly string[]): string[] {
  const wanted = members(wheel).filter((m) => {
    const base = m.split('/').at(-1) ?? '';
    if (only) return only.includes(base);
    return /\.so(\.\d+)*$/.test(base) && !/\.cpython-|_pybind11_|\.abi3\.so$/.test(base);
  });
  if (!wanted.length) return [];
  const r = spawnSync('unzip', ['-o', '-j', '-q', wheel, ...wanted, '-d', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`unzip ${wheel} failed: ${(r.stderr || r.stdout).trim()}`);
  return wanted.map((m) => m.split('/').at(-1)!);
}
