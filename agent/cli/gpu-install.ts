// percept gpu install: the CUDA (and TensorRT) provider libraries of onnxruntime-node's exact version and
// the CUDA libraries they need, taken from Python wheels (pip or a directory of them: kiosks are often
// offline) instead of the package feed onnxruntime-node's install script would fetch them from.
//
// Layout and why (see agent/inference/gpu-runtime.ts for how the binding loads providers):
// - DEST/<release>/lib/ holds every library, DEST/<release>/gpu.json what they are; DEST/current links to
//   the release in use. DEST (/var/lib/percept-gpu) is outside the package's files, so upgrades keep it,
//   and outside the service's StateDirectory, which systemd would chown to the service's dynamic user.
// - The three provider libraries are symlinked into the binding directory: the binding opens them there
//   by absolute path and nowhere else. `percept gpu link` (the package's postinst) redoes that after an
//   upgrade replaced the directory; the agent refuses links to another onnxruntime release.
// - The CUDA libraries are found through /etc/ld.so.conf.d/percept-gpu.conf and ldconfig: the provider
//   libraries carry no RUNPATH, and cuDNN is opened by soname at run time. Unlike LD_LIBRARY_PATH (read
//   once at process start, so only a unit drop-in would set it), this holds for the service, a shell and
//   ldd alike, which is also how the CUDA toolkit installs itself.
// Nothing is half-installed: everything is staged beside DEST, checked with ldd, then swapped in by one rename.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { bindingDir, driverProblem, GPU_MANIFEST, ortVersion, PROVIDER_LIBS, unresolved, type GpuManifest } from '../inference/gpu-runtime.js';

import { cudaWheels, extractLibraries, findWheel, ortWheel, pipDownload, sha256File, tensorrtWheel, type FoundWheel, type WheelSpec } from './gpu-wheels.js';

export const DEFAULT_GPU_DEST = '/var/lib/percept-gpu';
/** A release directory's name: <onnxruntime version>-cuda<N>[-trt<M>]. */
const RELEASE_NAME = /^\d+\.\d+\.\d+[^/]*-cuda\d+(-trt\d+)?$/;
/** Overridable for tests, which must not touch the machine's loader configuration. */
const LDCONF = () => process.env.PERCEPT_GPU_LDCONF ?? '/etc/ld.so.conf.d/percept-gpu.conf';

export interface InstallArgs {
  wheels?: string;
  dest?: string;
  dryRun: boolean;
  tensorrt: boolean;
  force: boolean;
}

const say = (m: string) => process.stdout.write(`${m}\n`);

/** Thrown for a refusal: one line on stderr, exit 1, nothing changed. */
export class GpuRefusal extends Error {}

/** Every soname a library names (ldd's whole list, resolved or not). */
function needed(lib: string, libDir: string): string[] {
  const r = spawnSync('ldd', [lib], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: libDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  return [...r.stdout.matchAll(/^\s*(\S+\.so[.\d]*) (?:=>|\()/gm)].map((m) => m[1]!);
}

/** The soname major a library links for `stem` (libcudart → 12), or null. */
function majorOf(sonames: string[], stem: string): number | null {
  for (const s of sonames) {
    const m = new RegExp(`^${stem}\\.so\\.(\\d+)`).exec(s);
    if (m) return Number(m[1]);
  }
  return null;
}

/** A wheel from --wheels, or downloaded by pip into the staging directory. */
function obtain(specs: WheelSpec[], wheelsDir: string | undefined, downloadDir: string): FoundWheel[] {
  if (!wheelsDir) pipDownload(specs, downloadDir);
  const from = wheelsDir ?? downloadDir;
  const missing = specs.filter((s) => !findWheel(from, s));
  if (missing.length) throw new GpuRefusal(`no wheel in ${from} for ${missing.map((s) => `${s.name}${s.spec} (${s.why})`).join(', ')}`);
  return specs.map((s) => findWheel(from, s)!);
}

/** Sonames that may stay unresolved: the driver's own library, and TensorRT's when it was not asked for. */
function allowedMissing(soname: string, tensorrt: boolean): boolean {
  if (soname === 'libcuda.so.1') return true;
  return !tensorrt && /^libnv(infer|onnxparser)/.test(soname);
}

interface Staged {
  release: string;
  manifest: GpuManifest;
}

function stage(args: InstallArgs, version: string, stageDir: string): Staged {
  const lib = join(stageDir, 'lib');
  const downloads = join(stageDir, 'downloads');
  mkdirSync(lib, { recursive: true });
  mkdirSync(downloads);
  const [ort] = obtain([ortWheel(version)], args.wheels, downloads);
  const providers = [PROVIDER_LIBS.shared, PROVIDER_LIBS.cuda, ...(args.tensorrt ? [PROVIDER_LIBS.tensorrt] : [])];
  const got = extractLibraries(ort!.path, lib, providers);
  const absent = providers.filter((p) => !got.includes(p));
  if (absent.length) throw new GpuRefusal(`${basename(ort!.path)} has no ${absent.join(', ')}: not an onnxruntime-gpu wheel for Linux x86_64?`);
  const cudaMajor = majorOf(needed(join(lib, PROVIDER_LIBS.cuda), lib), 'libcudart');
  if (cudaMajor === null) throw new GpuRefusal(`${PROVIDER_LIBS.cuda} in ${basename(ort!.path)} links no libcudart.so.N: cannot tell its CUDA version`);
  const trtMajor = args.tensorrt ? majorOf(needed(join(lib, PROVIDER_LIBS.tensorrt), lib), 'libnvinfer') : null;
  if (args.tensorrt && trtMajor === null) throw new GpuRefusal(`${PROVIDER_LIBS.tensorrt} links no libnvinfer.so.N: cannot tell its TensorRT version`);
  const specs = [...cudaWheels(cudaMajor), ...(trtMajor !== null ? [tensorrtWheel(cudaMajor, trtMajor)] : [])];
  say(`onnxruntime ${version}: CUDA ${cudaMajor}${trtMajor !== null ? `, TensorRT ${trtMajor}` : ''}; wheels: ${specs.map((s) => s.name).join(', ')}`);
  const wheels = [ort!, ...obtain(specs, args.wheels, downloads)];
  for (const w of wheels.slice(1)) extractLibraries(w.path, lib);
  const libraries = readdirSync(lib).sort();
  // Readable by the service's dynamic user: mkdtemp makes 0700, and wheels may carry odd modes.
  for (const f of libraries) chmodSync(join(lib, f), 0o755);
  for (const d of [stageDir, lib]) chmodSync(d, 0o755);
  // Every library must resolve from here or the system, except the driver's (and TensorRT's without --tensorrt).
  const problems: string[] = [];
  for (const file of libraries) {
    const missing = unresolved(join(lib, file), lib).filter((s) => !allowedMissing(s, args.tensorrt));
    if (missing.length) problems.push(`${file} needs ${missing.join(', ')}`);
  }
  if (problems.length) throw new GpuRefusal(`libraries that would not load (ldd): ${problems.join('; ')}; nothing installed`);
  for (const p of providers) {
    const left = unresolved(join(lib, p), lib);
    say(`ldd ${p}: ${needed(join(lib, p), lib).length} libraries, unresolved: ${left.length ? left.join(', ') : 'none'}`);
  }
  const manifest: GpuManifest = {
    onnxruntime: version,
    cudaMajor,
    tensorrtMajor: trtMajor,
    wheels: wheels.map((w) => ({ file: basename(w.path), sha256: sha256File(w.path) })),
    libraries,
    installedAt: new Date().toISOString(),
  };
  rmSync(downloads, { recursive: true, force: true });
  writeFileSync(join(stageDir, GPU_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { release: `${version}-cuda${cudaMajor}${trtMajor !== null ? `-trt${trtMajor}` : ''}`, manifest };
}

/** Replaces `link` by a symlink to `target` in one rename (no moment without it). */
function swapLink(target: string, link: string): void {
  const tmp = `${link}.new-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/**
 * Links the installed provider libraries into the binding directory and names the library directory to
 * the loader. Idempotent: the package's postinst runs it after every upgrade. Returns what it did.
 */
export function linkInstalled(dest: string): string[] {
  const current = join(dest, 'current');
  const lib = join(current, 'lib');
  if (!existsSync(join(current, GPU_MANIFEST))) return [];
  const dir = bindingDir();
  const done: string[] = [];
  const installed = (JSON.parse(readFileSync(join(current, GPU_MANIFEST), 'utf8')) as GpuManifest).onnxruntime;
  const version = ortVersion();
  if (installed !== version) {
    // After an upgrade of onnxruntime-node: the old release's providers must not be offered to the new binding.
    for (const name of Object.values(PROVIDER_LIBS)) rmSync(join(dir, name), { force: true });
    throw new GpuRefusal(
      `${dest}/current is for onnxruntime ${installed}, this binding is ${version}: run \`percept gpu install\` again (offline: --wheels DIR with onnxruntime-gpu ${version})`,
    );
  }
  for (const name of Object.values(PROVIDER_LIBS)) {
    if (existsSync(join(lib, name))) {
      swapLink(join(lib, name), join(dir, name));
      done.push(`${join(dir, name)} -> ${join(lib, name)}`);
    } else rmSync(join(dir, name), { force: true });
  }
  const conf = LDCONF();
  if (conf) {
    mkdirSync(dirname(conf), { recursive: true });
    writeFileSync(conf, `# Written by \`percept gpu install\`: the CUDA libraries of onnxruntime's GPU providers.\n${lib}\n`);
    done.push(`${conf}: ${lib}`);
    if (conf.startsWith('/etc/ld.so.conf.d/')) {
      const r = spawnSync('ldconfig', [], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`ldconfig failed (${r.error?.message ?? `exit ${r.status}`}): run it as root`);
    }
  }
  return done;
}

export function gpuInstall(args: InstallArgs): number {
  const dest = resolve(args.dest ?? DEFAULT_GPU_DEST);
  const version = ortVersion();
  const problem = driverProblem();
  // onnxruntime-gpu's aarch64 wheels are for SBSA servers (sm_90), not a Jetson's Tegra GPU: no --force.
  if (process.arch !== 'x64')
    throw new GpuRefusal(
      problem?.startsWith(`${process.arch}:`)
        ? problem
        : `${process.arch}: percept gpu install is for x86_64; on a Jetson build onnxruntime from source (docs/jetson.md)`,
    );
  if (problem && !args.force && !args.dryRun) throw new GpuRefusal(`${problem}; nothing installed (--force installs anyway)`);
  if (problem) process.stderr.write(`percept gpu: warning: ${problem}\n`);
  if (args.dryRun) {
    say(`would install the provider libraries of ${ortWheel(version).name}==${version}${args.tensorrt ? ' (with TensorRT)' : ''}`);
    say(`  from ${args.wheels ?? 'the pip registry (pip download)'} into ${dest}/current, linked into ${bindingDir()}`);
    say(
      `  plus the CUDA wheels its ${PROVIDER_LIBS.cuda} links (runtime, cuBLAS, cuFFT, cuRAND, NVRTC, cuDNN${args.tensorrt ? ', TensorRT' : ''}); loader config ${LDCONF() || '(none)'}`,
    );
    return 0;
  }
  mkdirSync(dirname(dest), { recursive: true });
  // Staged in (or, before the first install, beside) DEST: the same file system, so the final rename is atomic.
  const stageDir = mkdtempSync(existsSync(dest) ? join(dest, '.staging-') : `${dest}.staging-`);
  try {
    const { release, manifest } = stage(args, version, stageDir);
    mkdirSync(dest, { recursive: true });
    const releaseDir = join(dest, release);
    rmSync(releaseDir, { recursive: true, force: true });
    renameSync(stageDir, releaseDir);
    swapLink(release, join(dest, 'current'));
    // Earlier releases only, by their names: --dest may name a directory that holds other things too.
    for (const old of readdirSync(dest))
      if (old !== release && RELEASE_NAME.test(old) && existsSync(join(dest, old, GPU_MANIFEST))) rmSync(join(dest, old), { recursive: true, force: true });
    for (const line of linkInstalled(dest)) say(`linked ${line}`);
    say(`installed ${manifest.libraries.length} libraries for onnxruntime ${version} in ${releaseDir}`);
    // Checked again as the agent will load them: through the loader configuration just written, no LD_LIBRARY_PATH.
    if (!LDCONF().startsWith('/etc/')) return 0;
    const left = manifest.libraries.filter((f) => unresolved(join(dest, 'current', 'lib', f)).some((s) => !allowedMissing(s, args.tensorrt)));
    if (!left.length) return 0;
    process.stderr.write(`percept gpu: installed, but after ldconfig the loader still cannot resolve what ${left.join(', ')} need\n`);
    return 1;
  } finally {
    rmSync(stageDir, { recursive: true, force: true });
  }
}
