// onnxruntime-node does not fall back from an unavailable execution provider by itself: the agent tries
// the configured list in order and says what it chose and why the others failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifest } from '../../agent/inference/manifest.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { DEFAULT_MODELS } from '../helpers/models.js';

test('asking for cuda on a CPU machine falls back to cpu with a clear line', async () => {
  const lines: string[] = [];
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), { providers: ['cuda', 'cpu'], intraOpThreads: 1, verifySha256: false }, (m) =>
    lines.push(m),
  );
  try {
    assert.equal(s.provider, 'cpu');
    assert.match(lines.join('\n'), /execution provider cuda: /);
    assert.match(lines.join('\n'), /running on cpu/);
    const { outputs } = await s.run({ input: { data: new Float32Array(3 * 112 * 112), dims: [1, 3, 112, 112] } });
    assert.equal(outputs.expression!.data.length, 7);
  } finally {
    await s.close();
  }
});

test('when no provider can load the model the error says so, per provider', async () => {
  await assert.rejects(
    WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), { providers: ['cuda'], intraOpThreads: 1, verifySha256: false }),
    /no execution provider could load .*model\.onnx: cuda: /,
  );
});
