// Models that get 1…maxBatch faces a call are run once on zero batches of every one of those sizes before
// their worker is ready, so onnxruntime's arena reaches its plateau at start instead of climbing for
// minutes as larger batches first occur (warmup-shapes.ts). Real models in real workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifest } from '../../agent/inference/manifest.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { startWorker } from '../../agent/inference/worker-start.js';
import { warmupShapes } from '../../agent/inference/warmup-shapes.js';
import { DEFAULT_MODELS } from '../../agent/inference/default-models.js';
import { crashable } from '../helpers/worker-crash.js';
import { logLines } from '../helpers/log-lines.js';

const cpu = { providers: ['cpu'], intraOpThreads: 1, verifySha256: false };

test('warm-up shapes: every batch size of a batched crop model, none for a detector whose input follows the frame', () => {
  const expression = loadManifest(DEFAULT_MODELS.expression).manifest;
  assert.deepEqual(
    warmupShapes(expression, 3).map((s) => s.dims),
    [
      [3, 3, 112, 112],
      [2, 3, 112, 112],
      [1, 3, 112, 112],
    ],
  );
  assert.ok(warmupShapes(expression, 3).every((s) => s.input === expression.input.name));
  assert.deepEqual(warmupShapes(expression, 0), []);
  const fixed = { ...expression, input: { ...expression.input, shape: [1, 3, 112, 112] } };
  assert.deepEqual(warmupShapes(fixed, 8), [], 'a fixed batch of one is never warmed with larger ones');
  const dynamic = { ...expression, input: { ...expression.input, shape: ['batch', 3, 'height', 'width'] } };
  assert.deepEqual(warmupShapes(dynamic, 8), [], 'a detector-style input (height and width follow the frame) has no shape to warm');
});

test('a session opened with warmBatches ran every batch size in its worker before it was ready, and a replacement worker does too', async () => {
  const { log, lines } = logLines();
  const { opts, crash } = crashable({ ...cpu, warmBatches: 4 });
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), opts, log);
  try {
    assert.deepEqual(
      s.warmed.map((w) => w.dims[0]),
      [4, 3, 2, 1],
    );
    assert.match(lines.join('\n'), /^info: face-api-face-expression: running on cpu \(fp32, warmed for batches of 1…4\)/);
    // A crashed worker's replacement warms again: its arena is new.
    s.warmed = [];
    await crash();
    const { outputs } = await s.run({ input: { data: new Float32Array(2 * 3 * 112 * 112), dims: [2, 3, 112, 112] } });
    assert.equal(Object.values(outputs)[0]!.dims[0], 2);
    assert.equal(s.workerRestarts, 1);
    assert.deepEqual(
      s.warmed.map((w) => w.dims[0]),
      [4, 3, 2, 1],
    );
  } finally {
    await s.close();
  }
});

test('without warmBatches nothing is run at load', async () => {
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), cpu);
  try {
    assert.deepEqual(s.warmed, []);
  } finally {
    await s.close();
  }
});

test('a warm-up shape the model cannot run fails the load, naming the shape', async () => {
  // Standing in for a model whose manifest says its batch is free while the graph is not: a wrong crop size.
  await assert.rejects(
    startWorker(loadManifest(DEFAULT_MODELS.expression), { ...cpu, sha256: null, warmup: [{ input: 'input', dims: [2, 3, 50, 50] }] }),
    /a zero batch of shape \[2,3,50,50\] failed at load/,
  );
});

test('a warm-up that would take longer than its budget is skipped (a large model must not miss the start timeout)', async () => {
  const { worker, reply } = await startWorker(loadManifest(DEFAULT_MODELS.expression), { ...cpu, sha256: null, warmBatches: 8, warmupBudgetMs: 0 });
  try {
    assert.deepEqual(reply.warmed, []);
  } finally {
    await worker.terminate();
  }
});
