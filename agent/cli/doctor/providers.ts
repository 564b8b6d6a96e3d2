// Which onnxruntime execution providers load here, and why the others do not: each one creates a session
// on a tiny model and runs it, in its own child process (a provider library can abort the process that
// loads it). A provider the config asks for that does not load fails; one it does not ask for only warns.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fail, ok, warn, type Check, type Result } from './check.js';
import { runProbe, stripAnsi, type ProbeAnswer } from './exec.js';

/** Every provider doctor tries, whatever the config says: the ones onnxruntime-node can have on Linux. */
export const KNOWN_PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'webgpu'];

/** Where the GPU provider libraries come from; one place, so it can name the installer's command once there is one. */
export function gpuLibrariesFix(runtime: string): string {
  return `sudo percept gpu install (the provider libraries of onnxruntime-gpu ${runtime || '(onnxruntime-node’s version)'} and the CUDA libraries they need, beside libonnxruntime.so.1; offline: --wheels DIR)`;
}

/** The loader's own line, which says which library failed and why (the thrown error only says "Failed to load shared library"). */
export function loaderReason(stderr: string): string | null {
  const m = /Failed to load library (\S+) with error: (.+)$/m.exec(stripAnsi(stderr));
  if (!m) return null;
  const [, lib, why] = m;
  return `${basename(lib!)}: ${why!.replace(`${lib}: `, '').trim()}`;
}

function nvidiaDriver(): string | null {
  try {
    return /Kernel Module\s+([\d.]+)/.exec(readFileSync('/proc/driver/nvidia/version', 'utf8'))?.[1] ?? 'present';
  } catch {
    return null;
  }
}

export interface ProviderFacts {
  arch: string;
  jetson: boolean;
  /** The NVIDIA driver's version; null when none is loaded. */
  driver: string | null;
}

/** Why `name` does not load, and what to do: pure, from the probe's answer and a few facts about the machine. */
export function whyNot(name: string, a: ProbeAnswer & { stderr: string }, facts: ProviderFacts): { reason: string; fix: string } {
  const gpu = name === 'cuda' || name === 'tensorrt';
  const error = String(a.ok ? '' : a.error);
  if (a.inBuild === false) {
    if (gpu && facts.arch === 'arm64')
      return {
        reason: `${error}: npm's linux-arm64 onnxruntime-node is CPU-only`,
        fix: 'build onnxruntime with CUDA/TensorRT for JetPack and put it in node_modules/onnxruntime-node (docs/jetson.md)',
      };
    return { reason: error, fix: `use an onnxruntime-node build with ${name}` };
  }
  if (name === 'webgpu') {
    const adapter = /Failed to get a WebGPU adapter: (.+)/.exec(error)?.[1];
    return {
      reason: adapter ? `no WebGPU adapter (${adapter.trim()})` : error,
      fix: 'needs a GPU with a Vulkan driver (vulkaninfo --summary lists it)',
    };
  }
  const loader = loaderReason(a.stderr);
  const noDriver = gpu && !facts.jetson && facts.driver === null;
  const reason = [loader ?? error, ...(noDriver ? ['no NVIDIA driver loaded (no /proc/driver/nvidia/version)'] : [])].join('; ');
  if (!gpu) return { reason, fix: `see the error; onnxruntime's documentation for the ${name} provider says what it needs` };
  const driverFix = 'install the NVIDIA driver (nvidia-smi must list the GPU)';
  if (noDriver && !loader) return { reason, fix: driverFix };
  return { reason, fix: `${gpuLibrariesFix(String(a.runtime ?? ''))}${noDriver ? `; ${driverFix}` : ''}` };
}

export function providerResult(name: string, position: number, a: ProbeAnswer & { stderr: string }, facts: ProviderFacts): Result {
  const runtime = a.runtime ? `onnxruntime ${String(a.runtime)}` : 'onnxruntime';
  const asked = position >= 0 ? `inference.providers #${position + 1}` : 'not in inference.providers';
  if (a.ok) return ok(`loads and runs a tiny model (${runtime}); ${asked}`);
  const { reason, fix } = whyNot(name, a, facts);
  if (position < 0) return warn(`does not load: ${reason}; not needed (${asked})`, `only to use ${name}: ${fix}`);
  return fail(`does not load: ${reason}; asked for by ${asked}`, `${fix}; or remove ${name} from inference.providers`);
}

export function providerChecks(configured: readonly string[]): Check[] {
  const facts: ProviderFacts = { arch: process.arch, jetson: existsSync('/etc/nv_tegra_release'), driver: nvidiaDriver() };
  const names = [...new Set([...configured, ...KNOWN_PROVIDERS])];
  return names.map((name) => ({
    id: `provider.${name}`,
    // A real GPU initialises CUDA and may build a TensorRT engine, even for a tiny model: seconds, not minutes.
    timeoutMs: 90_000,
    run: async (signal) => providerResult(name, configured.indexOf(name), await runProbe(['provider', name], 85_000, signal), facts),
  }));
}
