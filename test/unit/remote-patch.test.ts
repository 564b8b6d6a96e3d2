// Remote patches and SIGHUP reloads as pure functions of the config layers: the allow list declared in the
// schema, overrides persisted (or reported as not saved), refusals naming the key (retained commands: features/command-gate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeLayers, loadConfig } from '../../agent/config/load.js';
import { applyHot, commitPatch, describeResult, evaluatePatch, reloadFromFile, resultPayload } from '../../agent/config/remote.js';
import { writeOverrides } from '../../agent/config/overrides.js';
import { layersOf } from '../helpers/config-layers.js';
import { tempDir } from '../helpers/temp.js';

const SOURCE = { source: { uri: 'clip.mp4' } };

test('security keys are refused by name, whatever else the patch holds; nothing is applied', () => {
  const layers = layersOf(SOURCE);
  const patches: [object, string][] = [
    [{ mqtt: { url: 'mqtt://evil.example' } }, 'mqtt.url'],
    [{ mqtt: { clientId: 'x' } }, 'mqtt.clientId'],
    [{ mqtt: { username: 'x' } }, 'mqtt.username'],
    [{ mqtt: { password: 'x' } }, 'mqtt.password'],
    [{ mqtt: { passwordFile: '/tmp/x' } }, 'mqtt.passwordFile'],
    [{ mqtt: { tls: { ca: '/tmp/ca' } } }, 'mqtt.tls.ca'],
    [{ mqtt: { tls: { rejectUnauthorized: false } } }, 'mqtt.tls.rejectUnauthorized'],
    [{ mqtt: { embeddedPort: 1 } }, 'mqtt.embeddedPort'],
    [{ mqtt: { embeddedHost: '0.0.0.0' } }, 'mqtt.embeddedHost'],
    [{ mqtt: { prefix: 'elsewhere' } }, 'mqtt.prefix'],
    [{ detector: { model: '/tmp/evil' } }, 'detector.model'],
    [{ classifier: { models: ['/tmp/evil'] } }, 'classifier.models'],
    [{ state: { dir: '/tmp' } }, 'state.dir'],
    [{ remoteConfig: { persist: true } }, 'remoteConfig.persist'],
    [{ remoteConfig: { allow: ['mqtt.url'] } }, 'remoteConfig.allow'],
    [{ remoteConfig: { enabled: false } }, 'remoteConfig.enabled'],
    [{ inference: { providers: ['cuda'] } }, 'inference.providers'],
    [{ inference: { verifySha256: false } }, 'inference.verifySha256'],
    [{ source: { uri: 'rtsp://elsewhere' } }, 'source.uri'],
    [{ device: { id: 'other' } }, 'device.id'],
  ];
  for (const [patch, key] of patches) {
    const r = evaluatePatch(layers, JSON.stringify({ detector: { scoreThreshold: 0.7 }, ...patch }));
    assert.equal(r.ok, false, key);
    assert.deepEqual(
      r.errors.map((e) => e.path),
      [key],
    );
    assert.ok(r.next === undefined && r.layers === undefined && r.applied.length === 0);
  }
  assert.match(evaluatePatch(layers, '{"mqtt":{"url":"mqtt://x"}}').errors[0]!.message, /local-only .* remoteConfig\.allow/);
  assert.deepEqual(layers, layersOf(SOURCE), 'the layers are untouched');
});

test('the local file opts in per key: remoteConfig.allow; a patch can never widen it', () => {
  const layers = layersOf({ ...SOURCE, remoteConfig: { allow: ['mqtt.url', 'mqtt.tls'] } });
  const r = evaluatePatch(layers, '{"mqtt":{"url":"mqtt://new.broker","tls":{"rejectUnauthorized":false}}}');
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.restartRequired, ['mqtt.url', 'mqtt.tls.rejectUnauthorized']);
  assert.equal(evaluatePatch(layers, '{"mqtt":{"password":"x"}}').ok, false, 'only what is listed');
  assert.equal(evaluatePatch(r.layers!, '{"remoteConfig":{"allow":["mqtt.password"]}}').ok, false);
});

test('tuning keys: hot ones applied now, others after a restart; null goes back to the file (or default) value', () => {
  const layers = layersOf({ ...SOURCE, tracker: { minHits: 4 } });
  const r = evaluatePatch(
    layers,
    JSON.stringify({ requestId: 'r-1', detector: { scoreThreshold: 0.65 }, tracker: { minHits: 3 }, mqtt: { statsIntervalS: 10 } }),
  );
  assert.deepEqual(
    { ...r, next: undefined, layers: undefined },
    {
      requestId: 'r-1',
      ok: true,
      errors: [],
      applied: ['detector.scoreThreshold', 'tracker.minHits'],
      restartRequired: ['mqtt.statsIntervalS'],
      save: true,
      next: undefined,
      layers: undefined,
    },
  );
  assert.deepEqual(r.layers!.overrides, { detector: { scoreThreshold: 0.65 }, tracker: { minHits: 3 }, mqtt: { statsIntervalS: 10 } });
  const reset = evaluatePatch(r.layers!, '{"tracker":{"minHits":null},"detector":null}');
  assert.equal(reset.ok, true, JSON.stringify(reset.errors));
  assert.equal(reset.next!.tracker.minHits, 4, 'back to the file value');
  assert.equal(reset.next!.detector.scoreThreshold, 0.5, 'a section reset removes its overrides only');
  assert.deepEqual(reset.applied, ['detector.scoreThreshold', 'tracker.minHits']);
  const live = composeLayers(layers);
  const sections = live.detector;
  applyHot(live, r.next!);
  assert.equal(live.detector.scoreThreshold, 0.65);
  assert.equal(live.detector, sections, 'in place: components keep their section objects');
  assert.equal(live.mqtt.statsIntervalS, 30, 'a restart-only key is not applied');
});

test('values that would fail at run time are refused: bounds, time zone, topic strings, limits', () => {
  const layers = layersOf(SOURCE);
  const refusedAt = (p: unknown) => {
    const r = evaluatePatch(layers, JSON.stringify(p));
    assert.equal(r.ok, false, JSON.stringify(p));
    return r.errors.map((e) => e.path);
  };
  assert.deepEqual(refusedAt({ detector: { intervalMs: 1e29 } }), ['detector.intervalMs']);
  assert.deepEqual(refusedAt({ source: { frozenMs: 2 ** 31 } }), ['source.frozenMs']);
  assert.deepEqual(refusedAt({ schedule: { timezone: 'Mars/Olympus' } }), ['schedule.timezone']);
  assert.deepEqual(refusedAt({ schedule: { openingHours: [{ days: 'xyz', from: '08:00', to: '18:00' }] } }), ['schedule.openingHours.0.days']);
  assert.deepEqual(refusedAt({ homeassistant: { prefix: '#' } }), ['homeassistant.prefix']);
  assert.deepEqual(refusedAt({ source: { reconnectMinMs: 60_000, reconnectMaxMs: 1000 } }), ['source.reconnectMinMs']);
  const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 1]));
  assert.match(evaluatePatch(layers, JSON.stringify({ log: { namespaces: wide } }), { maxBytes: 1e6 }).errors[0]!.message, /more than 256 keys/);
  assert.match(evaluatePatch(layers, 'x'.repeat(101), { maxBytes: 100 }).errors[0]!.message, /at most 100 \(remoteConfig\.maxBytes\)/);
});

test('300 patches each adding a log namespace: the map stops at 64, memory stays bounded', () => {
  let layers = layersOf(SOURCE);
  let accepted = 0;
  for (let i = 0; i < 300; i++) {
    const r = evaluatePatch(layers, JSON.stringify({ log: { namespaces: { [`ns${i}`]: 'debug' } } }));
    if (r.ok) {
      layers = r.layers!;
      accepted++;
    } else
      assert.deepEqual(
        r.errors.map((e) => e.path),
        ['log.namespaces'],
      );
  }
  assert.equal(accepted, 64);
  assert.equal(Object.keys(composeLayers(layers).log.namespaces).length, 64);
});

test('a key set by a flag or the environment is refused: the patch would not take effect', () => {
  const layers = layersOf(SOURCE, { flags: { tracker: { minHits: 3 } }, environment: { detector: { maxFaces: 5 } } });
  assert.match(evaluatePatch(layers, '{"tracker":{"minHits":2}}').errors[0]!.message, /set by a command-line flag/);
  assert.match(evaluatePatch(layers, '{"detector":{"maxFaces":2}}').errors[0]!.message, /set by the environment \(PERCEPT_DETECTOR_MAX_FACES\)/);
});

test('persisting: the overrides file in the state dir, loaded over the YAML at the next start; a failed write is not ok', () => {
  const dir = tempDir('percept-remote-');
  const file = join(dir, 'percept.yaml');
  writeFileSync(file, `# kept as written\nsource:\n  uri: clip.mp4\nremoteConfig:\n  persist: true\nstate:\n  dir: ${dir}\n`);
  const loaded = loadConfig({ file, env: {} });
  assert.equal(loaded.layers.overridesFile, join(dir, 'config-overrides.json'));
  const r = commitPatch(evaluatePatch(loaded.layers, '{"detector":{"scoreThreshold":0.7}}'));
  assert.equal(r.ok, true);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config-overrides.json'), 'utf8')), { version: 1, detector: { scoreThreshold: 0.7 } });
  assert.match(readFileSync(file, 'utf8'), /^# kept as written\n/, 'the YAML file is never rewritten');
  assert.equal(loadConfig({ file, env: {} }).config.detector.scoreThreshold, 0.7, 'survives a restart');
  // A read-only state directory (the shipped unit's /etc, or a full disk): reported, nothing applied.
  const failed = commitPatch(evaluatePatch(loaded.layers, '{"requestId":"q","detector":{"scoreThreshold":0.9}}'), () => {
    throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' });
  });
  assert.equal(failed.ok, false);
  assert.equal(failed.requestId, 'q');
  assert.match(failed.errors[0]!.message, /not saved \(EROFS writing .*config-overrides\.json\); nothing changed/);
  assert.ok(failed.next === undefined && failed.layers === undefined);
  assert.throws(() => writeOverrides(join(dir, 'no-such-dir', 'x.json'), {}), /ENOENT/);
  const inMemory = commitPatch(evaluatePatch(layersOf(SOURCE), '{"detector":{"scoreThreshold":0.9}}'), () => assert.fail('persist off: nothing written'));
  assert.equal(inMemory.ok, true);
});

test('SIGHUP: removals go back to default or overrides, flags kept and not reported, a bad file reported whole', () => {
  const dir = tempDir('percept-hup-');
  const file = join(dir, 'percept.yaml');
  writeFileSync(file, 'source:\n  uri: a.mp4\ndetector:\n  scoreThreshold: 0.6\n  maxFaces: 7\nmqtt:\n  statsIntervalS: 20\n');
  const loaded = loadConfig({ file, env: {}, overrides: { source: { uri: 'flag.mp4' }, state: { dir } } });
  const patched = evaluatePatch(loaded.layers, '{"detector":{"maxFaces":9}}');
  writeFileSync(file, 'source:\n  uri: b.mp4\ndetector:\n  iouThreshold: 0.4\nmqtt:\n  prefix: moved\n');
  const r = reloadFromFile(patched.layers!);
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.applied, ['detector.scoreThreshold', 'detector.iouThreshold']);
  assert.deepEqual(r.restartRequired, ['mqtt.prefix', 'mqtt.statsIntervalS'], 'source.uri and state.dir come from flags: not reported');
  assert.deepEqual(r.removed.sort(), ['detector.maxFaces', 'detector.scoreThreshold', 'mqtt.statsIntervalS']);
  assert.equal(r.next!.detector.scoreThreshold, 0.5, 'removed: back to the default');
  assert.equal(r.next!.detector.maxFaces, 9, 'removed from the file: the override stays');
  assert.equal(r.next!.source.uri, 'flag.mp4');
  assert.match(
    describeResult('SIGHUP', r),
    /applied detector\.scoreThreshold, detector\.iouThreshold; needs a restart: mqtt\.prefix, mqtt\.statsIntervalS; no longer in the file/,
  );
  writeFileSync(file, 'detector:\n  scoreThreshold: 3\nschedule:\n  timezone: Mars/Olympus\nbogus: 1\n');
  const bad = reloadFromFile(r.layers!);
  assert.equal(bad.ok, false);
  // Every problem in one pass: the schema's and the run-time checks' (the time zone) together.
  assert.deepEqual(bad.errors.map((e) => e.path).sort(), ['bogus', 'detector.scoreThreshold', 'schedule.timezone']);
  assert.match(describeResult('SIGHUP', bad), /^SIGHUP refused: /);
  writeFileSync(file, 'schedule:\n  timezone: Mars/Olympus\n');
  assert.deepEqual(
    reloadFromFile(r.layers!).errors.map((e) => e.path),
    ['schedule.timezone'],
  );
  assert.equal(reloadFromFile(layersOf(SOURCE)).ok, false, 'no file to reload');
});

test('SIGHUP: an allow entry removed from the file drops the overrides it allowed', () => {
  const dir = tempDir('percept-hup-');
  const file = join(dir, 'percept.yaml');
  writeFileSync(file, 'source:\n  uri: a.mp4\nremoteConfig:\n  allow: [mqtt.url]\n');
  const loaded = loadConfig({ file, env: {} });
  const patched = evaluatePatch(loaded.layers, '{"mqtt":{"url":"mqtt://b.local"}}');
  assert.equal(patched.ok, true);
  writeFileSync(file, 'source:\n  uri: a.mp4\n');
  const r = reloadFromFile(patched.layers!);
  assert.equal(r.next!.mqtt.url, '');
  assert.match(r.warnings[0]!, /no longer in remoteConfig\.allow: mqtt\.url/);
});

test('config/result carries the contract fields only, never the config or its layers', () => {
  const r = evaluatePatch(layersOf({ ...SOURCE, mqtt: { password: 'hunter2' } }), '{"requestId":"a","detector":{"scoreThreshold":0.6}}');
  assert.deepEqual(Object.keys(resultPayload(r)).sort(), ['applied', 'errors', 'ok', 'requestId', 'restartRequired']);
  assert.ok(!JSON.stringify(resultPayload(r)).includes('hunter2'));
  const legacy = evaluatePatch(composeLayers(layersOf({ ...SOURCE, mqtt: { password: 'hunter2' } })), '{"detector":{"scoreThreshold":0.6}}', 1000);
  assert.equal(legacy.layers, undefined, 'the pre-layers caller publishes the rest of the result');
  assert.equal(evaluatePatch(composeLayers(layersOf(SOURCE)), '{"mqtt":{"url":"mqtt://evil"}}', 1000).ok, false, 'and gets the allow list too');
});
