// percept gpu install on this machine kind (no NVIDIA GPU): the refusal, and the whole install path from a
// directory of wheels built here — tiny real ELF libraries compiled with the sonames and NEEDED entries of
// the real ones (libonnxruntime_providers_cuda.so needs libcudart.so.12, cuBLAS, cuRAND and the driver's
// libcuda.so.1), zipped under the member paths the real wheels use. ldd runs on them for real.
// The binding directory and the loader configuration are redirected to temporary paths: a test must not
// touch node_modules (shared) or /etc/ld.so.conf.d.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runPercept } from '../helpers/agent-process.js';
import { driverProblem, explainProviderFailure, ortVersion, versionMismatch } from '../../agent/inference/gpu-runtime.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-gpu-');
const build = join(work, 'build');
const wheels = join(work, 'wheels');
const binding = join(work, 'binding');
const ldconf = join(work, 'ld.so.conf.d', 'percept-gpu.conf');
mkdirSync(build);
mkdirSync(wheels);
mkdirSync(binding);
const env = { PERCEPT_ORT_BINDING_DIR: binding, PERCEPT_GPU_LDCONF: ldconf };

/** A shared library with this soname, linked against `needs` (other libraries built here). */
function lib(soname: string, needs: string[] = []): string {
  const src = join(build, `${soname}.c`);
  writeFileSync(src, `int ${soname.replace(/\W/g, '_')}(void) { return 1; }\n`);
  const out = join(build, soname);
  const r = spawnSync(
    'gcc',
    ['-shared', '-fPIC', '-o', out, src, `-Wl,-soname,${soname}`, '-Wl,--no-as-needed', `-L${build}`, ...needs.map((n) => `-l:${n}`)],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** A wheel named as pip names them, holding `files` (member path → built library). */
function wheel(file: string, files: Record<string, string>, dir = wheels): void {
  const root = mkdtempSync(join(work, 'tree-'));
  for (const [member, from] of Object.entries(files)) {
    mkdirSync(dirname(join(root, member)), { recursive: true });
    writeFileSync(join(root, member), readFileSync(from));
  }
  const top = [...new Set(Object.keys(files).map((m) => m.split('/')[0]!))];
  const r = spawnSync('python3', ['-m', 'zipfile', '-c', join(dir, file), ...top], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

const version = ortVersion();
lib('libcuda.so.1'); // link-time stand-in for the driver's library: in no wheel, so ldd cannot find it
const nvinfer = lib('libnvinfer.so.10'); // in a wheel only for the last test
const cudart = lib('libcudart.so.12');
const cublasLt = lib('libcublasLt.so.12');
const cublas = lib('libcublas.so.12', ['libcublasLt.so.12']);
const cuda = lib('libonnxruntime_providers_cuda.so', ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcuda.so.1']);
wheel(`onnxruntime_gpu-${version}-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl`, {
  'onnxruntime/capi/libonnxruntime_providers_shared.so': lib('libonnxruntime_providers_shared.so'),
  'onnxruntime/capi/libonnxruntime_providers_cuda.so': cuda,
  'onnxruntime/capi/libonnxruntime_providers_tensorrt.so': lib('libonnxruntime_providers_tensorrt.so', ['libcudart.so.12', 'libnvinfer.so.10']),
  'onnxruntime/capi/onnxruntime_pybind11_state.so': lib('onnxruntime_pybind11_state.so'),
});
wheel('nvidia_cuda_runtime_cu12-12.9.79-py3-none-manylinux_2_17_x86_64.whl', { 'nvidia/cuda_runtime/lib/libcudart.so.12': cudart });
wheel('nvidia_cublas_cu12-12.9.1.4-py3-none-manylinux_2_27_x86_64.whl', {
  'nvidia/cublas/lib/libcublas.so.12': cublas,
  'nvidia/cublas/lib/libcublasLt.so.12': cublasLt,
});
wheel('nvidia_cufft_cu12-11.4.1.4-py3-none-manylinux_2_27_x86_64.whl', { 'nvidia/cufft/lib/libcufft.so.11': lib('libcufft.so.11') });
wheel('nvidia_curand_cu12-10.3.10.19-py3-none-manylinux_2_27_x86_64.whl', { 'nvidia/curand/lib/libcurand.so.10': lib('libcurand.so.10') });
wheel('nvidia_cuda_nvrtc_cu12-12.9.86-py3-none-manylinux_2_27_x86_64.whl', { 'nvidia/cuda_nvrtc/lib/libnvrtc.so.12': lib('libnvrtc.so.12') });
const cudnnWheel = 'nvidia_cudnn_cu12-9.10.2.21-py3-none-manylinux_2_27_x86_64.whl';
wheel(cudnnWheel, { 'nvidia/cudnn/lib/libcudnn.so.9': lib('libcudnn.so.9', ['libcudart.so.12']) });
// A cuDNN 8 wheel beside it must not be chosen: the provider needs 9.
wheel('nvidia_cudnn_cu12-8.9.7.29-py3-none-manylinux1_x86_64.whl', { 'nvidia/cudnn/lib/libcudnn.so.8': lib('libcudnn.so.8') });

/** Everything under a directory, as relative paths (to show nothing was left behind). */
const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);

test(
  'without an NVIDIA GPU: one line saying why, exit 1, nothing written; --dry-run says what it would do',
  { skip: !driverProblem() && 'this machine has a GPU' },
  async () => {
    const dest = join(work, 'refused');
    const res = await runPercept(['gpu', 'install', '--wheels', wheels, '--dest', dest], env);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(
      res.stderr,
      /^percept gpu: no NVIDIA GPU or driver here \(no \/dev\/nvidia0, no libcuda\.so\.1 known to the loader\).*nothing installed \(--force installs anyway\)\n$/,
    );
    assert.equal(existsSync(dest), false);
    assert.deepEqual(
      listing(work).filter((f) => /staging|refused/.test(f)),
      [],
    );
    assert.deepEqual(listing(binding), []);

    const dry = await runPercept(['gpu', 'install', '--dry-run', '--dest', dest], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would install the provider libraries of onnxruntime-gpu==${version.replaceAll('.', '\\.')}`));
    assert.equal(existsSync(dest), false);
  },
);

test('arm64: refused in one line pointing to the Jetson recipe, even with --force; the agent says the same', () => {
  // process.arch stood in for: this runs on x86_64. npm's arm64 binding has no GPU code to link against.
  const script = `Object.defineProperty(process, 'arch', { value: 'arm64' });
    const rt = await import(${JSON.stringify(new URL('../../agent/inference/gpu-runtime.js', import.meta.url).href)});
    const { main } = await import(${JSON.stringify(new URL('../../agent/cli/main.js', import.meta.url).href)});
    console.log(rt.explainProviderFailure('cuda', 'backend not found'));
    process.exitCode = await main(['gpu', 'install', '--force', '--wheels', ${JSON.stringify(wheels)}, '--dest', ${JSON.stringify(join(work, 'arm'))}]);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 1, r.stderr);
  const jetson =
    /arm64: npm's onnxruntime-node for linux-arm64 has no CUDA or TensorRT code at all; on a Jetson build onnxruntime from source \(docs\/jetson.md\)/;
  assert.match(r.stdout, new RegExp(`^${jetson.source} \\(onnxruntime: backend not found\\)\n$`));
  assert.match(r.stderr, new RegExp(`^percept gpu: ${jetson.source}\n$`));
  assert.equal(existsSync(join(work, 'arm')), false);
});

test('--wheels DIR --force: staged, checked with ldd (only libcuda.so.1 unresolved), swapped in, linked beside the binding', async () => {
  const dest = join(work, 'gpu');
  const res = await runPercept(['gpu', 'install', '--wheels', wheels, '--dest', dest, '--force'], env);
  assert.equal(res.code, 0, res.stderr);
  assert.match(
    res.stdout,
    /CUDA 12; wheels: nvidia-cuda-runtime-cu12, nvidia-cublas-cu12, nvidia-cufft-cu12, nvidia-curand-cu12, nvidia-cuda-nvrtc-cu12, nvidia-cudnn-cu12/,
  );
  assert.match(res.stdout, /ldd libonnxruntime_providers_cuda\.so: \d+ libraries, unresolved: libcuda\.so\.1\n/);
  const manifest = JSON.parse(readFileSync(join(dest, 'current', 'gpu.json'), 'utf8')) as {
    onnxruntime: string;
    cudaMajor: number;
    tensorrtMajor: null;
    libraries: string[];
  };
  assert.equal(manifest.onnxruntime, version);
  assert.equal(manifest.cudaMajor, 12);
  assert.equal(manifest.tensorrtMajor, null);
  // Only the shared libraries needed: no Python module, no TensorRT provider without --tensorrt, cuDNN 9 not 8.
  assert.deepEqual(manifest.libraries, [
    'libcublas.so.12',
    'libcublasLt.so.12',
    'libcudart.so.12',
    'libcudnn.so.9',
    'libcufft.so.11',
    'libcurand.so.10',
    'libnvrtc.so.12',
    'libonnxruntime_providers_cuda.so',
    'libonnxruntime_providers_shared.so',
  ]);
  assert.deepEqual(listing(join(dest, 'current', 'lib')), manifest.libraries);
  assert.deepEqual(readdirSync(dest).sort(), [`${version}-cuda12`, 'current']);
  // Readable by the service's dynamic user (the staging directory was made 0700).
  for (const p of [join(dest, `${version}-cuda12`), join(dest, 'current', 'lib'), join(dest, 'current', 'lib', 'libcudart.so.12')])
    assert.equal(statSync(p).mode & 0o755, 0o755, p);
  assert.equal(readlinkSync(join(binding, 'libonnxruntime_providers_cuda.so')), join(dest, 'current', 'lib', 'libonnxruntime_providers_cuda.so'));
  assert.equal(existsSync(join(binding, 'libonnxruntime_providers_tensorrt.so')), false);
  assert.equal(readFileSync(ldconf, 'utf8').trim().split('\n').at(-1), join(dest, 'current', 'lib'));

  // The agent loads these links only while they belong to its onnxruntime release.
  assert.equal(versionMismatch(binding), null);
  const file = join(dest, 'current', 'gpu.json');
  writeFileSync(file, JSON.stringify({ ...manifest, onnxruntime: '0.0.1' }));
  assert.match(versionMismatch(binding) ?? '', /from onnxruntime 0\.0\.1, the binding is .* \(run `percept gpu install` again\)/);
  // `gpu link` (the package's postinst, after an upgrade) takes such links away instead of renewing them.
  const relink = await runPercept(['gpu', 'link', '--dest', dest], env);
  assert.equal(relink.code, 1);
  assert.match(relink.stderr, /current is for onnxruntime 0\.0\.1, this binding is .*: run `percept gpu install` again/);
  assert.deepEqual(listing(binding), []);
  writeFileSync(file, JSON.stringify(manifest));
  const link = await runPercept(['gpu', 'link', '--dest', dest], env);
  assert.equal(link.code, 0, link.stderr);
  assert.equal(readlinkSync(join(binding, 'libonnxruntime_providers_cuda.so')), join(dest, 'current', 'lib', 'libonnxruntime_providers_cuda.so'));
  // Libraries in place but not known to the loader: the agent's line names what is missing (ldd).
  process.env.PERCEPT_ORT_BINDING_DIR = binding;
  try {
    const line = explainProviderFailure('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    assert.match(line, /the loader cannot find libcudart\.so\.12, libcublas\.so\.12, libcublasLt\.so\.12 \(percept gpu status\) \(onnxruntime: .*\)$/);
  } finally {
    delete process.env.PERCEPT_ORT_BINDING_DIR;
  }

  const status = await runPercept(['gpu', 'status'], env);
  assert.match(status.stdout, new RegExp(`installed +onnxruntime ${version.replaceAll('.', '\\.')}, CUDA 12, TensorRT no`));
  assert.match(status.stdout, new RegExp(`installed .* in ${join(dest, `${version}-cuda12`)}\n`));
  // Status asks the real loader, and this test's loader configuration is a temporary file: so the CUDA
  // libraries show as unresolved, as they would to the agent.
  assert.match(status.stdout, /cuda +ldd: unresolved libcudart\.so\.12, .*libcuda\.so\.1\n/);
  assert.equal(status.code, 1);
});

test('a missing wheel or a library ldd cannot resolve: refused naming it, the installed release untouched, no staging left', async () => {
  const dest = join(work, 'gpu');
  const before = listing(dest);
  assert.ok(before.length, 'the previous test installed a release');
  const short = mkdtempSync(join(work, 'wheels-short-'));
  for (const f of readdirSync(wheels)) if (!f.startsWith('nvidia_cudnn')) writeFileSync(join(short, f), readFileSync(join(wheels, f)));
  const missing = await runPercept(['gpu', 'install', '--wheels', short, '--dest', dest, '--force'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^percept gpu: no wheel in .* for nvidia-cudnn-cu12>=9,<10 \(cuDNN 9\)\n$/m);

  // A cuDNN whose own dependency is in no wheel: ldd says so, and nothing changes.
  lib('libz-absent.so.1');
  wheel(cudnnWheel, { 'nvidia/cudnn/lib/libcudnn.so.9': lib('libcudnn.so.9', ['libz-absent.so.1']) }, short);
  const broken = await runPercept(['gpu', 'install', '--wheels', short, '--dest', dest, '--force'], env);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /libraries that would not load \(ldd\): libcudnn\.so\.9 needs libz-absent\.so\.1; nothing installed/);

  const trt = await runPercept(['gpu', 'install', '--wheels', wheels, '--dest', dest, '--force', '--tensorrt'], env);
  assert.equal(trt.code, 1);
  assert.match(trt.stderr, /no wheel in .* for tensorrt-cu12-libs>=10,<11 \(TensorRT 10\)/);

  assert.deepEqual(listing(dest), before);
  assert.deepEqual(
    readdirSync(work).filter((f) => f.includes('staging')),
    [],
  );
});

test('--tensorrt: the TensorRT major its provider links (libnvinfer.so.10) picks the wheel; its provider is linked too', async () => {
  const dest = join(work, 'gpu');
  wheel('tensorrt_cu12_libs-11.4.0.106-py2.py3-none-manylinux_2_28_x86_64.whl', { 'tensorrt_libs/libnvinfer.so.11': lib('libnvinfer.so.11') });
  wheel('tensorrt_cu12_libs-10.13.3.9-py2.py3-none-manylinux_2_28_x86_64.whl', { 'tensorrt_libs/libnvinfer.so.10': nvinfer });
  writeFileSync(join(dest, 'notes.txt'), 'not ours\n');
  const res = await runPercept(['gpu', 'install', '--wheels', wheels, '--dest', dest, '--force', '--tensorrt'], env);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /CUDA 12, TensorRT 10; wheels: .*tensorrt-cu12-libs/);
  assert.match(res.stdout, /ldd libonnxruntime_providers_tensorrt\.so: \d+ libraries, unresolved: none\n/);
  const manifest = JSON.parse(readFileSync(join(dest, 'current', 'gpu.json'), 'utf8')) as { tensorrtMajor: number; libraries: string[] };
  assert.equal(manifest.tensorrtMajor, 10);
  assert.ok(manifest.libraries.includes('libnvinfer.so.10') && !manifest.libraries.includes('libnvinfer.so.11'));
  // The release replaced the previous one whole; what was not a release is left alone.
  assert.deepEqual(readdirSync(dest).sort(), [`${version}-cuda12-trt10`, 'current', 'notes.txt']);
  assert.equal(readlinkSync(join(binding, 'libonnxruntime_providers_tensorrt.so')), join(dest, 'current', 'lib', 'libonnxruntime_providers_tensorrt.so'));
});

test.after(() => rmSync(work, { recursive: true, force: true }));
