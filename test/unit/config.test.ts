import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, defaults, envOverrides, loadConfig, parseYaml, redact, validateConfig, deviceId } from '../../agent/config/load.js';
import { schemaJson, SCHEMA_FILE } from '../../agent/config/write-schema.js';
import { PACKAGE_ROOT } from '../helpers/models.js';

const nowhere = '/nonexistent/percept.yaml';

test('config/percept.yaml documents exactly the schema defaults', () => {
  const file = parseYaml(readFileSync(join(PACKAGE_ROOT, 'config/percept.yaml'), 'utf8'), 'percept.yaml');
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
  assert.throws(() => validateConfig({ detector: { scoreThreshold: -1, maxFaces: 1.5 }, mqtt: { protocolVersion: 3 }, bogus: {} }, 't'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    const paths = err.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['bogus', 'detector.maxFaces', 'detector.scoreThreshold', 'mqtt.protocolVersion']);
    return true;
  });
});

test('environment overrides are typed from the schema and sit between file and flags', () => {
  assert.deepEqual(envOverrides({ PERCEPT_TRACKER_MIN_HITS: '3', PERCEPT_SOURCE_LOOP: 'false', PERCEPT_INFERENCE_PROVIDERS: 'cuda, cpu', UNRELATED: 'x' }),
    { tracker: { minHits: 3 }, source: { loop: false }, inference: { providers: ['cuda', 'cpu'] } });
  const { config } = loadConfig({ systemFile: nowhere, env: { PERCEPT_MQTT_URL: 'mqtt://env', PERCEPT_MQTT_PREFIX: 'env' }, overrides: { mqtt: { url: 'mqtt://flag' } } });
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
