// rank_pattern / alpha_pattern keys mean what peft makes of them (re.match(rf"(.*\.)?({key})$", module),
// first key in file order), run on a linear-time engine; hostile keys and values are refused naming the
// key, and a catastrophic key finishes. The expected matches below were produced by CPython 3.11's `re`
// with peft's own expression (the script is in the comment of each table).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePatterns, patternValue, type PatternField } from '../../agent/inference/merge/peft-patterns.js';
import { AdapterMismatch, planAdapter, type AdaptableLayer } from '../../agent/inference/merge/peft-adapter.js';
import { SafetensorsError } from '../../agent/inference/merge/safetensors.js';
import { tempDir } from '../helpers/temp.js';

const MODULES = ['blocks.0.attn.qkv', 'blocks.10.attn.qkv', 'blocks.1.mlp.fc1', 'visual.blocks.1.mlp.fc2', 'attn.out_proj', 'xattn.qkv'];

function table(patterns: unknown, field: PatternField = 'rank_pattern') {
  const problems: string[] = [];
  const t = compilePatterns(field, patterns, problems);
  return { t, problems };
}

test("each key matches the modules Python's re.match matches with peft's wrapper", () => {
  // python3: [bool(re.match(rf"(.*\.)?({k})$", m)) for m in MODULES]
  const python: [string, boolean[]][] = [
    ['attn.qkv', [true, true, false, false, false, false]],
    ['blocks\\.1\\.mlp\\.fc\\d', [false, false, true, true, false, false]],
    ['qkv|fc1', [true, true, true, false, false, true]],
    // Python's {,2} is {0,2}; RE2 alone would read it as text.
    ['blocks.1{,2}0?\\.attn\\.qkv', [true, true, false, false, false, false]],
    ['(?i:ATTN)\\.qkv', [true, true, false, false, false, false]],
    ['(?-i:attn)\\.qkv', [true, true, false, false, false, false]],
    // The key closes peft's group: the first alternative is anchored at the start only.
    ['x)|(.*fc2', [false, false, false, true, false, true]],
    // Python reads [ inside a class literally; RE2 alone would see a POSIX class.
    ['[[:a]]ttn.qkv', [false, false, false, false, false, false]],
    ['mlp\\.fc\\x31', [false, false, true, false, false, false]],
    ['\\u0062locks\\.0\\..*', [true, false, false, false, false, false]],
    ['(?#comment)attn\\.out_proj\\Z', [false, false, false, false, true, false]],
    ['(?P<n>mlp)\\.fc[12]', [false, false, true, true, false, false]],
    ['b\\154ocks\\.1\\.mlp\\.fc1', [false, false, true, false, false, false]],
  ];
  for (const [key, expected] of python) {
    const { t, problems } = table({ [key]: 4 });
    assert.deepEqual(problems, [], key);
    assert.deepEqual(
      MODULES.map((m) => patternValue(t, m) === 4),
      expected,
      key,
    );
  }
});

test('the first matching key wins (file order), then an exact module name, then the default', () => {
  const { t } = table({ 'attn\\.qkv': 8, '.*qkv': 16, 'blocks.1.mlp.fc1': 2 });
  assert.equal(patternValue(t, 'blocks.0.attn.qkv'), 8);
  assert.equal(patternValue(t, 'xattn.qkv'), 16);
  assert.equal(patternValue(t, 'blocks.1.mlp.fc1'), 2);
  assert.equal(patternValue(t, 'attn.out_proj'), undefined);
});

test('a catastrophic key finishes and leaves the default; a catastrophic key that matches gives its value', () => {
  const name = `${'visual.transformer.resblocks.11.attn.'.repeat(6)}out_proj`;
  const { t, problems } = table({ '(([\\w.]*)*)*#': 2, '((([\\w.]*)*)*)*out_proj': 6 });
  assert.deepEqual(problems, []);
  assert.equal(patternValue(t, `${name}x`), undefined);
  assert.equal(patternValue(t, name), 6);
});

test('keys a linear-time engine cannot run, or Python would refuse, are refused naming the key', () => {
  const cases: [string, RegExp][] = [
    ['(', /rank_pattern key "\(": not a valid regular expression \(missing closing \)/],
    ['(a)\\1', /rank_pattern key "\(a\)\\\\1": \\1 is a backreference/],
    ['(?P<n>a)(?P=n)', /backreferences and lookaround/],
    ['attn(?=\\.qkv)', /backreferences and lookaround/],
    ['(?<!x)attn', /backreferences and lookaround/],
    ['(?>attn)', /atomic/],
    ['(?i)attn', /global inline flag/],
    ['(?x)attn', /global inline flag/],
    ['(?x:attn)', /verbose/],
    ['\\pL', /\\p is not an escape Python's re knows/],
    ['\\N{DIGIT ONE}', /named characters/],
    ['(?<n>a)', /not a group Python's re knows/],
    ['a{2000}', /invalid repeat count/],
    ['x'.repeat(1001), /1001 characters long/],
  ];
  for (const [key, message] of cases) {
    const { t, problems } = table({ [key]: 4, 'attn\\.qkv': 8 });
    assert.equal(problems.length, 1, `${key}: ${problems.join('; ')}`);
    assert.match(problems[0]!, message, key);
    assert.equal(patternValue(t, 'blocks.0.attn.qkv'), 8, 'the other keys still compiled');
  }
});

test('values must be positive integers, and the table an object; the message names the field and key', () => {
  for (const v of [-4, 0, 2.5, '4', null]) {
    const { problems } = table({ 'attn\\.qkv': v }, 'alpha_pattern');
    assert.match(
      problems.join(),
      new RegExp(`^alpha_pattern\\["attn\\\\\\\\\\.qkv"\\] is ${JSON.stringify(JSON.stringify(v)).slice(1, -1)}, needs a positive integer$`),
    );
  }
  assert.match(table([1, 2]).problems.join(), /rank_pattern is \[1,2\], needs an object/);
  assert.deepEqual(table(undefined).problems, []);
});

test('number-like keys lose their file place in a JSON object: a module two keys decide differently is refused', () => {
  const { t } = table({ 'mlp\\.1': 4, '1': 2 });
  assert.throws(() => patternValue(t, 'mlp.1'), /rank_pattern keys "1" and "mlp\\\\\.1" both match mlp\.1 with different values/);
  assert.equal(patternValue(t, 'layers.1'), 2, 'one match: no ambiguity');
  const same = table({ 'mlp\\.1': 2, '1': 2 }).t;
  assert.equal(patternValue(same, 'mlp.1'), 2, 'both keys give the same value: no ambiguity');
});

// ---- the adapter as a whole ----

const IN = 6;
const OUT = 5;
// Names as long as real ones: a backtracking engine needs 30 s for (([\w.]*)*)*# on 17 characters, and
// doubles that with each one more.
const QKV = 'visual.transformer.resblocks.0.attn.qkv';
const FC1 = 'visual.transformer.resblocks.1.mlp.fc1';
const adaptable: Record<string, AdaptableLayer> = {
  [QKV]: { initializer: 'w0', layout: 'out-in', shape: [OUT, IN] },
  [FC1]: { initializer: 'w1', layout: 'out-in', shape: [OUT, IN] },
};

/** A safetensors file from names and shapes (zeros): 8-byte header length, JSON header, data. */
function safetensors(path: string, tensors: Record<string, number[]>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(tensors)) {
    const bytes = shape.reduce((n, d) => n * d, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, Buffer.alloc(Math.max(0, offset))]));
}

function adapter(config: Record<string, unknown>, ranks: Record<string, number> = { [QKV]: 4, [FC1]: 4 }): string {
  const dir = tempDir('percept-peft-');
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, ...config }));
  const tensors: Record<string, number[]> = {};
  for (const [m, r] of Object.entries(ranks)) {
    tensors[`base_model.model.${m}.lora_A.weight`] = [r, IN];
    tensors[`base_model.model.${m}.lora_B.weight`] = [OUT, r];
  }
  safetensors(join(dir, 'adapter_model.safetensors'), tensors);
  return dir;
}

// The timeout only ends a run that would never finish (a backtracking engine): no speed is asserted.
test('an adapter whose rank_pattern holds a catastrophic key is planned with the right ranks and scales', { timeout: 300_000 }, () => {
  const plan = planAdapter(
    adapter({ rank_pattern: { '(([\\w.]*)*)*#': 16, 'mlp\\.fc1': 2 }, alpha_pattern: { 'attn\\.qkv': 12 } }, { [QKV]: 4, [FC1]: 2 }),
    adaptable,
  );
  try {
    const by = Object.fromEntries(plan.layers.map((l) => [l.module, l]));
    assert.equal(by[QKV]!.rank, 4, 'no key matched: r');
    assert.equal(by[QKV]!.scale, 12 / 4, 'alpha_pattern / r');
    assert.equal(by[FC1]!.rank, 2, 'rank_pattern');
    assert.equal(by[FC1]!.scale, 8 / 2, 'lora_alpha / rank_pattern');
  } finally {
    plan.file.close();
  }
});

test('hostile adapter configs are AdapterMismatch (exit 65) naming the key, never a raw error', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ rank_pattern: { '(': 4 } }, /^adapter_config\.json: rank_pattern key "\(": not a valid regular expression/],
    [{ rank_pattern: { 'attn\\.qkv': -4 } }, /^adapter_config\.json: rank_pattern\["attn\\\\\.qkv"\] is -4, needs a positive integer/],
    [{ alpha_pattern: { 'attn\\.qkv': 0 } }, /alpha_pattern\["attn\\\\\.qkv"\] is 0, needs a positive integer/],
    [{ lora_alpha: -8 }, /lora_alpha is -8, needs a positive integer/],
    [{ lora_alpha: 1.5 }, /lora_alpha is 1\.5, needs a positive integer/],
    [{ r: 0 }, /r is 0, needs a positive integer/],
    [{ rank_pattern: 'attn' }, /rank_pattern is "attn", needs an object/],
  ];
  for (const [config, message] of cases) {
    assert.throws(
      () => planAdapter(adapter(config), adaptable),
      (err: Error) => err instanceof AdapterMismatch && message.test(err.message),
      JSON.stringify(config),
    );
  }
});

test('a tensor with a negative or fractional size is refused naming the tensor', () => {
  for (const shape of [
    [-4, IN],
    [2.5, IN],
  ]) {
    const dir = adapter({ rank_pattern: { 'attn\\.qkv': 4 } });
    const name = `base_model.model.${QKV}.lora_A.weight`;
    // Hand-made header: negative sizes give a negative byte count that data_offsets can "match".
    const bytes = shape[0]! * shape[1]! * 4;
    const json = Buffer.from(JSON.stringify({ [name]: { dtype: 'F32', shape, data_offsets: bytes < 0 ? [-bytes, 0] : [0, bytes] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(dir, 'adapter_model.safetensors'), Buffer.concat([len, json, Buffer.alloc(256)]));
    assert.throws(
      () => planAdapter(dir, adaptable),
      (err: Error) => err instanceof SafetensorsError && new RegExp(`tensor ${name.replace(/\./g, '\\.')} has shape`).test(err.message),
      JSON.stringify(shape),
    );
  }
});
