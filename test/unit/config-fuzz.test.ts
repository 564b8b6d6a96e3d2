// Fuzzing the two ways a config gets in (deterministic seeds, so a failure replays): mutated YAML files
// through the loader, and generated or mutated payloads through the remote patch evaluator. Neither may
// throw anything but a ConfigError; a refusal lists its keys; an accepted patch is applied whole, only to
// keys a patch may set, and its result always validates.
import { pick, rng } from '../helpers/rng.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeLayers, ConfigError, loadConfig, validateConfig, type ConfigLayers } from '../../agent/config/load.js';
import { valueIssues } from '../../agent/config/checks.js';
import { isRemoteSettable, KEYS } from '../../agent/config/keys.js';
import { evaluatePatch } from '../../agent/config/remote.js';
import { PACKAGE_ROOT } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';

const TOKENS = [
  ':',
  '-',
  ' ',
  '  ',
  '\n',
  '\t',
  '&a',
  '*a',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '#',
  '!!str',
  '!!binary',
  '%YAML 1.1',
  '---',
  '...',
  '? ',
  '|',
  '>',
  '~',
  'null',
  '.inf',
  '-.nan',
  '1e309',
  '0x1F',
  '0o17',
  '-1',
  '99999999999999999999',
  '2147483648',
  '"25:00"',
  'Mars/Olympus',
  '__proto__',
  'constructor',
  '\u0000',
  '\uFEFF',
  'é',
  '\\',
  '<<: *a',
  'true',
  'no',
  '!!js/function',
  '*undefined',
  '&b [*b]',
];
const REPLACEMENTS = [
  '-1',
  '0',
  '1e29',
  '2147483648',
  'NaN',
  '.nan',
  '.inf',
  '""',
  '"#"',
  '"a/+"',
  '[]',
  '{}',
  'null',
  '~',
  'yes',
  '"x\\0y"',
  'Mars/Olympus',
  '"99:99"',
  '[{days: xyz, from: "99:99", to: "1:00"}]',
  '[1, 2]',
  '{a: 1}',
  '*nope',
  '"mqtt://u:p@h"',
  'rtsp://[bad',
  '0.5',
];

function mutateYaml(text: string, r: () => number): string {
  let lines = text.split('\n');
  const steps = 1 + Math.floor(r() * 4);
  for (let s = 0; s < steps; s++) {
    const i = Math.floor(r() * lines.length);
    const line = lines[i] ?? '';
    switch (Math.floor(r() * 8)) {
      case 0: {
        const at = Math.floor(r() * (line.length + 1));
        lines[i] = line.slice(0, at) + pick(r, TOKENS) + line.slice(at);
        break;
      }
      case 1: {
        const at = Math.floor(r() * line.length);
        lines[i] = line.slice(0, at) + line.slice(at + 1 + Math.floor(r() * 5));
        break;
      }
      case 2:
        lines.splice(i, 1);
        break;
      case 3:
        lines.splice(i, 0, line);
        break; // duplicate keys
      case 4:
        lines[i] = (r() < 0.5 ? ' ' : '') + line.replace(/^ {2}/, r() < 0.5 ? '' : '    ');
        break; // indentation
      case 5:
        lines[i] = line.replace(/:\s+[^#]*/, `: ${pick(r, REPLACEMENTS)} `);
        break; // a value
      case 6: {
        const j = Math.floor(r() * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', line];
        break;
      }
      default:
        lines = lines.slice(0, Math.max(1, Math.floor(r() * lines.length)));
        break; // truncated
    }
  }
  return lines.join('\n');
}

test('300 mutated YAML files: each loads or is refused with a ConfigError listing paths; never another throw', (t) => {
  const base = readFileSync(join(PACKAGE_ROOT, 'config/percept.yaml'), 'utf8').replace('uri: ""', 'uri: "clip.mp4"');
  const small =
    'source:\n  uri: clip.mp4\ndetector:\n  scoreThreshold: 0.6\nschedule:\n  timezone: Europe/Berlin\n  openingHours:\n    - {days: mon-fri, from: "08:00", to: "20:00"}\nlog:\n  namespaces: {detect: debug}\n';
  const dir = tempDir('percept-fuzz-');
  const r = rng(11);
  let loaded = 0;
  let refused = 0;
  for (let n = 0; n < 300; n++) {
    const text = mutateYaml(n % 3 === 0 ? small : base, r);
    const file = join(dir, `f${n}.yaml`);
    writeFileSync(file, text);
    try {
      const { config } = loadConfig({ file, env: {}, readOverrides: false });
      assert.deepEqual(valueIssues(config), [], `loaded but not valid: ${file}`);
      validateConfig(config, 'reloaded');
      loaded++;
    } catch (err) {
      if (!(err instanceof ConfigError)) assert.fail(`${file} threw ${(err as Error).stack}\n--- file ---\n${text}`);
      assert.ok(err.issues.length > 0, `${file}: a refusal without issues`);
      for (const i of err.issues) assert.ok(typeof i.path === 'string' && i.message.length > 0, `${file}: ${JSON.stringify(i)}`);
      refused++;
    }
  }
  // Both outcomes occur, or the mutations are not exercising anything.
  t.diagnostic(`loaded ${loaded}, refused ${refused}`);
  assert.ok(loaded > 20 && refused > 50, `loaded ${loaded}, refused ${refused}`);
});

const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  0.5,
  1.5,
  7,
  100,
  1e29,
  -1e29,
  2 ** 31,
  2 ** 31 - 1,
  '',
  'x',
  '#',
  'a/+',
  'debug',
  'Mars/Olympus',
  'Europe/Berlin',
  'mqtt://evil',
  '/tmp',
  [],
  ['cpu'],
  ['x'],
  [1],
  {},
  { a: 1 },
  { debug: 'debug' },
  [{ days: 'mon-fri', from: '08:00', to: '20:00' }],
  [{ days: 'xyz', from: '99:99', to: '1:00' }],
  '__proto__',
];

/** A value the key's schema may accept: its default, its bounds (and just past them), or between. */
function plausible(schema: unknown, r: () => number): unknown {
  const s = schema as { default?: unknown; minimum?: number; maximum?: number; type?: string };
  if (s.type === 'integer' || s.type === 'number') {
    const lo = s.minimum ?? 0;
    const hi = s.maximum ?? 1e6;
    const mid = lo + (hi - lo) * r();
    return pick(r, [lo, hi, s.type === 'integer' ? Math.round(mid) : mid, hi + 1, s.default]);
  }
  if (s.type === 'boolean') return r() < 0.5;
  return s.default;
}

/** A patch built from real keys (most), unknown ones, sections, nulls and forbidden names. */
function generatePatch(r: () => number): unknown {
  const patch: Record<string, unknown> = {};
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const roll = r();
    if (roll < 0.75) {
      const key = pick(r, KEYS);
      let node = patch;
      for (const s of key.segments.slice(0, -1)) node = (node[s] = typeof node[s] === 'object' && node[s] !== null ? node[s] : {}) as Record<string, unknown>;
      node[key.segments[key.segments.length - 1]!] = structuredClone(r() < 0.6 ? plausible(key.schema, r) : pick(r, VALUES));
    } else if (roll < 0.85) {
      patch[pick(r, ['detector', 'tracker', 'mqtt', 'log', 'schedule'])] = pick(r, [null, 7, 'x', [], {}]);
    } else if (roll < 0.95) {
      patch[pick(r, ['bogus', 'Detector', '__proto__', 'constructor', 'prototype', 'requestId'])] = pick(r, VALUES);
    } else {
      let deep: unknown = 1;
      for (let d = 0; d < 3 + Math.floor(r() * 8); d++) deep = { a: deep };
      patch.detector = deep;
    }
  }
  return patch;
}

/** A valid-looking patch's bytes, damaged. */
function mutateBytes(text: string, r: () => number): string {
  const at = Math.floor(r() * (text.length + 1));
  switch (Math.floor(r() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + pick(r, ['{', '}', '"', ',', ':', '\\', '\u0000', 'null', '[', ']', ' ', '1e999']) + text.slice(at);
    case 2:
      return text.slice(0, at);
    default:
      return text.replace(/\d/, pick(r, ['-', '9999999999', 'x', '']));
  }
}

test('1,200 generated or mutated config/set payloads: refused with reasons or applied whole; `next` always validates', (t) => {
  const r = rng(7);
  const base: ConfigLayers = {
    file: { source: { uri: 'clip.mp4' }, remoteConfig: { allow: ['mqtt.url'] } },
    overrides: {},
    environment: { tracker: { maxUnseenMs: 900 } },
    flags: { device: { id: 'fuzz' } },
    fileName: null,
    overridesFile: null,
  };
  let layers = structuredClone(base);
  let applied = 0;
  let refused = 0;
  for (let n = 0; n < 1200; n++) {
    const generated = JSON.stringify(generatePatch(r));
    const payload = n % 4 === 3 ? mutateBytes(generated, r) : generated;
    const before = structuredClone(layers);
    const current = composeLayers(layers);
    let result;
    try {
      result = evaluatePatch(layers, payload);
    } catch (err) {
      assert.fail(`payload ${n} threw ${(err as Error).stack}: ${payload}`);
    }
    assert.deepEqual(layers, before, `payload ${n} mutated the layers it was given`);
    if (!result.ok) {
      assert.ok(result.errors.length > 0 && result.errors.every((e) => typeof e.path === 'string' && e.message.length > 0), `payload ${n}: ${payload}`);
      assert.ok(result.next === undefined && result.layers === undefined && result.applied.length === 0 && result.restartRequired.length === 0);
      refused++;
      continue;
    }
    const next = result.next!;
    assert.deepEqual(validateConfig(next, 'fuzz'), next, `payload ${n}: next does not validate`);
    assert.deepEqual(valueIssues(next), []);
    assert.deepEqual(composeLayers(result.layers!), next, 'next is what the new layers compose to');
    for (const key of [...result.applied, ...result.restartRequired]) assert.ok(isRemoteSettable(key, ['mqtt.url']), `payload ${n} changed ${key}: ${payload}`);
    // Applied whole: every key the patch changed is reported, and nothing else moved.
    for (const key of KEYS) {
      const changed =
        JSON.stringify(key.segments.reduce<unknown>((o, s) => (o as Record<string, unknown>)[s], current)) !==
        JSON.stringify(key.segments.reduce<unknown>((o, s) => (o as Record<string, unknown>)[s], next));
      assert.equal(changed, [...result.applied, ...result.restartRequired].includes(key.path), `payload ${n}: ${key.path}`);
    }
    assert.equal(next.device.id, 'fuzz', 'flags stay');
    assert.equal(next.tracker.maxUnseenMs, 900, 'environment stays');
    layers = result.layers!;
    applied++;
  }
  assert.equal(({} as Record<string, unknown>).a, undefined, 'no prototype pollution');
  t.diagnostic(`applied ${applied}, refused ${refused}`);
  assert.ok(applied > 100 && refused > 300, `applied ${applied}, refused ${refused}`);
});
