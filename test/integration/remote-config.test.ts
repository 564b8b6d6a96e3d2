// Remote configuration over a real broker: 50+ hostile or malformed patches are each refused with a
// reason and change nothing; a valid patch is applied whole (hot keys at once, others reported); Home
// Assistant discovery follows the config and HA's own status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';
import { evaluatePatch } from '../../agent/config/remote.js';
import { defaults } from '../../agent/config/load.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-remote-');
const root = 'percept/remote';
let broker: Broker;
let agent: Running;
let client: mqtt.MqttClient;
const seen: { topic: string; payload: string; retain: boolean }[] = [];
const validate = wireValidator('percept');
const configFile = join(work, 'percept.yaml');

before(async () => {
  broker = await startMosquitto();
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  writeFileSync(configFile, '# installer notes stay here\nremoteConfig:\n  persist: true\ndetector:\n  scoreThreshold: 0.5  # tuned on site\n');
  agent = startPercept([
    'run',
    '--config',
    configFile,
    '--source',
    clip,
    '--mqtt-url',
    broker.url,
    '--device-id',
    'remote',
    '--state-dir',
    join(work, 'state'),
  ]);
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  client.on('message', (topic, p, packet) => seen.push({ topic, payload: String(p), retain: packet.retain }));
  await client.subscribeAsync([`${root}/#`, 'homeassistant/#'], { qos: 1 });
  await waitFor(() => seen.find((m) => m.topic === `${root}/config`), 60_000, 'the retained config');
});

after(async () => {
  agent?.child.kill('SIGTERM');
  await agent?.exited;
  await client?.endAsync();
  await broker?.stop();
});

/** Topics a fresh subscriber receives as retained messages. */
async function retainedUnder(filter: string): Promise<string[]> {
  const late = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const retained: string[] = [];
  late.on('message', (t, _p, packet) => {
    if (packet.retain) retained.push(t);
  });
  await late.subscribeAsync(filter);
  await flush(late);
  await late.endAsync();
  return retained;
}

let replies = 0;
async function send(payload: string | Buffer): Promise<Record<string, unknown>> {
  const before = seen.filter((m) => m.topic === `${root}/config/result`).length;
  await client.publishAsync(`${root}/config/set`, payload, { qos: 1 });
  const reply = await waitFor(() => seen.filter((m) => m.topic === `${root}/config/result`)[before], 10_000, `a reply to ${String(payload).slice(0, 60)}`);
  replies++;
  return JSON.parse(reply.payload);
}

const effectiveConfig = () => JSON.parse([...seen].reverse().find((m) => m.topic === `${root}/config`)!.payload);

const deep = (n: number): string => (n === 0 ? '1' : `{"a":${deep(n - 1)}}`);
const MALFORMED: (string | Buffer)[] = [
  '',
  ' ',
  'null',
  'true',
  '42',
  '"text"',
  '[]',
  '[1,2]',
  '{',
  '}',
  '{"detector":',
  "{'detector':{}}",
  'NaN',
  '{"a":1,}',
  Buffer.from([0xff, 0xfe, 0x00]),
  '\u0000',
  '{"detector":{"scoreThreshold":"high"}}',
  '{"detector":{"scoreThreshold":2}}',
  '{"detector":{"scoreThreshold":-1}}',
  '{"detector":{"minFacePx":1.5}}',
  '{"detector":{"maxFaces":0}}',
  '{"detector":[]}',
  '{"detector":"x"}',
  '{"detector":7}',
  '{"tracker":{"minHits":"two"}}',
  '{"tracker":{"maxUnseenMs":-5}}',
  '{"fusion":{"margin":3}}',
  '{"mqtt":{"protocolVersion":3}}',
  '{"mqtt":{"prefix":"a/#"}}',
  '{"mqtt":{"embeddedPort":70000}}',
  '{"mqtt":{"tls":{"rejectUnauthorized":"no"}}}',
  '{"inference":{"providers":["gpu"]}}',
  '{"inference":{"providers":[]}}',
  '{"inference":{"threads":0}}',
  '{"log":{"level":"loud"}}',
  '{"log":{"namespaces":{"detect":"verbose"}}}',
  '{"source":{"loop":"sometimes"}}',
  '{"classifier":{"models":[1]}}',
  '{"classifier":{"maxBatch":1000}}',
  '{"homeassistant":{"enabled":"yes"}}',
  '{"unknown":1}',
  '{"detector":{"unknownKey":1}}',
  '{"mqtt":{"passwrd":"x"}}',
  '{"__proto__":{"polluted":true}}',
  '{"detector":{"__proto__":{"polluted":true}}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"detector":{"constructor":{"x":1}}}',
  '{"prototype":1}',
  deep(50),
  deep(10),
  `{"detector":{"scoreThreshold":0.6},"pad":"${'x'.repeat(70_000)}"}`,
  JSON.stringify({ big: 'y'.repeat(100_000) }),
  '{"requestId":5,"detector":{"scoreThreshold":0.6}}',
  `{"requestId":"${'r'.repeat(200)}"}`,
  '{"device":{"id":"has space"}}',
  '{"state":{"dir":7}}',
];

test(`${MALFORMED.length} malformed or hostile patches: each refused with a reason, nothing changes, the agent keeps running`, async () => {
  assert.ok(MALFORMED.length >= 50);
  const before = effectiveConfig();
  for (const payload of MALFORMED) {
    const reply = await send(payload);
    assert.equal(reply.ok, false, `accepted: ${String(payload).slice(0, 80)}`);
    assert.ok(Array.isArray(reply.errors) && (reply.errors as unknown[]).length > 0, `no reason for ${String(payload).slice(0, 80)}`);
    for (const e of reply.errors as { path: string; message: string }[]) assert.ok(e.message.length > 0);
  }
  assert.equal(replies, MALFORMED.length);
  assert.deepEqual(effectiveConfig(), before, 'the effective config is unchanged');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  assert.equal(agent.child.exitCode, null, 'still running');
  const status = [...seen].reverse().find((m) => m.topic === `${root}/status`)!;
  assert.equal(JSON.parse(status.payload).state, 'online');
});

test('a valid patch is applied whole: hot keys now, the others after a restart; persisted as overrides in the state dir', async () => {
  const { schema, device, ts, ...reply } = await send(
    JSON.stringify({ requestId: 'r-1', detector: { scoreThreshold: 0.65 }, tracker: { minHits: 3 }, mqtt: { statsIntervalS: 10 } }),
  );
  assert.deepEqual({ schema, device, recent: Date.now() - Date.parse(ts as string) < 60_000 }, { schema: 1, device: 'remote', recent: true }, 'the envelope');
  assert.deepEqual(reply, {
    requestId: 'r-1',
    ok: true,
    errors: [],
    applied: ['detector.scoreThreshold', 'tracker.minHits'],
    restartRequired: ['mqtt.statsIntervalS'],
    saved: true,
  });
  const cfg = effectiveConfig();
  assert.equal(cfg.detector.scoreThreshold, 0.65);
  assert.equal(cfg.tracker.minHits, 3);
  assert.equal(cfg.mqtt.statsIntervalS, 30, 'a restart-only key is not in effect yet');
  // The YAML file is the operator's (read-only under the shipped unit): never rewritten.
  const file = readFileSync(configFile, 'utf8');
  assert.match(file, /# installer notes stay here/);
  assert.equal(parse(file).detector.scoreThreshold, 0.5);
  const overrides = JSON.parse(readFileSync(join(work, 'state', 'config-overrides.json'), 'utf8'));
  assert.deepEqual(overrides, { version: 1, detector: { scoreThreshold: 0.65 }, tracker: { minHits: 3 }, mqtt: { statsIntervalS: 10 } });
  // null removes a key from the overrides: back to the file's (here the default) value.
  const reset = await send(JSON.stringify({ tracker: { minHits: null } }));
  assert.equal(reset.ok, true);
  assert.equal(effectiveConfig().tracker.minHits, 2);
});

test('security keys are refused by name over the wire', async () => {
  for (const [patch, key] of [
    [{ mqtt: { url: 'mqtt://evil.example' } }, 'mqtt.url'],
    [{ detector: { model: '/tmp/evil' } }, 'detector.model'],
    [{ state: { dir: '/tmp' } }, 'state.dir'],
    [{ remoteConfig: { allow: ['mqtt.url'] } }, 'remoteConfig.allow'],
  ] as const) {
    const reply = await send(JSON.stringify(patch));
    assert.equal(reply.ok, false);
    assert.deepEqual(
      (reply.errors as { path: string }[]).map((e) => e.path),
      [key],
    );
  }
});

/** People, watchers, attention and plays today, dominant emotion, camera, 2 genders, 9 age groups. */
const SENSORS = 17;

test('Home Assistant discovery: published when enabled, again when HA comes online, removed when disabled', async () => {
  const discovery = () => seen.filter((m) => m.topic.startsWith('homeassistant/sensor/percept_remote/'));
  const initially = discovery().length;
  assert.equal(initially === 0 || discovery().every((m) => m.payload === ''), true, 'disabled by default: nothing (or removals)');
  assert.equal((await send(JSON.stringify({ homeassistant: { enabled: true } }))).ok, true);
  const sensors = await waitFor(
    () => {
      const d = discovery().filter((m) => m.payload !== '');
      return d.length >= SENSORS ? d : undefined;
    },
    5000,
    'discovery configs',
  );
  const people = JSON.parse(sensors.find((m) => m.topic.endsWith('/people/config'))!.payload);
  assert.equal(people.state_topic, `${root}/audience`);
  assert.equal(people.availability[0].topic, `${root}/status`);
  const retainedNow = await retainedUnder('homeassistant/#');
  assert.equal(retainedNow.length, SENSORS, 'the discovery configs are retained');
  const count = discovery().length;
  await client.publishAsync('homeassistant/status', 'online');
  await waitFor(() => discovery().length >= count + SENSORS, 5000, 'republished discovery');
  assert.equal((await send(JSON.stringify({ homeassistant: { enabled: false } }))).ok, true);
  await waitFor(
    () =>
      discovery()
        .slice(-SENSORS)
        .every((m) => m.payload === ''),
    5000,
    'empty retained payloads',
  );
  assert.deepEqual(await retainedUnder('homeassistant/#'), [], 'a late subscriber finds nothing retained any more');
});

test('every payload seen on the wire validates against its schema', async () => {
  await send('{"requestId":"wire-check"}');
  await waitFor(() => seen.find((m) => m.topic === `${root}/audience`), 60_000, 'an audience snapshot');
  const problems = seen.flatMap((m) => validate(m.topic, m.payload));
  assert.deepEqual(problems, []);
  for (const t of ['status', 'config', 'config/result', 'audience'])
    assert.ok(
      seen.some((m) => m.topic === `${root}/${t}`),
      `saw ${t}`,
    );
});

test('the patch evaluator itself: unit cases', () => {
  const cfg = defaults();
  assert.equal(evaluatePatch(cfg, '{"detector":{"scoreThreshold":0.7}}', 100).ok, true);
  assert.match(evaluatePatch(cfg, 'x'.repeat(101), 100).errors[0]!.message, /at most 100/);
  assert.equal(evaluatePatch(cfg, '{}', 100).applied.length, 0);
});
