// Worker-thread entry: owns one onnxruntime session. onnxruntime-node's run() blocks the thread it is
// called on (microsoft/onnxruntime#19611), so sessions never live on the main event loop.
import { basename, dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerInit, WorkerReply, WorkerRequest, TensorData } from './worker-protocol.js';
import type { WarmupShape } from './warmup-shapes.js';
import { readModelBytes } from './model-bytes.js';
import { explainProviderFailure, versionMismatch } from './gpu-runtime.js';
import { firstLine } from '../lib/must.js';

const init = workerData as WorkerInit;
// Failures reach the agent as exceptions and are logged once, clearly; onnxruntime's own stderr dump of
// the same failure (e.g. a missing CUDA provider library) would only add noise.
ort.env.logLevel = 'fatal';

/**
 * The model's bytes, read here (a read that hangs, on a stalled network volume, blocks this thread and
 * never the agent's event loop) and hashed: the very bytes handed to onnxruntime are the ones checked.
 */
class ChangedError extends Error {}

function modelBytes(): { data: Buffer; sha256: string } {
  let read: { data: Buffer; sha256: string };
  try {
    read = readModelBytes(init.modelPath, init.bytes);
  } catch (err) {
    // A replacement worker finding another size (or no file) than the first one loaded: changed on disk.
    if (init.replacement) throw new ChangedError(`${(err as Error).message} (the file changed on disk since the model was loaded)`);
    throw err;
  }
  if (init.sha256 !== null && read.sha256 !== init.sha256) {
    if (init.replacement)
      throw new ChangedError(
        `${init.modelPath} has sha256 ${read.sha256}, expected ${init.sha256} (the file changed on disk since the model was loaded): refused`,
      );
    throw new Error(
      `file ${basename(init.modelPath)} has sha256 ${read.sha256}, the manifest says ${init.sha256} (corrupt or replaced; re-run the converter or export)`,
    );
  }
  return read;
}

async function createSession(data: Buffer): Promise<{ session: ort.InferenceSession; provider: string; failures: string[] }> {
  const failures: string[] = [];
  // onnxruntime-node does not fall back from an unavailable provider by itself (design §3): try in order.
  for (const [i, provider] of init.providers.entries()) {
    const last = i === init.providers.length - 1;
    // Provider libraries of another onnxruntime release have no stable ABI with this one: never loaded.
    const stale = provider === 'cuda' || provider === 'tensorrt' ? versionMismatch() : null;
    if (stale) {
      failures.push(`${provider}: ${stale}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(data, {
        executionProviders: [provider],
        logSeverityLevel: last ? 3 : 4,
        intraOpNumThreads: init.intraOpThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Loaded from bytes, onnxruntime would look for external data files (a merged model's
        // model.onnx.data) in the process's working directory: they live beside the model. Their sha256 is
        // checked with the manifest's other files at start.
        extra: { session: { model_external_initializers_file_folder_path: dirname(init.modelPath) } },
      });
      return { session, provider, failures };
    } catch (err) {
      failures.push(`${provider}: ${explainProviderFailure(provider, firstLine((err as Error).message))}`);
    }
  }
  throw new Error(`no execution provider could load ${init.modelPath}: ${failures.join('; ')}`);
}

function post(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

const metadata = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : [] }));

// A 'close' that arrives while the model is read or loaded (a switch abandoned at its deadline) ends the
// worker as soon as the load returns: a thread cannot be ended safely inside onnxruntime's native code.
let closeAsked = false;
const earlyClose = (req: WorkerRequest) => {
  if (req.type === 'close') closeAsked = true;
};
parentPort!.on('message', earlyClose);

/** One run on zeros of `shape`; a shape the model cannot run fails the load, naming it. */
async function runZeros(session: ort.InferenceSession, { input, dims }: WarmupShape): Promise<void> {
  try {
    await session.run({ [input]: zeros(dims) });
  } catch (err) {
    throw new Error(
      `a zero batch of shape [${dims}] failed at load (the agent sends up to classifier.maxBatch faces a call): ${firstLine((err as Error).message)}`,
      { cause: err },
    );
  }
}

const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((n, d) => n * d, 1)), dims);

/**
 * Runs each warm-up shape on zeros (warmup-shapes.ts says why) and returns those it ran. Twice: the first
 * run of a shape only plans its memory pattern, the second allocates the planned block from the arena. A
 * shape the model cannot run fails the load; an input the graph lacks is left to verifyGraph's clearer error.
 */
async function warmUp(session: ort.InferenceSession): Promise<WarmupShape[]> {
  const ran: WarmupShape[] = [];
  const smallest = init.warmup[init.warmup.length - 1];
  if (!smallest || !session.inputNames.includes(smallest.input)) return ran;
  // A large model (PE-Core-L: seconds a face on a CPU) would spend minutes here — past systemd's start
  // timeout and a model switch's deadline. One face tells the cost (timed on its second run: the first
  // plans memory): warm only if the whole warm-up (twice every batch size) fits init.warmupBudgetMs;
  // otherwise its memory grows as batches arrive, as it did before.
  await runZeros(session, smallest);
  const t0 = performance.now();
  await runZeros(session, smallest);
  const faces = init.warmup.reduce((n, s) => n + (s.dims[0] ?? 1), 0);
  if ((performance.now() - t0) * 2 * faces > init.warmupBudgetMs) return ran;
  for (const shape of init.warmup) {
    if (closeAsked || !session.inputNames.includes(shape.input)) break;
    for (let i = 0; i < 2; i++) await runZeros(session, shape);
    ran.push(shape);
  }
  return ran;
}

try {
  const { data, sha256 } = modelBytes();
  const { session, provider, failures } = await createSession(data);
  const warmed = await warmUp(session).catch(async (err: unknown) => {
    await session.release();
    throw err;
  });
  parentPort!.off('message', earlyClose);
  if (closeAsked) {
    await session.release();
    process.exit(0);
  }
  post({ type: 'ready', provider, failures, inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata), sha256, warmed });
  // Runs in flight: 'close' waits for them, because ending a thread while onnxruntime-node still has a run
  // in flight aborts the whole process (exit 134). A timed-out worker is closed this way (worker-session.ts).
  let running = 0;
  let idle: (() => void) | null = null;
  parentPort!.on('message', async (req: WorkerRequest) => {
    if (req.type === 'close') {
      if (running) await new Promise<void>((r) => (idle = r));
      await session.release();
      process.exit(0);
    }
    running++;
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
      const t0 = performance.now();
      const result = await session.run(feeds);
      const runMs = performance.now() - t0;
      const outputs: Record<string, TensorData> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, tensor] of Object.entries(result)) {
        const data = new Float32Array(tensor.data as Float32Array);
        outputs[name] = { data, dims: [...tensor.dims] };
        transfer.push(data.buffer as ArrayBuffer);
      }
      post({ type: 'result', id: req.id, outputs, runMs }, transfer);
    } catch (err) {
      post({ type: 'error', id: req.id, message: (err as Error).message });
    } finally {
      if (--running === 0) idle?.();
    }
  });
} catch (err) {
  post({ type: 'fatal', message: (err as Error).message, ...(err instanceof ChangedError ? { changed: true } : {}) });
}
