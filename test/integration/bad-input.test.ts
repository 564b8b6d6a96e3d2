// Bad input ends `percept run` with a clear message and a distinct exit code, before anything is written.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { runPercept } from '../helpers/agent-process.js';
import { GRACE_HOPPER } from '../helpers/images.js';

const work = mkdtempSync(join(tmpdir(), 'percept-bad-'));
const imageDir = join(work, 'images');

before(() => {
  cpSync(GRACE_HOPPER, join(imageDir, 'a.jpg'));
});

function copyModel(name: keyof typeof DEFAULT_MODELS): string {
  const dir = join(work, `${name}-${Math.random().toString(36).slice(2)}`);
  cpSync(DEFAULT_MODELS[name], dir, { recursive: true });
  return dir;
}

async function expectFailure(args: string[], code: number, message: RegExp, env: NodeJS.ProcessEnv = {}) {
  const stateDir = join(work, `state-${Math.random().toString(36).slice(2)}`);
  const source = args.includes('--source') ? [] : ['--source', imageDir];
  const res = await runPercept(['run', ...source, '--state-dir', stateDir, '--exit-on-eof', ...args], { PERCEPT_MQTT_EMBEDDED_PORT: '0', ...env }, 60_000);
  assert.equal(res.code, code, `exit code; stderr:\n${res.stderr}`);
  assert.match(res.stderr, message);
  assert.equal(res.stdout, '', 'nothing on stdout');
  assert.ok(!existsSync(stateDir), 'nothing written to the state directory');
}

test('a missing model file', async () => {
  const dir = copyModel('detector');
  rmSync(join(dir, 'model.onnx'));
  await expectFailure([], 65, /file model\.onnx is missing/, { PERCEPT_DETECTOR_MODEL: dir });
});

test('a corrupt model file (sha256 mismatch)', async () => {
  const dir = copyModel('ageGender');
  const onnx = join(dir, 'model.onnx');
  const bytes = readFileSync(onnx);
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(onnx, bytes);
  await expectFailure(['--model', dir], 65, /model\.onnx has sha256 [0-9a-f]{64}, the manifest says/);
});

test('a model whose manifest names an output the graph does not have', async () => {
  const dir = copyModel('expression');
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  manifest.outputs[0].name = 'emotion_logits';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  await expectFailure(['--model', dir], 65, /output \\?"emotion_logits\\?" is not in the ONNX graph \(it has expression\)/);
});

test('a manifest with the wrong label count', async () => {
  const dir = copyModel('expression');
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  manifest.outputs[0].labels.pop();
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  await expectFailure(['--model', dir], 65, /6 labels listed, the emotion contract has 7/);
});

test('a source that cannot be opened', async () => {
  await expectFailure(['--source', join(work, 'no-such-clip.mp4')], 66, /no-such-clip\.mp4: no such file/);
});

test('a file that is not a video', async () => {
  const notVideo = join(work, 'notes.avi');
  writeFileSync(notVideo, 'this is not a video\n');
  await expectFailure(['--source', notVideo], 66, /notes\.avi: cannot be opened/);
});

test('an invalid config file: every error with its path, exit 78', async () => {
  const file = join(work, 'bad.yaml');
  writeFileSync(file, 'detector:\n  scoreThreshold: 2\n  minFacePx: small\nmqtt:\n  prefx: shop\n');
  await expectFailure(['--config', file], 78, /detector\.scoreThreshold: must be <= 1[\s\S]*detector\.minFacePx: must be integer[\s\S]*mqtt\.prefx: unknown key/);
});

test('an invalid environment override names the key', async () => {
  await expectFailure([], 78, /tracker\.minHits: must be integer/, { PERCEPT_TRACKER_MIN_HITS: 'two' });
});
