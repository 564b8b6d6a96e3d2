// The research model's path on the real PE architecture at tiny size: export (random DoRA r=64 adapter,
// merged) → manifest → the agent's worker session reproduces PyTorch's logits → percept run publishes
// events in the contract's label sets. Then the update path: an adapter merged on the device by
// `percept models merge` into a base exported without one gives peft's merge_and_unload logits.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadManifest } from '../../agent/inference/manifest.js';
import { CONTRACT_LABELS } from '../../agent/contract/labels.js';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { exportPython, logitsOnFixture, maxAbsDiff, readF32, renameSafetensors, runExport } from '../helpers/pe-core.js';
import { spawnSync } from 'node:child_process';
import { scanInitializers } from '../../agent/inference/merge/onnx-initializers.js';
import { runPercept } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-pe-');
const model = join(work, 'pe-tiny');
const adapter = join(work, 'adapter');
const base = join(work, 'pe-tiny-base');
const loraAdapter = join(work, 'lora-adapter');
const TINY = 'vit_pe_core_tiny_patch16_384';
let exportLog = '';

before(() => {
  const r = runExport(['--backbone', TINY, '--random-init', '--seed', '0', '--out', model, '--save-adapter', adapter, '--fp16']);
  exportLog = r.stderr;
  assert.equal(r.code, 0, r.stderr);
  // The same seed without an adapter merged, plus a random LoRA adapter with peft's merged logits beside it.
  const b = runExport([
    '--backbone',
    TINY,
    '--mode',
    'base',
    '--random-init',
    '--seed',
    '0',
    '--adapter-kind',
    'lora',
    '--save-adapter',
    loraAdapter,
    '--out',
    base,
  ]);
  assert.equal(b.code, 0, b.stderr);
});

test('the export checked merged against unmerged PEFT logits and onnxruntime against PyTorch', () => {
  const merged = exportLog.match(/merged vs unmerged PEFT model: max \|Δlogit\| = ([\d.e+-]+)/);
  const onnx = exportLog.match(/fp32: .* onnxruntime vs PyTorch max \|Δlogit\| = ([\d.e+-]+)/);
  assert.ok(merged && Number(merged[1]) <= 1e-4, exportLog);
  assert.ok(onnx && Number(onnx[1]) <= 1e-4, exportLog);
  assert.match(exportLog, /53 linear layers/);
});

test('the manifest states the contract: pixel_values, three logit outputs, label orders, PE preprocessing', () => {
  const m = loadManifest(model).manifest;
  assert.equal(m.input.name, 'pixel_values');
  assert.deepEqual(m.input.shape, ['batch', 3, 384, 384]);
  assert.equal(m.input.resize, 'squash');
  assert.deepEqual(m.input.normalise, {
    mean: [127.5, 127.5, 127.5],
    std: [127.5, 127.5, 127.5],
  });
  assert.deepEqual(
    m.outputs.map((o) => [o.name, o.shape, o.type, o.labels]),
    [
      ['age_logits', ['batch', 9], 'softmax-logits', CONTRACT_LABELS.age],
      ['gender_logits', ['batch', 2], 'softmax-logits', CONTRACT_LABELS.gender],
      ['emotion_logits', ['batch', 7], 'softmax-logits', CONTRACT_LABELS.emotion],
    ],
  );
});

test('the agent, through its manifest path in a worker, reproduces the PyTorch logits (fp32 ≤ 1e-4)', async () => {
  const { outputs, expected, dims, expectedDims } = await logitsOnFixture(model);
  for (const name of ['age_logits', 'gender_logits', 'emotion_logits']) {
    assert.deepEqual(dims[name], expectedDims[name]);
    const d = maxAbsDiff(outputs[name]!, expected[name]!);
    assert.ok(d <= 1e-4, `${name}: max |Δ| ${d}`);
  }
});

test('the fp16 copy (LayerNorm in fp32) stays close to fp32', async () => {
  const fp16 = `${model}-fp16`;
  assert.equal(loadManifest(fp16).manifest.name, 'pe-core-tiny-patch16-384-random-fp16');
  // The fp16 model on the fp32 model's parity input, against its fp32 logits.
  const { outputs, expected } = await logitsOnFixture(fp16, model);
  const d = Math.max(...['age_logits', 'gender_logits', 'emotion_logits'].map((n) => maxAbsDiff(outputs[n]!, expected[n]!)));
  assert.ok(d < 0.05, `fp16 vs fp32 max |Δlogit| ${d}`);
});

test('a saved PEFT adapter + heads exports to the same logits as the model it came from', () => {
  const again = join(work, 'from-adapter');
  const r = runExport(['--backbone', TINY, '--adapter', adapter, '--heads', join(adapter, 'heads.safetensors'), '--out', again]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['age_logits', 'gender_logits', 'emotion_logits']) {
    const d = maxAbsDiff(readF32(join(again, `parity/${f}.f32`)), readF32(join(model, `parity/${f}.f32`)));
    assert.ok(d <= 1e-5, `${f}: ${d}`);
  }
});

test('an adapter that does not match the backbone is refused, nothing written', () => {
  const out = join(work, 'refused');
  const wrongBackbone = runExport([
    '--backbone',
    'vit_pe_core_small_patch16_384',
    '--adapter',
    adapter,
    '--heads',
    join(adapter, 'heads.safetensors'),
    '--out',
    out,
  ]);
  assert.equal(wrongBackbone.code, 2);
  assert.match(wrongBackbone.stderr, /adapter does not fit the backbone \(nothing was merged\): size mismatch/);

  const cfg = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8'));
  const badAdapter = join(work, 'bad-adapter');
  cpSync(adapter, badAdapter, { recursive: true });
  writeFileSync(join(badAdapter, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: [...cfg.target_modules, 'to_q'] }));
  const unknownModule = runExport(['--backbone', TINY, '--adapter', badAdapter, '--heads', join(adapter, 'heads.safetensors'), '--out', out]);
  assert.equal(unknownModule.code, 2);
  assert.match(unknownModule.stderr, /target modules \['to_q'\] are not linear layers/);

  const badHeads = runExport(['--backbone', TINY, '--adapter', adapter, '--heads', join(adapter, 'adapter_model.safetensors'), '--out', out]);
  assert.equal(badHeads.code, 2);
  assert.match(badHeads.stderr, /heads: .* has no age\.weight/);
  assert.ok(!existsSync(out));
});

test('percept models verify and percept run --model with the exported model', async () => {
  const verify = await runPercept(['models', 'verify', model]);
  assert.equal(verify.code, 0, verify.stderr);
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  const res = await runPercept(['run', '--source', clip, '--model', model, '--state-dir', join(work, 'state'), '--exit-on-eof', '--print-events'], {
    PERCEPT_MQTT_EMBEDDED_PORT: '0',
  });
  assert.equal(res.code, 0, res.stderr);
  const events = res.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.type).sort(), ['entered', 'entered', 'left', 'left']);
  for (const e of events) {
    assert.equal(e.model, 'pe-core-tiny-patch16-384-random');
    for (const task of ['age', 'gender', 'emotion'] as const) {
      assert.ok(CONTRACT_LABELS[task].includes(e[task].label), `${task} ${e[task].label}`);
      assert.deepEqual(Object.keys(e[task].probs), CONTRACT_LABELS[task]);
      const sum = Object.values(e[task].probs as Record<string, number>).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `${task} probabilities sum to ${sum}`);
    }
  }
});

test('the manifest records the ONNX initializer of every adaptable linear weight, and the files are world-readable', () => {
  const m = JSON.parse(readFileSync(join(base, 'model.json'), 'utf8'));
  assert.equal(m.variant, 'single-tail');
  const inits = new Map(scanInitializers(join(base, 'model.onnx')).map((i) => [i.name, i]));
  const layers = Object.entries(m.adaptable as Record<string, { initializer: string; layout: string; shape: number[] }>);
  assert.equal(layers.length, 53);
  for (const [module, l] of layers) {
    const init = inits.get(l.initializer);
    assert.ok(init, `${module}: no initializer ${l.initializer}`);
    assert.deepEqual(init.dims, l.layout === 'out-in' ? l.shape : [...l.shape].reverse(), module);
    assert.equal(init.data.kind, 'inline');
  }
  for (const p of [model, base, join(model, 'model.onnx'), join(model, 'parity')]) {
    assert.equal(statSync(p).mode & 0o755, statSync(p).isDirectory() ? 0o755 : 0o644, `${p} is ${(statSync(p).mode & 0o777).toString(8)}`);
  }
});

async function mergedMatches(adapterDir: string, fixtureDir: string, out: string) {
  const r = await runPercept(['models', 'merge', base, adapterDir, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[merge\] 100% \(53\/53 layers\)/);
  const merged = await logitsOnFixture(out, fixtureDir);
  const unmerged = await logitsOnFixture(base, fixtureDir);
  for (const name of Object.keys(merged.expected)) {
    const d = maxAbsDiff(merged.outputs[name]!, merged.expected[name]!);
    assert.ok(d <= 1e-4, `${name}: merged in TypeScript vs peft merge_and_unload max |Δ| ${d}`);
    // The adapter changes the logits, so the comparison above could fail.
    assert.ok(maxAbsDiff(unmerged.outputs[name]!, merged.expected[name]!) > 1e-2, `${name}: the adapter changes nothing`);
  }
  return JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
}

test('percept models merge: a random DoRA adapter onto the seed-0 base gives the logits of the seed-0 merged export', async () => {
  const m = await mergedMatches(adapter, model, join(work, 'merged-dora'));
  const sha = createHash('sha256')
    .update(readFileSync(join(adapter, 'adapter_model.safetensors')))
    .digest('hex');
  assert.equal(m.merged.adapter.kind, 'DoRA');
  assert.equal(m.merged.adapter.safetensorsSha256, sha);
  assert.equal(m.merged.base.sha256, JSON.parse(readFileSync(join(base, 'model.json'), 'utf8')).files[0].sha256);
  assert.match(m.provenance, new RegExp(`adapter_model.safetensors sha256 ${sha}`));
  assert.equal(statSync(join(work, 'merged-dora')).mode & 0o777, 0o755);
  const verify = await runPercept(['models', 'verify', join(work, 'merged-dora')]);
  assert.equal(verify.code, 0, verify.stderr);
});

test('percept models merge: a random LoRA adapter gives peft merge_and_unload logits', async () => {
  const m = await mergedMatches(loraAdapter, loraAdapter, join(work, 'merged-lora'));
  assert.equal(m.merged.adapter.kind, 'LoRA');
});

test('percept models merge: rank_pattern keys that backtrack catastrophically still merge, with the ranks peft gives', async () => {
  // (([\w.]*)*)*# matches no module and took 51 s of CPU per module on a backtracking engine; the second
  // key matches every qkv layer and names the adapter's own rank, so a wrong match fails the shape check.
  const dir = join(work, 'lora-catastrophic');
  cpSync(loraAdapter, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(loraAdapter, 'adapter_config.json'), 'utf8'));
  const rankPattern = { '(([\\w.]*)*)*#': 2, '((([\\w.]*)*)*)*qkv': cfg.r };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, rank_pattern: rankPattern }));
  await mergedMatches(dir, loraAdapter, join(work, 'merged-catastrophic'));
});

test('percept models merge refuses, naming the tensor or key: another backbone, a truncated file, a wrong rank, an invalid or negative rank_pattern, an unknown module', async () => {
  const smallAdapter = join(work, 'small-adapter');
  const small = runExport([
    '--backbone',
    'vit_pe_core_small_patch16_384',
    '--mode',
    'base',
    '--random-init',
    '--save-adapter',
    smallAdapter,
    '--out',
    join(work, 'small-base'),
  ]);
  assert.equal(small.code, 0, small.stderr);
  const variant = (name: string, edit: (dir: string) => void) => {
    const dir = join(work, name);
    cpSync(adapter, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const truncated = variant('truncated', (d) => truncateSync(join(d, 'adapter_model.safetensors'), statSync(join(d, 'adapter_model.safetensors')).size - 1000));
  const cfg = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8'));
  const wrongRank = variant('wrong-rank', (d) => writeFileSync(join(d, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 32 })));
  const badPattern = variant('bad-pattern', (d) => writeFileSync(join(d, 'adapter_config.json'), JSON.stringify({ ...cfg, rank_pattern: { '(': 4 } })));
  const negativeRank = variant('negative-rank', (d) =>
    writeFileSync(join(d, 'adapter_config.json'), JSON.stringify({ ...cfg, rank_pattern: { 'attn\\.qkv': -4 } })),
  );
  const unknown = variant('unknown-module', (d) =>
    renameSafetensors(join(adapter, 'adapter_model.safetensors'), join(d, 'adapter_model.safetensors'), (k) =>
      k.replace('blocks.3.attn.qkv.', 'blocks.3.attn.to_q.'),
    ),
  );
  const cases: [string, RegExp][] = [
    [
      smallAdapter,
      /adapter tensor base_model\.model\.[\w.]+\.lora_A\.weight has shape \[64, 384\], needs \[64, 192\] for the base layer [\w.]+ \(weight \[\d+, 192\]\); an adapter for another backbone\?/,
    ],
    [truncated, /adapter_model\.safetensors is truncated: tensor base_model\.model\.[\w.]+ needs bytes/],
    [wrongRank, /adapter tensor base_model\.model\.[\w.]+\.lora_A\.weight has rank 64, adapter_config\.json says r=32/],
    [badPattern, /adapter_config\.json: rank_pattern key "\(": not a valid regular expression \(missing closing \)/],
    [negativeRank, /adapter_config\.json: rank_pattern\["attn\\\\\.qkv"\] is -4, needs a positive integer/],
    [unknown, /adapter tensor base_model\.model\.blocks\.3\.attn\.to_q\.lora_[AB]\.weight: the base model has no adaptable layer blocks\.3\.attn\.to_q/],
  ];
  for (const [dir, message] of cases) {
    const out = join(work, `refused-${dir.split('/').pop()}`);
    const r = await runPercept(['models', 'merge', base, dir, '--out', out]);
    assert.equal(r.code, 65, `${dir}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), `${out} was written`);
  }
});

test('percept models merge patches weights kept in ONNX external data as well', async () => {
  const external = join(work, 'base-external');
  cpSync(base, external, { recursive: true });
  // onnx's own writer moves the weights to model.onnx.data; the manifest then lists both files.
  const script = `
import hashlib, json, os, sys, onnx
d = sys.argv[1]
onnx.save_model(onnx.load(f"{d}/model.onnx"), f"{d}/model.onnx", save_as_external_data=True, location="model.onnx.data", size_threshold=1024)
m = json.load(open(f"{d}/model.json"))
m["files"] = [{"path": p, "sha256": hashlib.sha256(open(f"{d}/{p}", "rb").read()).hexdigest()} for p in ("model.onnx", "model.onnx.data")]
json.dump(m, open(f"{d}/model.json", "w"))`;
  const py = spawnSync(exportPython(), ['-c', script, external], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.ok(scanInitializers(join(external, 'model.onnx')).some((i) => i.data.kind === 'external'));
  const out = join(work, 'merged-external');
  const r = await runPercept(['models', 'merge', external, adapter, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const { outputs, expected } = await logitsOnFixture(out, model);
  for (const name of Object.keys(expected)) assert.ok(maxAbsDiff(outputs[name]!, expected[name]!) <= 1e-4, name);
});
