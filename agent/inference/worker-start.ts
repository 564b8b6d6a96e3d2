// Starting one inference worker: it reads, hashes and loads the model itself (onnx-worker.ts) and answers
// 'ready' with the graph's inputs and outputs, or 'fatal'. Workers between their start and that answer are
// counted (inferenceFaults.loading): one whose read hangs (a stalled network volume) cannot be ended, and
// process exit would wait for it for ever, so cli/run.ts must know. With a deadline (a model switch while
// running), a start that misses it is refused and the worker abandoned: told to close once its load
// returns, and counted as stuck until it exits.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ModelError, type LoadedManifest } from './manifest.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { warmupShapes, type WarmupShape } from './warmup-shapes.js';
import { applyTensorrtEnv, type TensorrtSettings } from './tensorrt-env.js';

/** Process-wide counts for stats. `stuck`: abandoned workers whose run or load has not returned yet; `loading`: workers reading or loading their model. */
export const inferenceFaults = { timeouts: 0, workerRestarts: 0, stuck: 0, loading: 0, modelChanged: 0 };

const workerUrl = new URL('./onnx-worker.js', import.meta.url);

/** The model's bytes no longer have the sha256 they had (or the manifest states): it changed on disk. */
export class ModelChangedError extends ModelError {}

export type ReadyReply = Extract<WorkerReply, { type: 'ready' }>;

export interface StartOptions {
  providers: string[];
  intraOpThreads: number;
  /** The sha256 the model's bytes must have; null: computed and reported only. */
  sha256: string | null;
  /** Refuse (and abandon the worker) when it is not ready by then. */
  deadlineMs?: number;
  /** Replacing a worker of an open session (its model must not have changed). */
  replacement?: boolean;
  /** With tensorrt among the providers: its options (fp16, engine cache, workspace); absent: the defaults. */
  tensorrt?: Partial<TensorrtSettings>;
  /** Zero batches of 1…this the worker runs before it is ready, when the model's batch is free (warmup-shapes.ts). */
  warmBatches?: number;
  /** Other inputs to run on zeros before ready (tests: a shape the model cannot run). */
  warmup?: WarmupShape[];
  /** Skip the warm-up when it would take longer than this (default WARMUP_BUDGET_MS, 5 s): a large model would miss systemd's start timeout. */
  warmupBudgetMs?: number;
}

export const WARMUP_BUDGET_MS = 5000;

export async function startWorker(loaded: LoadedManifest, opts: StartOptions): Promise<{ worker: Worker; reply: ReadyReply }> {
  const declared = loaded.manifest.files.find((f) => f.path === loaded.manifest.model)?.bytes;
  const init: WorkerInit = {
    modelPath: loaded.modelPath,
    providers: opts.providers,
    intraOpThreads: opts.intraOpThreads,
    sha256: opts.sha256,
    bytes: declared ?? null,
    replacement: opts.replacement ?? false,
    warmup: opts.warmup ?? warmupShapes(loaded.manifest, opts.warmBatches ?? 0),
    warmupBudgetMs: opts.warmupBudgetMs ?? WARMUP_BUDGET_MS,
  };
  applyTensorrtEnv(opts.providers, opts.tensorrt);
  const worker = new Worker(fileURLToPath(workerUrl), { workerData: init });
  inferenceFaults.loading++;
  let loading = true;
  const loaded_ = () => {
    if (loading) inferenceFaults.loading--;
    loading = false;
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<{ worker: Worker; reply: ReadyReply }>((resolve, reject) => {
      const onMessage = (msg: WorkerReply) => {
        if (msg.type !== 'ready' && msg.type !== 'fatal') return;
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.off('message', onMessage);
        loaded_();
        if (msg.type === 'ready') resolve({ worker, reply: msg });
        else {
          if (msg.changed) inferenceFaults.modelChanged++;
          reject(msg.changed ? new ModelChangedError(loaded.dir, [msg.message]) : new ModelError(loaded.dir, [msg.message]));
          void worker.terminate();
        }
      };
      const onError = (err: Error) => {
        loaded_();
        reject(new ModelError(loaded.dir, [`worker failed to start: ${err.message}`]));
      };
      const onExit = (code: number) => {
        loaded_();
        reject(new ModelError(loaded.dir, [`worker exited (code ${code}) before it was ready`]));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      if (opts.deadlineMs !== undefined)
        timer = setTimeout(() => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          abandon(worker, loaded_);
          reject(new ModelError(loaded.dir, [`reading and loading ${loaded.manifest.model} took longer than ${opts.deadlineMs! / 1000} s: abandoned`]));
        }, opts.deadlineMs);
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The load goes on in native code or a blocked read: the worker closes itself when it returns. */
function abandon(worker: Worker, loaded: () => void): void {
  inferenceFaults.stuck++;
  worker.postMessage({ type: 'close' } satisfies WorkerRequest);
  worker.on('message', (msg: WorkerReply) => {
    if (msg.type === 'fatal') void worker.terminate();
  });
  worker.once('exit', () => {
    loaded();
    inferenceFaults.stuck--;
  });
}
