import { CONFIG_VERSION } from '../../agent/config/migrations.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  composeLayers,
  ConfigError,
  defaults,
  envOverrides,
  loadConfig,
  MAX_FILE_BYTES,
  parseYaml,
  provenance,
  redact,
  validateConfig,
  deviceId,
  type ConfigIssue,
} from '../../agent/config/load.js';
import { parseDays } from '../../agent/config/checks.js';
import { isHot, isRemoteSettable, KEYS } from '../../agent/config/keys.js';
import { MAX_TIMER_MS } from '../../agent/config/schema.js';
import { exitCodeFor } from '../../agent/lib/exit-codes.js';
import { schemaJson, SCHEMA_FILE } from '../../agent/config/write-schema.js';
import { PACKAGE_ROOT } from '../helpers/models.js';
import { aliasBombYaml } from '../helpers/hostile-yaml.js';
import { tempDir } from '../helpers/temp.js';

const nowhere = '/nonexistent/percept.yaml';

test('config/percept.yaml documents exactly the schema defaults, and the current config version', () => {
  const { version, ...file } = parseYaml(readFileSync(join(PACKAGE_ROOT, 'config/percept.yaml'), 'utf8'), 'percept.yaml') as Record<string, unknown>;
  assert.equal(version, CONFIG_VERSION);
  assert.deepEqual(file, defaults());
});

test('config/percept.schema.json is generated from the schema (run dist/agent/config/write-schema.js)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaJson());
});

test('defaults fill every section; a partial file keeps the rest', () => {
  const c = validateConfig({ detector: { scoreThreshold: 0.8 } }, 't');
  assert.equal(c.detector.scoreThreshold, 0.8);
  assert.equal(c.detector.iouThreshold, 0.5);
  assert.equal(c.mqtt.prefix, 'percept');
});

test('every error is reported with its path', () => {
  assert.throws(
    () => validateConfig({ detector: { scoreThreshold: -1, maxFaces: 1.5 }, mqtt: { protocolVersion: 3 }, bogus: {} }, 't'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const paths = err.issues.map((i) => i.path).sort();
      assert.deepEqual(paths, ['bogus', 'detector.maxFaces', 'detector.scoreThreshold', 'mqtt.protocolVersion']);
      return true;
    },
  );
});

test('environment overrides are typed from the schema and sit between file and flags', () => {
  assert.deepEqual(envOverrides({ PERCEPT_TRACKER_MIN_HITS: '3', PERCEPT_SOURCE_LOOP: 'false', PERCEPT_INFERENCE_PROVIDERS: 'cuda, cpu', UNRELATED: 'x' }), {
    tracker: { minHits: 3 },
    source: { loop: false },
    inference: { providers: ['cuda', 'cpu'] },
  });
  const { config } = loadConfig({
    systemFile: nowhere,
    env: { PERCEPT_MQTT_URL: 'mqtt://env', PERCEPT_MQTT_PREFIX: 'env' },
    overrides: { mqtt: { url: 'mqtt://flag' } },
  });
  assert.equal(config.mqtt.url, 'mqtt://flag');
  assert.equal(config.mqtt.prefix, 'env');
});

test('a --config file that does not exist is an error, the system file is optional', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/x.yaml', env: {} }), /file not found/);
  assert.equal(loadConfig({ systemFile: nowhere, env: {} }).file, null);
});

test('secrets are redacted; the device id defaults to a topic-safe hostname', () => {
  const c = validateConfig({ mqtt: { password: 'pw' } }, 't');
  assert.equal(redact(c).mqtt.password, '***');
  assert.equal(c.mqtt.password, 'pw', 'redact copies');
  assert.match(deviceId(c), /^[a-z0-9_-]+$/);
  assert.equal(deviceId(validateConfig({ device: { id: 'kiosk-7' } }, 't')), 'kiosk-7');
});

// ---- issue 11 item 1, issue 16 items 9 and 10: what would fail at run time is a config error (78) ----

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
    assert.equal(exitCodeFor(err), 78);
    return err.issues;
  }
  assert.fail('accepted');
}
const pathsOf = (fn: () => unknown) =>
  issuesOf(fn)
    .map((i) => i.path)
    .sort();
const checked = (raw: object) =>
  composeLayers({ file: raw as Record<string, unknown>, overrides: {}, environment: {}, flags: {}, fileName: null, overridesFile: null });

test('time zones, times, day names, URLs and min/max pairs are checked with the key and the fix', () => {
  const zone = issuesOf(() => checked({ schedule: { timezone: 'Mars/Olympus' } }));
  assert.equal(zone[0]!.path, 'schedule.timezone');
  assert.match(zone[0]!.message, /not an IANA time zone \(e\.g\. UTC, Europe\/Berlin/);
  for (const time of ['25:00', '99:99', '24:01', '8', '08:60', '']) {
    assert.deepEqual(
      pathsOf(() => checked({ schedule: { openingHours: [{ days: 'daily', from: time, to: '10:00' }] } })),
      ['schedule.openingHours.0.from'],
      time,
    );
  }
  for (const days of ['xyz', 'mon-', 'monkey', 'mon-fri-sat', '', 'mo']) {
    const issues = issuesOf(() => checked({ schedule: { openingHours: [{ days, from: '08:00', to: '24:00' }] } }));
    assert.deepEqual(
      issues.map((i) => i.path),
      ['schedule.openingHours.0.days'],
      days,
    );
    assert.match(issues[0]!.message, /use mon…sun, ranges \(mon-fri\)/);
  }
  for (const days of ['mon-fri', 'sat,sun', 'daily', 'Monday - Friday', 'fri-mon', '*'])
    checked({ schedule: { openingHours: [{ days, from: '0:00', to: '24:00' }] } });
  assert.deepEqual([...parseDays('fri-mon')].sort(), [0, 1, 5, 6]);
  assert.deepEqual(
    pathsOf(() => checked({ mqtt: { url: 'broker.local:1883' } })),
    ['mqtt.url'],
  );
  assert.match(issuesOf(() => checked({ mqtt: { url: 'http://broker.local' } }))[0]!.message, /not an MQTT transport/);
  assert.deepEqual(
    pathsOf(() => checked({ source: { uri: 'rtsp://[bad' } })),
    ['source.uri'],
  );
  assert.deepEqual(
    pathsOf(() => checked({ source: { reconnectMinMs: 5000, reconnectMaxMs: 1000 } })),
    ['source.reconnectMinMs'],
  );
  checked({ mqtt: { url: 'mqtts://user:pw@broker.local:8883' }, source: { uri: 'rtsp://cam.local/stream' } });
});

test('a config file that cannot be read is a ConfigError naming it: directory, alias bomb, oversized, binary', () => {
  const dir = tempDir('percept-cfg-');
  assert.match(issuesOf(() => loadConfig({ file: dir, env: {} }))[0]!.message, /is a directory; name the YAML file/);
  const bomb = aliasBombYaml();
  writeFileSync(join(dir, 'bomb.yaml'), bomb);
  assert.match(issuesOf(() => loadConfig({ file: join(dir, 'bomb.yaml'), env: {} }))[0]!.message, /aliases expand too far/);
  writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
  assert.match(issuesOf(() => loadConfig({ file: join(dir, 'big.yaml'), env: {} }))[0]!.message, /a config file is at most/);
  writeFileSync(join(dir, 'bin.yaml'), Buffer.from([0x00, 0xff, 0x3a, 0x0a, 0x09, 0x2d, 0x5b]));
  issuesOf(() => loadConfig({ file: join(dir, 'bin.yaml'), env: {} }));
  writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
  assert.match(issuesOf(() => loadConfig({ file: join(dir, 'list.yaml'), env: {} }))[0]!.message, /mapping of sections/);
});

test('for run: paths that do not exist are config errors, an empty source.uri and a missing model directory are waited for (warnings); config print does not need them', () => {
  const dir = tempDir('percept-cfg-');
  const file = join(dir, 'p.yaml');
  writeFileSync(
    file,
    `source:\n  uri: ""\nmqtt:\n  passwordFile: ${dir}/nope\n  tls:\n    ca: ${dir}\ndetector:\n  model: ${dir}/gone\nclassifier:\n  models: [${dir}]\n`,
  );
  const issues = issuesOf(() => loadConfig({ file, env: {}, forRun: true }));
  assert.deepEqual(issues.map((i) => i.path).sort(), ['mqtt.passwordFile', 'mqtt.tls.ca']);
  assert.match(issues.find((i) => i.path === 'mqtt.tls.ca')!.message, /is not a file/);
  const waits = loadConfig({ file, env: {}, forRun: true, overrides: { mqtt: { passwordFile: file, tls: { ca: file } } }, readOverrides: false }).warnings;
  assert.deepEqual(
    waits.map((w) => w.split(':')[0]),
    ['source.uri', 'detector.model'],
  );
  assert.match(waits[0]!, /or pass --source \(percept run starts and waits for it\)/);
  assert.equal(loadConfig({ file, env: {} }).config.source.uri, '', 'without forRun the same file loads');
  assert.equal(
    loadConfig({ file, env: {}, forRun: true, overrides: { source: { uri: dir }, detector: { model: dir }, mqtt: { passwordFile: file, tls: { ca: file } } } })
      .config.source.uri,
    dir,
  );
});

test('every time value has an upper bound far below 2^31-1 ms, every number a maximum', () => {
  const numeric = KEYS.filter((k) => ['integer', 'number'].includes((k.schema as { type?: string }).type ?? ''));
  assert.ok(numeric.length > 30);
  for (const k of numeric) {
    const max = (k.schema as { maximum?: number }).maximum;
    assert.equal(typeof max, 'number', `${k.path} has no maximum`);
    if (k.path.endsWith('Ms')) assert.ok(max! <= MAX_TIMER_MS, `${k.path} ≤ 2^31-1`);
    // outboxMaxAgeS is compared with an age, never given to a timer.
    if (k.path.endsWith('S') && k.path !== 'mqtt.outboxMaxAgeS') assert.ok(max! * 1000 <= MAX_TIMER_MS, `${k.path} × 1000 ≤ 2^31-1`);
  }
  assert.deepEqual(
    pathsOf(() => checked({ detector: { intervalMs: 1e29 }, source: { frozenMs: 2 ** 31 }, mqtt: { statsIntervalS: 1e9 } })),
    ['detector.intervalMs', 'mqtt.statsIntervalS', 'source.frozenMs'],
  );
});

test('topic-forming strings: no + # NUL, empty level or leading $ in prefixes; the device id is one level', () => {
  for (const bad of ['#', 'a/+', 'a/#', 'x\u0000y', '$SYS', 'a//b', '/a', 'a/', '', 'p'.repeat(129)]) {
    assert.deepEqual(
      pathsOf(() => checked({ mqtt: { prefix: bad }, homeassistant: { prefix: bad } })),
      ['homeassistant.prefix', 'mqtt.prefix'],
      JSON.stringify(bad),
    );
  }
  assert.match(issuesOf(() => checked({ mqtt: { prefix: '#' } }))[0]!.message, /MQTT topic levels without \+, #/);
  checked({ mqtt: { prefix: 'shop/floor1' }, homeassistant: { prefix: 'ha' } });
  for (const bad of ['a/b', 'a+b', 'a#', 'has space', 'x'.repeat(65)])
    assert.deepEqual(
      pathsOf(() => checked({ device: { id: bad } })),
      ['device.id'],
    );
  assert.deepEqual(
    pathsOf(() => checked({ mqtt: { clientId: 'a\u0000' } })),
    ['mqtt.clientId'],
  );
});

test('size limits: log.namespaces at most 64 with plain names; lists bounded', () => {
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`ns${i}`, 'debug']));
  assert.deepEqual(
    pathsOf(() => checked({ log: { namespaces: many } })),
    ['log.namespaces'],
  );
  assert.deepEqual(
    pathsOf(() => checked({ log: { namespaces: { 'a b': 'debug' } } })),
    ['log.namespaces'],
  );
  checked({ log: { namespaces: Object.fromEntries(Object.entries(many).slice(0, 64)) } });
  assert.deepEqual(
    pathsOf(() => checked({ classifier: { models: Array(17).fill('/m') } })),
    ['classifier.models'],
  );
  assert.deepEqual(
    pathsOf(() => checked({ schedule: { openingHours: Array(65).fill({ days: 'daily', from: '0:00', to: '1:00' }) } })),
    ['schedule.openingHours'],
  );
});

test('whether a key is hot and whether it is remote-settable is declared in the schema (and kept in the JSON Schema)', () => {
  assert.equal(isHot('detector.scoreThreshold'), true);
  assert.equal(isHot('tracker.minHits'), true, 'a section flag holds for its keys');
  assert.equal(isHot('mqtt.statsIntervalS'), false);
  assert.equal(isHot('detector.model'), false);
  assert.equal(isHot('classifier.models'), true, 'a running agent switches models (features/model-switch.ts); still local-only');
  const local = [
    'mqtt.url',
    'mqtt.clientId',
    'mqtt.username',
    'mqtt.password',
    'mqtt.passwordFile',
    'mqtt.tls.ca',
    'mqtt.tls.cert',
    'mqtt.tls.key',
    'mqtt.tls.rejectUnauthorized',
    'mqtt.embeddedHost',
    'mqtt.embeddedPort',
    'mqtt.prefix',
    'detector.model',
    'classifier.models',
    'state.dir',
    'remoteConfig.enabled',
    'remoteConfig.persist',
    'remoteConfig.maxBytes',
    'remoteConfig.allow',
    'inference.providers',
    'inference.verifySha256',
    'source.uri',
    'device.id',
    'homeassistant.prefix',
  ];
  for (const path of local) assert.equal(isRemoteSettable(path, []), false, path);
  for (const path of ['detector.scoreThreshold', 'tracker.minHits', 'fusion.margin', 'log.namespaces', 'schedule.timezone', 'mqtt.statsIntervalS']) {
    assert.equal(isRemoteSettable(path, []), true, path);
  }
  assert.equal(isRemoteSettable('mqtt.url', ['mqtt.url']), true, 'the local file opts in per key');
  assert.equal(isRemoteSettable('mqtt.tls.key', ['mqtt.tls']), true, 'or per section');
  assert.equal(isRemoteSettable('remoteConfig.allow', ['remoteConfig']), false, 'never the remote config itself');
  assert.deepEqual(
    pathsOf(() => checked({ remoteConfig: { allow: ['remoteConfig.persist', 'mqtt.nope'] } })),
    ['remoteConfig.allow.0', 'remoteConfig.allow.1'],
  );
  const json = JSON.parse(schemaJson());
  assert.equal(json.properties.detector.properties.scoreThreshold['x-hot'], true);
  assert.equal(json.properties.tracker['x-remote'], true);
  assert.equal(json.properties.detector.properties.model['x-remote'], false);
});

test('layers: defaults ← file ← overrides (persist) ← environment ← flags, with the layer of every key', () => {
  const dir = tempDir('percept-cfg-');
  const file = join(dir, 'p.yaml');
  writeFileSync(file, `remoteConfig:\n  persist: true\nstate:\n  dir: ${dir}\ndetector:\n  scoreThreshold: 0.6\n  maxFaces: 7\ntracker:\n  minHits: 4\n`);
  writeFileSync(
    join(dir, 'config-overrides.json'),
    JSON.stringify({ detector: { scoreThreshold: 0.8, maxFaces: 9 }, mqtt: { url: 'mqtt://evil' }, fusion: { margin: 0.3 } }),
  );
  const loaded = loadConfig({ file, env: { PERCEPT_DETECTOR_MAX_FACES: '11' }, overrides: { tracker: { minHits: 5 } } });
  const c = loaded.config;
  assert.equal(c.detector.scoreThreshold, 0.8, 'overrides over the file');
  assert.equal(c.detector.maxFaces, 11, 'environment over overrides');
  assert.equal(c.tracker.minHits, 5, 'flags over everything');
  assert.equal(c.mqtt.url, '', 'a stored override of a local-only key is ignored');
  assert.match(loaded.warnings.join('\n'), /ignoring mqtt\.url in .*config-overrides\.json: not settable remotely/);
  const from = provenance(loaded.layers);
  assert.deepEqual(
    [
      from['detector.scoreThreshold'],
      from['detector.maxFaces'],
      from['tracker.minHits'],
      from['fusion.margin'],
      from['remoteConfig.persist'],
      from['detector.iouThreshold'],
    ],
    ['overrides', 'environment', 'flags', 'overrides', 'file', 'default'],
  );
  writeFileSync(join(dir, 'config-overrides.json'), '{not json');
  const corrupt = loadConfig({ file, env: {} });
  assert.equal(corrupt.config.detector.scoreThreshold, 0.6);
  assert.match(corrupt.warnings[0]!, /stored config overrides refused \(.*JSON.*\); left in place \(.*config-overrides\.json\)/);
  writeFileSync(join(dir, 'config-overrides.json'), JSON.stringify({ detector: { scoreThreshold: 7 } }));
  assert.match(
    loadConfig({ file, env: {} }).warnings[0]!,
    /detector\.scoreThreshold: must be <= 1/,
    'a stored value this version refuses does not stop the start',
  );
  writeFileSync(file, 'detector:\n  scoreThreshold: 0.6\n');
  // persist is only the default of a patch's save: what was saved is read at every start.
  assert.match(loadConfig({ file, env: {} }).layers.overridesFile ?? '', /config-overrides\.json$/, 'persist off: saved overrides still read');
});
