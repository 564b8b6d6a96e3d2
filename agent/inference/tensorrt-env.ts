// TensorRT options onnxruntime-node cannot pass: its binding forwards no provider options for tensorrt, but
// the TensorRT provider reads ORT_TENSORRT_* environment variables when none are passed (onnxruntime's
// TensorRT provider documentation, "Configurations"). Without an engine cache every start rebuilds every
// engine (minutes on a Jetson-class board); fp16 roughly halves inference time on GPUs with tensor cores.
//
// They must be in the process environment before the provider is created: set from the main thread
// (process.env there is the real environment; a worker thread's is a copy) before the worker starts.
// A value already in the environment is the operator's choice and is never overridden.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultStateDir } from '../lib/state-dir.js';

export interface TensorrtSettings {
  /** Build fp16 engines (tensor cores); default true. */
  fp16: boolean;
  /** Keep built engines in the cache directory so the next start loads them; default true. */
  engineCache: boolean;
  /** Where engines are cached; default <state dir>/trt-cache (writable by the service, kept on upgrades). */
  cacheDir: string;
  /** TensorRT's builder workspace limit in bytes; default 1 GiB, enough for percept's models and safe on 4 GB boards. */
  maxWorkspaceBytes: number;
}

export const DEFAULT_TRT_WORKSPACE_BYTES = 1024 ** 3;

export function tensorrtSettings(partial: Partial<TensorrtSettings> = {}, stateDir = defaultStateDir()): TensorrtSettings {
  return {
    fp16: partial.fp16 ?? true,
    engineCache: partial.engineCache ?? true,
    cacheDir: partial.cacheDir ?? join(stateDir, 'trt-cache'),
    maxWorkspaceBytes: partial.maxWorkspaceBytes ?? DEFAULT_TRT_WORKSPACE_BYTES,
  };
}

/** The ORT_TENSORRT_* variables for these settings, less those the environment already sets. */
export function tensorrtEnv(settings: TensorrtSettings, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const wanted: Record<string, string> = {
    ORT_TENSORRT_FP16_ENABLE: settings.fp16 ? '1' : '0',
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: settings.engineCache ? '1' : '0',
    ORT_TENSORRT_CACHE_PATH: settings.cacheDir,
    ORT_TENSORRT_MAX_WORKSPACE_SIZE: String(Math.floor(settings.maxWorkspaceBytes)),
  };
  return Object.fromEntries(Object.entries(wanted).filter(([k]) => env[k] === undefined || env[k] === ''));
}

/**
 * Sets the variables in `env` (the process environment by default) when tensorrt is among `providers`,
 * and makes the engine cache directory. Returns what it set.
 */
export function applyTensorrtEnv(
  providers: readonly string[],
  partial: Partial<TensorrtSettings> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  if (!providers.includes('tensorrt')) return {};
  const settings = tensorrtSettings(partial);
  const set = tensorrtEnv(settings, env);
  Object.assign(env, set);
  const cacheDir = env.ORT_TENSORRT_CACHE_PATH;
  if (cacheDir && (env.ORT_TENSORRT_ENGINE_CACHE_ENABLE ?? '0') !== '0') {
    try {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    } catch {
      // An unwritable cache is TensorRT's to report when it saves an engine; the provider still runs.
    }
  }
  return set;
}
