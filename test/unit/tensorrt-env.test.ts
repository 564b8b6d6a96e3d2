// The TensorRT options the binding cannot pass, set as the ORT_TENSORRT_* variables its provider reads:
// only when tensorrt is configured, never over the operator's own values, the engine cache made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { applyTensorrtEnv, DEFAULT_TRT_WORKSPACE_BYTES, tensorrtEnv, tensorrtSettings } from '../../agent/inference/tensorrt-env.js';
import { tempDir } from '../helpers/temp.js';

test('defaults: fp16, an engine cache in <state dir>/trt-cache, a 1 GiB workspace', () => {
  const s = tensorrtSettings({}, '/var/lib/percept');
  assert.deepEqual(tensorrtEnv(s, {}), {
    ORT_TENSORRT_FP16_ENABLE: '1',
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
    ORT_TENSORRT_CACHE_PATH: '/var/lib/percept/trt-cache',
    ORT_TENSORRT_MAX_WORKSPACE_SIZE: String(DEFAULT_TRT_WORKSPACE_BYTES),
  });
  assert.equal(DEFAULT_TRT_WORKSPACE_BYTES, 1073741824);
});

test('settings override the defaults; a value already in the environment is never overridden', () => {
  const s = tensorrtSettings({ fp16: false, maxWorkspaceBytes: 256 * 1024 ** 2 }, '/state');
  assert.deepEqual(tensorrtEnv(s, { ORT_TENSORRT_CACHE_PATH: '/mnt/engines', ORT_TENSORRT_FP16_ENABLE: '' }), {
    ORT_TENSORRT_FP16_ENABLE: '0',
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
    ORT_TENSORRT_MAX_WORKSPACE_SIZE: '268435456',
  });
});

test('applied only with tensorrt among the providers, making the cache directory', () => {
  const base = tempDir('percept-trt-');
  const dir = join(base, 'engines');
  const env: NodeJS.ProcessEnv = {};
  assert.deepEqual(applyTensorrtEnv(['cuda', 'cpu'], { cacheDir: dir }, env), {});
  assert.deepEqual(env, {});
  assert.equal(existsSync(dir), false);

  const set = applyTensorrtEnv(['tensorrt', 'cuda', 'cpu'], { cacheDir: dir }, env);
  assert.equal(set.ORT_TENSORRT_CACHE_PATH, dir);
  assert.equal(env.ORT_TENSORRT_ENGINE_CACHE_ENABLE, '1');
  assert.ok(statSync(dir).isDirectory());
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  // A second start sets nothing new: the values are there already (the operator's or ours).
  assert.deepEqual(applyTensorrtEnv(['tensorrt'], { cacheDir: '/elsewhere' }, env), {});
  assert.equal(env.ORT_TENSORRT_CACHE_PATH, dir);
  rmSync(base, { recursive: true, force: true });
});
