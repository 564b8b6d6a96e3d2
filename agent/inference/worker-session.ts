// Main-thread handle on one ONNX session living in a worker thread.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ModelError, verifyFiles, verifyGraph, type LoadedManifest } from './manifest.js';
import type { TensorData, WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** Where model lines go; `level` is 'warn' for a requested provider that failed, else absent (info). */
export type ModelLog = (msg: string, level?: 'warn') => void;

export interface SessionOptions {
  providers: string[];
  intraOpThreads: number;
  /** Hash every model file before loading (skip only for very large models on slow storage). */
  verifySha256: boolean;
}

export interface RunResult {
  outputs: Record<string, TensorData>;
  runMs: number;
}

const workerUrl = new URL('./onnx-worker.js', import.meta.url);

export class WorkerSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly provider: string,
    readonly loaded: LoadedManifest,
  ) {
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type === 'result' || msg.type === 'error') {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.type === 'result') p.resolve({ outputs: msg.outputs, runMs: msg.runMs });
        else p.reject(new Error(`${loaded.manifest.name}: inference failed: ${msg.message}`));
      }
    });
    const failAll = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => failAll(err));
    worker.on('exit', (code) => {
      if (!this.closed) failAll(new Error(`${loaded.manifest.name}: inference worker exited with code ${code}`));
    });
  }

  /** Verifies the model directory (files, sha256, graph vs manifest) and starts its worker. */
  static async open(loaded: LoadedManifest, opts: SessionOptions, log?: ModelLog): Promise<WorkerSession> {
    if (opts.verifySha256) await verifyFiles(loaded);
    const init: WorkerInit = { modelPath: loaded.modelPath, providers: opts.providers, intraOpThreads: opts.intraOpThreads };
    const worker = new Worker(fileURLToPath(workerUrl), { workerData: init });
    const ready = await new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (msg: WorkerReply) => {
        worker.off('error', onError);
        worker.off('message', onMessage);
        if (msg.type === 'ready') resolve(msg);
        else if (msg.type === 'fatal') reject(new ModelError(loaded.dir, [msg.message]));
      };
      const onError = (err: Error) => reject(new ModelError(loaded.dir, [`worker failed to start: ${err.message}`]));
      worker.on('message', onMessage);
      worker.once('error', onError);
    }).catch(async (err) => {
      await worker.terminate();
      throw err;
    });
    try {
      verifyGraph(loaded, ready.inputs, ready.outputs);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    // A provider that was asked for and failed (e.g. cuda without its libraries) is a warning: the agent
    // runs, but slower than configured.
    for (const f of ready.failures) log?.(`${loaded.manifest.name}: requested execution provider ${f}; falling back`, 'warn');
    log?.(`${loaded.manifest.name}: running on ${ready.provider}`);
    return new WorkerSession(worker, ready.provider, loaded);
  }

  run(feeds: Record<string, TensorData>): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error(`${this.loaded.manifest.name}: session is closed`));
    const id = this.nextId++;
    const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, feeds } satisfies WorkerRequest, transfer);
    });
  }

  /** Lets in-flight runs finish, then ends the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled(
      [...this.pending.values()].map(
        (p) =>
          new Promise<void>((res) => {
            const { resolve, reject } = p;
            p.resolve = (r) => {
              resolve(r);
              res();
            };
            p.reject = (e) => {
              reject(e);
              res();
            };
          }),
      ),
    );
    this.closed = true;
    this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    await new Promise<void>((res) => {
      const timer = setTimeout(() => {
        void this.worker.terminate().then(() => res());
      }, 2000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        res();
      });
    });
  }
}
