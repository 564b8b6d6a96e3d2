// Crashing an inference worker from outside, through the session's one seam (SessionOptions.onWorker).
import type { Worker } from 'node:worker_threads';
import type { SessionOptions } from '../../agent/inference/worker-session.js';

/**
 * Session options that keep the worker thread the session adopted last, and `crash()`, which ends it as a crash
 * of the native runtime would. Only while idle: ending a thread with a run in flight aborts the test process
 * itself (see onnx-worker.ts).
 */
export function crashable(opts: SessionOptions): { opts: SessionOptions; crash: () => Promise<number> } {
  let current: Worker | undefined;
  return {
    opts: { ...opts, onWorker: (w) => (current = w) },
    crash: () => {
      if (!current) throw new Error('no worker adopted yet: open the session with crashable(…).opts first');
      return current.terminate();
    },
  };
}
