// export.py --int8 (issue 23, item 2): the tiny PE's int8 copy has MatMul/Gemm weights in int8 and
// LayerNorm/softmax in fp32, says so in its manifest, and runs in the agent; its labels agree with fp32
// only by chance (random weights), so fidelity is judged on the face-api nets, whose weights are real,
// quantized the same way and run on the parity photos' faces.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { loadManifest, precisionOf } from '../../agent/inference/manifest.js';
import { logitsOnFixture, maxAbsDiff, runExport } from '../helpers/pe-core.js';
import { compareOnFaces, formatParity, onnxOpCounts, parityFaces, quantizeDir, REAL_WEIGHT_NETS } from '../helpers/quant-parity.js';
import { runPercept } from '../helpers/agent-process.js';
import { benchPrecisions, precisionLines } from '../../agent/cli/bench-precisions.js';
import { defaults, validateConfig } from '../../agent/config/load.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-int8-');
const model = join(work, 'pe-tiny');
const int8 = `${model}-int8`;
let exportLog = '';

before(() => {
  const r = runExport(['--backbone', 'vit_pe_core_tiny_patch16_384', '--random-init', '--seed', '0', '--out', model, '--fp16', '--int8']);
  exportLog = r.stderr;
  assert.equal(r.code, 0, r.stderr);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the int8 copy says int8 in its manifest (the fp32 export says fp32) and is no merge target', () => {
  assert.equal(precisionOf(loadManifest(model).manifest), 'fp32');
  const m = loadManifest(int8).manifest;
  assert.equal(m.precision, 'int8');
  assert.equal(m.name, 'pe-core-tiny-patch16-384-random-int8');
  assert.equal((m as { adaptable?: unknown }).adaptable, undefined, 'int8 weights cannot take a merged adapter');
});

test('MatMul/Gemm weights are int8; LayerNorm, softmax and the attention products stay fp32', () => {
  const fp32 = onnxOpCounts(join(model, 'model.onnx'));
  const q = onnxOpCounts(join(int8, 'model.onnx'));
  // 53 linear layers of the backbone (MatMul) and the three heads (Gemm).
  assert.equal(q.MatMulInteger, 56, JSON.stringify(q));
  assert.ok((q.DynamicQuantizeLinear ?? 0) > 0, 'activations are quantized at run time');
  assert.equal(q.Gemm ?? 0, 0);
  assert.equal(q.LayerNormalization, fp32.LayerNormalization);
  assert.equal(q.Softmax, fp32.Softmax);
  assert.ok(q.MatMul! > 0 && q.MatMul! < fp32.MatMul!, 'q·k and attention·v (activation × activation) stay fp32 MatMul');
  assert.equal(q.QuantizeLinear ?? 0, 0, 'no static quantize/dequantize pairs around other operators');
  assert.match(exportLog, /int8: 56 MatMul\/Gemm quantized, \d+ activation×activation MatMul, 27 LayerNormalization and 13 Softmax kept fp32/);
});

test('the agent loads the int8 model (models verify, a worker session) and reproduces its fixture', async (t) => {
  const verify = await runPercept(['models', 'verify', int8]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /pe-core-tiny-patch16-384-random-int8: OK \(int8;/);
  const own = await logitsOnFixture(int8);
  for (const name of Object.keys(own.expected)) assert.ok(maxAbsDiff(own.outputs[name]!, own.expected[name]!) <= 1e-3, name);
  // Against fp32 on the same input: random weights, so this is reported, not judged.
  const vsFp32 = await logitsOnFixture(int8, model);
  const d = Math.max(...Object.keys(vsFp32.expected).map((n) => maxAbsDiff(vsFp32.outputs[n]!, vsFp32.expected[n]!)));
  t.diagnostic(`tiny PE (random weights) int8 vs fp32 on the fixture: max |Δlogit| ${d.toFixed(4)}`);
  for (const line of exportLog.split('\n').filter((l) => l.includes('int8 vs fp32'))) t.diagnostic(line);
  assert.ok(d < 0.5, `int8 logits drift ${d} from fp32`);
});

test('percept bench --model shows the three precisions side by side, and the PE-Core-L figures as estimates', async (t) => {
  const config = validateConfig({ ...defaults(), device: { id: 'bench' } }, 'test');
  // Given the int8 directory, the bench finds its fp32 and fp16 siblings too.
  const b = await benchPrecisions(int8, config, 3);
  assert.deepEqual(
    b.figures.map((f) => f.precision),
    ['fp32', 'fp16', 'int8'],
  );
  for (const f of b.figures) assert.ok(f.msPerFace > 0 && f.cpuMsPerFace > 0 && f.cpuMsPerGmac! > 0, JSON.stringify(f));
  assert.equal(b.largeEstimate?.length, 3);
  const lines = precisionLines(b);
  // A shared machine's load changes the wall times several-fold: the figures say what it was.
  assert.match(lines.join('\n'), /load average \d+(\.\d+)? → \d+(\.\d+)? on \d+ cores/);
  assert.match(lines.join('\n'), /PE-Core-L \(192\.18 GMAC\) ESTIMATED as GMAC × the CPU ms\/GMAC above, not measured/);
  for (const line of lines) t.diagnostic(line);
});

test('quantizing a model that is not fp32 is refused', () => {
  assert.throws(() => quantizeDir(int8, join(work, 'twice'), ['MatMul', 'Gemm']), /is int8: quantize the fp32 model/);
});

test('on nets with real weights (face-api, the parity photos) int8 publishes the fp32 label for ≥ 99 % of faces', async (t) => {
  const faces = await parityFaces(await loadOpenCV());
  assert.ok(faces.length >= 300, `only ${faces.length} face crops`);
  for (const [net, dir] of Object.entries(REAL_WEIGHT_NETS)) {
    const out = join(work, net);
    quantizeDir(dir, out, ['MatMul', 'Gemm']);
    const rows = await compareOnFaces(dir, out, faces);
    for (const line of formatParity(net, 'MatMul/Gemm', rows)) t.diagnostic(line);
    for (const r of rows) {
      assert.ok(r.agreement >= 0.99, `${net} ${r.task}: ${(r.agreement * 100).toFixed(1)} % agreement`);
      assert.ok(r.maxProbDiff < 0.1, `${net} ${r.task}: probabilities differ by up to ${r.maxProbDiff}`);
    }
  }
});
