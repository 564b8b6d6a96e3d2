// Main-thread handle on one ONNX session living in a worker thread. Every call has a deadline: a call that misses it fails, and
// the worker is replaced by a fresh one on the same model, as is a worker that crashes. Both are counted (inferenceFaults, in stats).
//
// A timed-out worker cannot be terminated: onnxruntime-node runs inside native code, and ending a thread with a run in flight
// aborts the whole process (a Napi::Error with no JS environment left, exit 134). So it is abandoned: told to close once its run
// returns, and awaited (bounded) when the session closes.
import type { Worker } from 'node:worker_threads';
import { precisionOf, verifyFiles, verifyGraph, type LoadedManifest } from './manifest.js';
import type { TensorData, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { inferenceFaults, ModelChangedError, startWorker, type ReadyReply } from './worker-start.js';
import { silentLogger, type Logger } from '../lib/logging.js';

export { inferenceFaults };

export interface SessionOptions {
  providers: string[];
  intraOpThreads: number;
  /** Check every model file against the manifest's sha256 before loading (skip only for very large models on slow storage). */
  verifySha256: boolean;
  /** One call fails after this long and its worker is replaced. Absent: DEFAULT_INFERENCE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The first worker must be ready (model read, hashed, loaded) within this; absent: no deadline (start-up). */
  openTimeoutMs?: number;
  /** A model with a symbolic batch runs zero batches of 1…this at load (warmup-shapes.ts); absent: none. */
  warmBatches?: number;
  /** Handed each worker the session adopts. A test seam: tests end an idle one as a native crash would; the agent passes none. */
  onWorker?: (worker: Worker) => void;
}

export interface RunResult {
  outputs: Record<string, TensorData>;
  runMs: number;
}

export const DEFAULT_INFERENCE_TIMEOUT_MS = 30_000;
/** A model switch while running gets this many inference deadlines to read, load and verify the new model. */
export const SWITCH_DEADLINE_FACTOR = 4;
/** A worker that keeps failing to start is tried again at most this often; a changed model file (each try reads and hashes all of it) less often. */
const RESTART_BACKOFF_MS = 5_000;
const CHANGED_BACKOFF_MS = 60_000;

interface Pending {
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One worker thread and the calls it owes. */
interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Set once the slot no longer serves calls (replaced, crashed or closing). */
  retired: boolean;
  exited: Promise<void>;
}

export class WorkerSession {
  private nextId = 1;
  private closed = false;
  private slot: Slot | null;
  /** A replacement worker being started; calls wait for it. */
  private starting: Promise<Slot> | null = null;
  private lastStartFailure = 0;
  private startError: Error | null = null;
  private readonly abandoned = new Set<Slot>();
  /** Per-session counts (the process-wide ones are in inferenceFaults). */
  timeouts = 0;
  workerRestarts = 0;

  private constructor(
    first: Worker,
    readonly provider: string,
    readonly loaded: LoadedManifest,
    private readonly opts: SessionOptions,
    /** The sha256 of the bytes the first worker loaded: every replacement must load the same bytes. */
    readonly sha256: string,
    private readonly log: Logger,
    public warmed: ReadyReply['warmed'] = [], // the zero batches its current worker ran before ready
  ) {
    this.slot = this.adopt(first);
  }

  /**
   * Verifies the model directory (files, sha256, graph vs manifest) and starts its worker. The model file
   * itself is hashed by the worker on the very bytes it loads (with verifySha256 against the manifest;
   * without, only recorded), and a replacement worker must load bytes with that same hash.
   */
  static async open(loaded: LoadedManifest, opts: SessionOptions, log: Logger = silentLogger): Promise<WorkerSession> {
    const m = loaded.manifest;
    if (opts.verifySha256) await verifyFiles(loaded, m.model);
    const expected = opts.verifySha256 ? (m.files.find((f) => f.path === m.model)?.sha256 ?? null) : null;
    const { worker, reply } = await startWorker(loaded, { ...opts, sha256: expected, deadlineMs: opts.openTimeoutMs });
    const provider = reply.provider;
    try {
      verifyGraph(loaded, reply.inputs, reply.outputs);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    // A provider that was asked for and failed (e.g. cuda without its libraries) is a warning: the agent
    // runs, but slower than configured.
    for (const f of reply.failures) log.warn(`${loaded.manifest.name}: requested execution provider ${f}; falling back`);
    const batches = reply.warmed.length ? `, warmed for batches of 1…${reply.warmed.length}` : '';
    log.info(`${loaded.manifest.name}: running on ${provider} (${precisionOf(loaded.manifest)}${batches})`);
    return new WorkerSession(worker, provider, loaded, opts, reply.sha256, log, reply.warmed);
  }

  private get name(): string {
    return this.loaded.manifest.name;
  }
  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? DEFAULT_INFERENCE_TIMEOUT_MS;
  }

  private adopt(worker: Worker): Slot {
    const slot: Slot = { worker, pending: new Map(), retired: false, exited: new Promise((r) => worker.once('exit', () => r())) };
    this.opts.onWorker?.(worker);
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const p = slot.pending.get(msg.id);
      if (!p) return; // timed out already: the answer comes too late
      slot.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.type === 'result') p.resolve({ outputs: msg.outputs, runMs: msg.runMs });
      else p.reject(new Error(`${this.name}: inference failed: ${msg.message}`));
    });
    const crashed = (why: string) => {
      this.failAll(slot, new Error(`${this.name}: inference worker ${why}`));
      if (slot.retired) return;
      this.retire(slot);
      this.log.warn(`${this.name}: inference worker ${why}; starting a new worker`);
      this.replace();
    };
    worker.on('error', (err) => crashed(`failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (this.abandoned.delete(slot)) inferenceFaults.stuck--;
      crashed(`exited with code ${code}`);
    });
    return slot;
  }

  private failAll(slot: Slot, err: Error): void {
    for (const p of slot.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    slot.pending.clear();
  }

  private retire(slot: Slot): void {
    slot.retired = true;
    if (this.slot === slot) this.slot = null;
  }

  /** Starts a replacement worker (counted); calls made meanwhile wait for it. */
  private replace(): void {
    if (this.closed || this.starting) return;
    this.workerRestarts++;
    inferenceFaults.workerRestarts++;
    this.starting = this.verifyBesideModel()
      .then(() => startWorker(this.loaded, { ...this.opts, sha256: this.sha256, replacement: true }))
      .then(({ worker, reply }) => {
        const slot = this.adopt(worker);
        this.warmed = reply.warmed;
        this.startError = null;
        if (this.closed) {
          void this.closeSlot(slot);
          throw new Error(`${this.name}: session is closed`);
        }
        this.slot = slot;
        return slot;
      })
      .catch((err: unknown) => {
        this.lastStartFailure = Date.now();
        this.startError = err as Error;
        this.log.warn(`${this.name}: a new inference worker could not start: ${(err as Error).message}`);
        throw err;
      })
      .finally(() => {
        this.starting = null;
      });
    this.starting.catch(() => undefined);
  }

  /**
   * The files the worker does not read itself (a merged model's external data, which onnxruntime opens beside the model) are checked
   * against the manifest again before a replacement loads them: a file swapped after start would otherwise change the labels silently.
   * Always, even without verifySha256: the worker checks the model's own bytes against the first load in either case.
   */
  private async verifyBesideModel(): Promise<void> {
    const m = this.loaded.manifest;
    if (!m.files.some((f) => f.path !== m.model)) return;
    try {
      await verifyFiles(this.loaded, m.model);
    } catch (err) {
      inferenceFaults.modelChanged++;
      throw new ModelChangedError(this.loaded.dir, [`${(err as Error).message} (changed on disk since the model was loaded)`]);
    }
  }

  private async ready(): Promise<Slot> {
    if (this.slot) return this.slot;
    if (!this.starting) {
      // The last start failed: try again, but not on every call.
      const backoff = this.startError instanceof ModelChangedError ? CHANGED_BACKOFF_MS : RESTART_BACKOFF_MS;
      if (this.startError && Date.now() - this.lastStartFailure < backoff) throw this.startError;
      this.replace();
    }
    return this.starting!;
  }

  async run(feeds: Record<string, TensorData>): Promise<RunResult> {
    if (this.closed) throw new Error(`${this.name}: session is closed`);
    const slot = await this.ready();
    const id = this.nextId++;
    const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(slot, id), this.timeoutMs);
      slot.pending.set(id, { resolve, reject, timer });
      slot.worker.postMessage({ type: 'run', id, feeds } satisfies WorkerRequest, transfer);
    });
  }

  /** The call fails; its worker (busy in native code) is abandoned and a new one takes over. */
  private timedOut(slot: Slot, id: number): void {
    const p = slot.pending.get(id);
    if (!p) return;
    slot.pending.delete(id);
    this.timeouts++;
    inferenceFaults.timeouts++;
    p.reject(new Error(`${this.name}: inference timed out after ${this.timeoutMs} ms`));
    if (slot.retired) return;
    this.log.warn(`${this.name}: inference timed out after ${this.timeoutMs} ms; starting a new worker`);
    this.failAll(slot, new Error(`${this.name}: inference worker replaced after a timeout`));
    this.retire(slot);
    this.abandoned.add(slot);
    inferenceFaults.stuck++;
    // The worker handles 'close' after its run returns (onnx-worker.ts), then exits on its own.
    slot.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    this.replace();
  }

  /** An idle worker is asked to close; one that does not within 2 s is terminated (it has no run in flight). */
  private async closeSlot(slot: Slot): Promise<void> {
    slot.retired = true;
    slot.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      slot.exited,
      new Promise<void>((res) => {
        timer = setTimeout(() => void slot.worker.terminate().then(() => res()), 2000);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Lets in-flight runs finish (each is bounded by the timeout), ends the worker, and waits up to the
   * timeout for abandoned workers to return from native code. Those still stuck are left counted in
   * inferenceFaults.stuck: the process can then only end with SIGKILL (see cli/run.ts).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const slot = this.slot;
    if (slot) {
      await Promise.allSettled(
        [...slot.pending.values()].map(
          (p) =>
            new Promise<void>((settled) => {
              const { resolve, reject } = p;
              p.resolve = (r) => {
                resolve(r);
                settled();
              };
              p.reject = (e) => {
                reject(e);
                settled();
              };
            }),
        ),
      );
      this.slot = null;
      await this.closeSlot(slot);
    }
    if (this.abandoned.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.abandoned].map((s) => s.exited)),
        new Promise<void>((res) => {
          timer = setTimeout(res, this.timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
  }
}
