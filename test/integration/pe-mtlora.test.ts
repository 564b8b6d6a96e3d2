// MTLoRA on the real PE architecture at tiny size: a task-agnostic DoRA adapter plus one task-specific LoRA
// per task (last block + attention pooling) exported as one ONNX with a shared trunk and three merged tails.
// The export checks merged against unmerged peft logits and onnxruntime against PyTorch; the agent's worker
// session reproduces the logits; adapters of the wrong layout are refused before anything is written.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, cpSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest } from '../../agent/inference/manifest.js';
import { scanInitializers } from '../../agent/inference/merge/onnx-initializers.js';
import { logitsOnFixture, maxAbsDiff, runExport } from '../helpers/pe-core.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-mtlora-');
const model = join(work, 'pe-tiny-mtlora');
const adapters = join(work, 'adapters');
const TINY = 'vit_pe_core_tiny_patch16_384';
let exportLog = '';

before(() => {
  const r = runExport(['--backbone', TINY, '--random-init', '--seed', '1', '--variant', 'mtlora', '--out', model, '--save-adapter', adapters]);
  exportLog = r.stderr;
  assert.equal(r.code, 0, r.stderr);
});

test('the MTLoRA export checked merged against unmerged peft logits and onnxruntime against PyTorch (≤ 1e-4)', () => {
  const merged = exportLog.match(/merged vs unmerged PEFT model: max \|Δlogit\| = ([\d.e+-]+)/);
  const onnx = exportLog.match(/fp32: .* onnxruntime vs PyTorch max \|Δlogit\| = ([\d.e+-]+)/);
  assert.ok(merged && Number(merged[1]) <= 1e-4, exportLog);
  assert.ok(onnx && Number(onnx[1]) <= 1e-4, exportLog);
  assert.match(exportLog, /tails: blocks\.11\., attn_pool\./);
});

test('the manifest says MTLoRA; the agent reproduces the PyTorch logits of every task', async () => {
  // variant and adaptable are for the tools (models merge), not fields the agent's manifest type reads: the file says them.
  assert.doesNotThrow(() => loadManifest(model));
  const m = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { variant: string; name: string; adaptable: Record<string, unknown> };
  assert.equal(m.variant, 'mtlora');
  assert.equal(m.name, 'pe-core-tiny-patch16-384-random-mtlora');
  // Only the shared trunk's weights are merge targets; the tails exist once per task.
  assert.ok(m.adaptable['blocks.0.attn.qkv'] && !m.adaptable['blocks.11.attn.qkv'] && !m.adaptable['attn_pool.kv']);
  const { outputs, expected } = await logitsOnFixture(model);
  for (const name of ['age_logits', 'gender_logits', 'emotion_logits']) {
    const d = maxAbsDiff(outputs[name]!, expected[name]!);
    assert.ok(d <= 1e-4, `${name}: max |Δ| ${d}`);
  }
});

test('each task has its own tail, with its own merged weights', () => {
  const inits = new Map(scanInitializers(join(model, 'model.onnx')).map((i) => [i.name, i]));
  const weight = (name: string) => {
    const init = inits.get(name);
    assert.ok(init && init.data.kind === 'inline', `no inline initializer ${name}`);
    const { offset, length } = init.data as { offset: number; length: number };
    const buf = Buffer.alloc(length);
    const fd = openSync(join(model, 'model.onnx'), 'r');
    readSync(fd, buf, 0, length, offset);
    closeSync(fd);
    return new Float32Array(buf.buffer, buf.byteOffset, length / 4);
  };
  for (const layer of ['block.attn.qkv', 'block.mlp.fc2', 'pool.kv', 'pool.mlp.fc1']) {
    const [age, gender, emotion] = ['age', 'gender', 'emotion'].map((t) => weight(`tails.${t}.${layer}.weight`));
    assert.ok(maxAbsDiff(age!, gender!) > 1e-4 && maxAbsDiff(gender!, emotion!) > 1e-4, `${layer}: tails share weights`);
  }
  assert.ok(!inits.has('trunk.blocks.11.attn.qkv.weight'), 'the trunk still holds the last block');
});

test('MTLoRA adapters of the wrong layout are refused, nothing written', () => {
  const out = join(work, 'refused');
  const tasks = (age: string, extra: string[] = []) => [
    '--task-adapter',
    `age=${age}`,
    '--task-adapter',
    `gender=${join(adapters, 'tasks/gender')}`,
    '--task-adapter',
    `emotion=${join(adapters, 'tasks/emotion')}`,
    ...extra,
  ];
  const run = (taskArgs: string[]) =>
    runExport(['--backbone', TINY, '--adapter', adapters, '--heads', join(adapters, 'heads.safetensors'), ...taskArgs, '--out', out]);

  const wrongTask = run(['--task-adapter', `agee=${join(adapters, 'tasks/age')}`]);
  assert.equal(wrongTask.code, 2, wrongTask.stderr);
  assert.match(wrongTask.stderr, /--task-adapter agee=.*: unknown task 'agee' \(the tasks are age, gender, emotion\)/);

  const wrongModule = run(tasks(adapters));
  assert.equal(wrongModule.code, 2, wrongModule.stderr);
  assert.match(
    wrongModule.stderr,
    /task adapter age: tensor base_model\.model\.[\w.]+ changes [\w.]+, outside the task tail \(blocks\.11\.\*, attn_pool\.\*\)/,
  );

  const reshaped = join(work, 'rank-8');
  cpSync(join(adapters, 'tasks/age'), reshaped, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(reshaped, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(reshaped, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 8, lora_alpha: 8 }));
  const wrongShapes = run(tasks(reshaped));
  assert.equal(wrongShapes.code, 2, wrongShapes.stderr);
  assert.match(wrongShapes.stderr, /task adapter age does not fit the backbone \(nothing was merged\): size mismatch/);
  assert.ok(!existsSync(out));
});
