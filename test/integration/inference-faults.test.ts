// Inference calls that hang or whose worker dies: the call fails with a clear error, the worker is
// replaced, the session goes on working, and both are counted. A real model in a real worker: a call made
// far heavier than the deadline stands in for a hung run (a truly endless run cannot be made on demand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifest } from '../../agent/inference/manifest.js';
import { inferenceFaults, WorkerSession } from '../../agent/inference/worker-session.js';
import { silentLogger } from '../../agent/lib/logging.js';
import { DEFAULT_MODELS } from '../../agent/inference/default-models.js';
import { waitFor } from '../helpers/wait.js';
import { crashable } from '../helpers/worker-crash.js';
import { logLines } from '../helpers/log-lines.js';

const input = (batch: number) => ({ input: { data: new Float32Array(batch * 3 * 112 * 112), dims: [batch, 3, 112, 112] } });

/** The abandoned worker returns from its long run and exits by itself: nothing is left for process exit. */
async function noStuckWorkers(): Promise<void> {
  await waitFor(() => inferenceFaults.stuck === 0, 300_000, 'the replaced worker to come back from its run');
}

for (const [batch, timeoutMs] of [
  [1024, 800],
  [2048, 1500],
] as const) {
  test(`a call that misses its deadline (batch ${batch}, ${timeoutMs} ms) rejects, its worker is replaced, the next call succeeds`, async () => {
    const { log, lines } = logLines();
    const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), { providers: ['cpu'], intraOpThreads: 1, verifySha256: false, timeoutMs }, log);
    const before = { ...inferenceFaults };
    try {
      // Hundreds of faces on one thread take far longer than the deadline.
      await assert.rejects(s.run(input(batch)), new RegExp(`face-api-face-expression: inference timed out after ${timeoutMs} ms`));
      assert.equal(s.timeouts, 1);
      assert.equal(s.workerRestarts, 1);
      assert.equal(inferenceFaults.timeouts, before.timeouts + 1);
      assert.equal(inferenceFaults.workerRestarts, before.workerRestarts + 1);
      assert.ok(
        lines.some((l) => new RegExp(`^warn: .*timed out after ${timeoutMs} ms; starting a new worker`).test(l)),
        lines.join('\n'),
      );
      // The new worker answers while the old one is still busy with the abandoned run.
      const { outputs } = await s.run(input(1));
      assert.equal(Object.values(outputs)[0]!.dims[0], 1, 'the new worker answers');
      assert.equal(s.timeouts, 1);
    } finally {
      await s.close();
    }
    await noStuckWorkers();
  });
}

test('a worker that dies while idle is replaced and the next calls succeed, twice', async () => {
  const { log, lines } = logLines();
  const { opts, crash } = crashable({ providers: ['cpu'], intraOpThreads: 1, verifySha256: false });
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), opts, log);
  const before = inferenceFaults.workerRestarts;
  try {
    await crash();
    const { outputs } = await s.run(input(2));
    assert.equal(Object.values(outputs)[0]!.dims[0], 2);
    assert.equal(s.workerRestarts, 1);
    assert.equal(inferenceFaults.workerRestarts, before + 1);
    assert.equal(s.timeouts, 0);
    assert.ok(
      lines.some((l) => /^warn: .*inference worker exited with code \d+; starting a new worker/.test(l)),
      lines.join('\n'),
    );
    // A second crash is recovered the same way.
    await crash();
    assert.equal(Object.values((await s.run(input(1))).outputs)[0]!.dims[0], 1);
    assert.equal(s.workerRestarts, 2);
  } finally {
    await s.close();
  }
});

test('closing a session lets its in-flight call finish (no abort), then refuses new calls', async () => {
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), { providers: ['cpu'], intraOpThreads: 1, verifySha256: false }, silentLogger);
  const running = s.run(input(64));
  await s.close();
  assert.equal(Object.values((await running).outputs)[0]!.dims[0], 64);
  await assert.rejects(s.run(input(1)), /session is closed/);
});
