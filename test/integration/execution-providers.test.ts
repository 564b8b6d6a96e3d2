// onnxruntime-node does not fall back from an unavailable execution provider by itself: the agent tries
// the configured list in order and says what it chose and why the others failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest } from '../../agent/inference/manifest.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { driverProblem } from '../../agent/inference/gpu-runtime.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';

test('asking for cuda on a CPU machine falls back to cpu with a clear line', async () => {
  const { log, lines } = logLines();
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), { providers: ['cuda', 'cpu'], intraOpThreads: 1, verifySha256: false }, log);
  try {
    assert.equal(s.provider, 'cpu');
    assert.match(lines.join('\n'), /^warn: .*execution provider cuda: /m);
    // Why, in the same one line: this machine's facts first, then onnxruntime's own words.
    const cuda = lines.find((l) => l.includes('execution provider cuda'))!;
    assert.doesNotMatch(cuda, /\n/);
    const why = driverProblem();
    if (why) assert.ok(cuda.includes(why), cuda);
    assert.match(
      cuda,
      /libonnxruntime_providers_cuda\.so is not beside libonnxruntime\.so\.1 .*percept gpu install.*\(onnxruntime: .*Failed to load shared library\)/,
    );
    assert.match(lines.join('\n'), /^info: .*running on cpu/m);
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

test('tensorrt: its ORT_TENSORRT_* options are in the environment before its worker starts; it falls back with the reason', async () => {
  const state = tempDir('percept-ep-');
  process.env.STATE_DIRECTORY = state;
  const { log, lines } = logLines();
  const s = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), { providers: ['tensorrt', 'cpu'], intraOpThreads: 1, verifySha256: false }, log);
  try {
    assert.equal(s.provider, 'cpu');
    assert.equal(process.env.ORT_TENSORRT_CACHE_PATH, join(state, 'trt-cache'));
    assert.equal(process.env.ORT_TENSORRT_ENGINE_CACHE_ENABLE, '1');
    assert.equal(process.env.ORT_TENSORRT_FP16_ENABLE, '1');
    assert.ok(existsSync(join(state, 'trt-cache')));
    assert.match(
      lines.join('\n'),
      /^warn: .*execution provider tensorrt: .*libonnxruntime_providers_tensorrt\.so is not beside .*percept gpu install --tensorrt/,
    );
  } finally {
    await s.close();
    delete process.env.STATE_DIRECTORY;
    rmSync(state, { recursive: true, force: true });
  }
});
