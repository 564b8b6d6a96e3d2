// Config versions and saved tuning, as pure functions: migrations (a test-only table stands in for a
// future rename), the overrides file refused whole when newer or invalid and kept aside, never
// overwritten; `save` and `dryRun` in a patch; the sources the agent waits for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VERSION, MIGRATIONS, migrate, type Migration } from '../../agent/config/migrations.js';
import { ConfigError, loadConfig, type ConfigLayers } from '../../agent/config/load.js';
import { loadOverrides } from '../../agent/config/overrides.js';
import { commitPatch, evaluatePatch, resultPayload } from '../../agent/config/remote.js';
import { sourceKind } from '../../agent/capture/opencv-source.js';
import { NO_SOURCE_DETAIL, ResilientSource, type CameraState } from '../../agent/capture/resilient-source.js';
import type { FrameSource } from '../../agent/capture/frame.js';
import { isMissingModel } from '../../agent/service/model-wait.js';
import { ModelError } from '../../agent/inference/manifest.js';
import { layersOf } from '../helpers/config-layers.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const SOURCE = { source: { uri: 'clip.mp4' } };
const layers = (more: Partial<ConfigLayers> = {}): ConfigLayers => layersOf(SOURCE, more);

test('migrate: absent version is 1; each step runs in order; the version key never reaches the config', () => {
  assert.deepEqual(migrate({ detector: { minFacePx: 3 } }, 'f'), { doc: { detector: { minFacePx: 3 } }, from: 1 });
  assert.equal(CONFIG_VERSION, 1);
  assert.deepEqual(MIGRATIONS, {}, 'nothing renamed since version 1');
  // A test-only table: version 1 named it detector.minFace, 2 renamed it, 3 added a section.
  const table: Record<number, Migration> = {
    1: ({ detector, ...rest }) => {
      const { minFace, ...d } = (detector ?? {}) as Record<string, unknown>;
      return { ...rest, detector: { ...d, ...(minFace !== undefined ? { minFacePx: minFace } : {}) } };
    },
    2: (doc) => ({ ...doc, audience: { ...(doc.audience as object) } }),
  };
  const input = { version: 1, detector: { minFace: 30, maxFaces: 4 } };
  const out = migrate(input, 'f', table, 3);
  assert.deepEqual(out, { doc: { detector: { maxFaces: 4, minFacePx: 30 }, audience: {} }, from: 1 });
  assert.deepEqual(input, { version: 1, detector: { minFace: 30, maxFaces: 4 } }, 'pure: the input is untouched');
  assert.deepEqual(migrate({ version: 2, detector: { minFacePx: 5 } }, 'f', table, 3).doc, { detector: { minFacePx: 5 }, audience: {} });
});

test('migrate: a newer or malformed version is a ConfigError naming version', () => {
  assert.throws(
    () => migrate({ version: 2 }, 'site.yaml'),
    (e: unknown) => e instanceof ConfigError && /version: written by a newer percept \(config version 2; this release reads up to 1\)/.test(e.message),
  );
  for (const v of [0, 1.5, '1', null]) assert.throws(() => migrate({ version: v }, 'f'), /version: must be a whole number/);
});

test('the YAML file may say version: 1 and is read as before', () => {
  const dir = tempDir('percept-version-');
  const file = join(dir, 'percept.yaml');
  writeFileSync(file, `version: 1\nsource:\n  uri: clip.mp4\nstate:\n  dir: ${dir}\n`);
  assert.equal(loadConfig({ file, env: {} }).config.source.uri, 'clip.mp4');
  writeFileSync(file, `version: 7\nsource:\n  uri: clip.mp4\n`);
  assert.throws(() => loadConfig({ file, env: {} }), /newer percept/);
});

test('overrides from a newer release or that do not validate: rejected, kept aside at start, never overwritten by the next patch', () => {
  for (const [name, content, why] of [
    ['newer', { version: 2, detector: { minFacePx: 30 } }, /newer percept/],
    ['invalid', { detector: { minFacePx: -5 } }, /detector\.minFacePx/],
    ['not json', '{"detector":', /JSON/],
  ] as const) {
    const dir = tempDir('percept-rejected-');
    const file = join(dir, 'percept.yaml');
    writeFileSync(file, `source:\n  uri: clip.mp4\nstate:\n  dir: ${dir}\n`);
    const stored = join(dir, 'config-overrides.json');
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    writeFileSync(stored, text);
    if (name !== 'invalid') assert.match(loadOverrides(stored, []).rejected ?? '', why, name);
    // Read-only commands leave it where it is.
    const peek = loadConfig({ file, env: {} });
    assert.match(peek.layers.overridesRejected ?? '', /left in place/, name);
    assert.equal(readFileSync(stored, 'utf8'), text);
    const loaded = loadConfig({ file, env: {}, setAsideRejected: true });
    assert.match(loaded.warnings.join('\n'), /stored config overrides refused .*kept as .*config-overrides\.json\.rejected-/, name);
    assert.match(loaded.layers.overridesRejected!, why, name);
    assert.equal(existsSync(stored), false);
    const aside = readdirSync(dir).find((f) => f.startsWith('config-overrides.json.rejected-'))!;
    const r = commitPatch(evaluatePatch(loaded.layers, '{"detector":{"minFacePx":27}}'));
    assert.equal(r.saved, true, name);
    assert.deepEqual(JSON.parse(readFileSync(stored, 'utf8')), { version: 1, detector: { minFacePx: 27 } });
    assert.equal(readFileSync(join(dir, aside), 'utf8'), text, `${name}: the refused file is kept as it was`);
  }
});

test('a refused overrides file that could not be moved aside: patches are not saved over it', () => {
  const r = commitPatch(
    evaluatePatch(layers({ overridesRejected: 'stored config overrides refused (x); could not be moved aside (EACCES)' }), '{"detector":{"minFacePx":27}}'),
  );
  assert.equal(r.ok, false);
  assert.match(r.errors[0]!.message, /not saved: .*could not be moved aside/);
  const unsaved = commitPatch(evaluatePatch(layers({ overridesRejected: 'x' }), '{"save":false,"detector":{"minFacePx":27}}'));
  assert.equal(unsaved.ok, true);
  assert.equal(unsaved.saved, false);
});

test('save: default remoteConfig.persist (true); false is applied but not written, and a later saved patch does not write it either', () => {
  const written: Record<string, unknown>[] = [];
  const write = (_f: string, o: Record<string, unknown>) => written.push(structuredClone(o));
  const l0 = layers({ overridesFile: '/state/config-overrides.json' });
  const a = commitPatch(evaluatePatch(l0, '{"requestId":"a","save":false,"detector":{"minFacePx":30}}'), write);
  assert.equal(a.ok, true);
  assert.deepEqual(resultPayload(a), { requestId: 'a', ok: true, errors: [], applied: ['detector.minFacePx'], restartRequired: [], saved: false });
  assert.equal(written.length, 0);
  const b = commitPatch(evaluatePatch(a.layers!, '{"audience":{"minGlanceMs":400}}'), write);
  assert.equal(b.saved, true);
  assert.deepEqual(written, [{ audience: { minGlanceMs: 400 } }], 'only what was sent with save');
  assert.equal(b.next!.detector.minFacePx, 30, 'the unsaved value still applies until the restart');
  const persistOff = layers({ file: { ...SOURCE, remoteConfig: { persist: false } }, overridesFile: '/state/x.json' });
  assert.equal(commitPatch(evaluatePatch(persistOff, '{"detector":{"minFacePx":30}}'), write).saved, false);
  assert.equal(commitPatch(evaluatePatch(persistOff, '{"save":true,"detector":{"minFacePx":30}}'), write).saved, true);
  assert.match(evaluatePatch(l0, '{"save":"yes"}').errors[0]!.path, /^save$/);
});

test('dryRun: evaluated and answered, never written or applied', () => {
  const l0 = layers({ overridesFile: '/state/config-overrides.json', flags: { mqtt: { url: 'mqtt://x' } } });
  const r = commitPatch(evaluatePatch(l0, '{"dryRun":true,"detector":{"minFacePx":30}}'), () => assert.fail('a dry run writes nothing'));
  assert.equal(r.ok, true);
  assert.equal(resultPayload(r).dryRun, true);
  const flagged = evaluatePatch(l0, '{"dryRun":true,"mqtt":{"url":"mqtt://y"}}');
  assert.match(flagged.errors[0]!.message, /command-line flag/, 'the origin of the value, said first');
});

test('source kinds: every /dev path is a live V4L2 device (stable by-id / by-path names included)', () => {
  for (const p of ['/dev/video0', '/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920-video-index0', '/dev/v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0'])
    assert.equal(sourceKind(p), 'v4l2', p);
  assert.equal(sourceKind('/dev/shm/clip.mp4'), 'file');
  assert.equal(sourceKind('/srv/clip.mp4'), 'file');
});

test('a live source that never delivered is "waiting" with its reason and growing delays; after a frame a failure is "lost"', async () => {
  const states: [CameraState, string][] = [];
  let tries = 0;
  const failing: FrameSource = {
    uri: '/dev/v4l/by-id/x',
    open: async () => {
      tries++;
      throw new Error('source /dev/v4l/by-id/x: no such device');
    },
    frames: async function* () {},
    close: async () => undefined,
  };
  const cam = new ResilientSource(
    '/dev/v4l/by-id/x',
    () => failing,
    { reconnectMinMs: 10, reconnectMaxMs: 400, frozenMs: 1000 },
    (s, d) => states.push([s, d]),
  );
  const it = cam.frames()[Symbol.asyncIterator]();
  void it.next();
  await waitFor(() => tries >= 6, 10_000, 'six tries');
  await cam.close();
  const waits = states.filter(([s]) => s === 'waiting');
  assert.ok(waits.length >= 5);
  assert.match(waits[0]![1], /no such device; waiting \(next try in [\d.]+ s, attempt 1\)/);
  assert.ok(!states.some(([s]) => s === 'lost'), 'never delivered: waiting, not lost');
  const none = new ResilientSource('', () => assert.fail('nothing to open'), { reconnectMinMs: 10, reconnectMaxMs: 40, frozenMs: 1000 });
  assert.equal(none.state, 'waiting');
  assert.equal(none.detail, NO_SOURCE_DETAIL);
});

test('models: only an absent directory or manifest is waited for; a wrong model is not', () => {
  assert.equal(isMissingModel(new ModelError('/m', ['no model.json in /m (is this a model directory? …)'])), true);
  assert.equal(isMissingModel(new ModelError('/m', ['file model.onnx has sha256 a, the manifest says b'])), false);
  assert.equal(isMissingModel(new Error('no model.json in /m')), false);
});
