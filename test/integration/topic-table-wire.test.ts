// The topic table drives the wire (issue 21): `percept run` on the demo clip with every publishing feature
// at work — events, audience, nearest, stats, the config and its answers, Home Assistant discovery (added
// and removed), an impression, the running and a finished daily summary through the outbox, status —
// against a real mosquitto, watched by one subscriber on `#`. Every message seen must be on a topic of
// the table, at the table's QoS and retain flag.
//
// What the subscriber can see: a delivery's QoS is min(published, subscribed), so it subscribes at QoS 1
// (the highest the agent uses); the retain flag of a live delivery survives only with MQTT 5's
// retain-as-published (`rap: true`), otherwise brokers clear it on forwarded messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { startPercept } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/wait.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { HA_DISCOVERY, OUT_TOPICS, TOPICS, topicMatches, type OutTopicName, type TopicSpec } from '../../agent/contract/topics.js';

interface Seen {
  topic: string;
  text: string;
  qos: number;
  retain: boolean;
}

const DEVICE = 'wire';
const ROOT = `percept/${DEVICE}`;
let broker: Broker;
let clip: string;
const work = mkdtempSync(join(tmpdir(), 'percept-wire-'));

before(async () => {
  broker = await startMosquitto();
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
});
after(async () => {
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The table's name for a topic seen on the wire (null: not in the table); the inbound ones are the test's own. */
function specOf(topic: string): { name: OutTopicName | 'inbound'; spec: TopicSpec } | null {
  if (topic === 'homeassistant/status') return { name: 'inbound', spec: TOPICS.contentSet };
  if (/^homeassistant\/sensor\/[^/]+\/[^/]+\/config$/.test(topic)) return { name: 'homeassistantDiscovery', spec: HA_DISCOVERY };
  const inbound = Object.values(TOPICS as Record<string, TopicSpec>).find((s) => s.direction === 'in' && topicMatches(s, ROOT, topic));
  if (inbound) return { name: 'inbound', spec: inbound };
  const out = (Object.entries(OUT_TOPICS) as [OutTopicName, TopicSpec][]).find(([, s]) => topicMatches(s, ROOT, topic));
  return out ? { name: out[0], spec: out[1] } : null;
}

test('every message on the wire has the QoS and retain flag of the topic table', async () => {
  // A day that ended while the agent was down: it goes out at start as final, through the outbox.
  const stateDir = join(work, 'state');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'summary.json'), JSON.stringify({ date: '2026-01-01', visits: 0, byHour: [] }));

  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  const seen: Seen[] = [];
  sub.on('message', (topic, payload, packet) => seen.push({ topic, text: String(payload), qos: packet.qos, retain: packet.retain }));
  await sub.subscribeAsync('#', { qos: 1, rap: true });
  const on = (path: string) => seen.filter((m) => m.topic === `${ROOT}/${path}`);

  const t0 = Date.now() - 1000;
  const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', DEVICE, '--state-dir', stateDir], {
    PERCEPT_SOURCE_LOOP: 'false',
    PERCEPT_MQTT_STATS_INTERVAL_S: '1',
  });
  const until = (get: () => boolean, what: string) =>
    waitFor(get, 180_000, what).catch((err: Error) => {
      throw new Error(`${err.message}; the agent said:\n${agent.stderr().slice(-3000)}`);
    });
  try {
    await until(() => on('status').length > 0 && on('config').length > 0, 'the birth status and the config');
    const send = (topic: string, body: string) => sub.publishAsync(topic, body, { qos: 1 });
    // A play, ended by the stop at the end of the clip: one impression through the outbox.
    await send(`${ROOT}/content/set`, JSON.stringify({ id: 'ad-1', name: 'wire' }));
    // Home Assistant on (discovery configs), announced online (again), and off (empty retained configs).
    await send(`${ROOT}/config/set`, JSON.stringify({ requestId: 'ha-on', homeassistant: { enabled: true } }));
    await until(() => on('config/result').length >= 1, 'the answer to ha-on');
    await send('homeassistant/status', 'online');
    await send(`${ROOT}/config/set`, JSON.stringify({ requestId: 'dry', dryRun: true, audience: { nearestMaxHz: 5 } }));
    await send(`${ROOT}/config/set`, JSON.stringify({ requestId: 'ha-off', homeassistant: { enabled: false } }));
    await until(() => on('config/result').length >= 3, 'the answers to dry and ha-off');
    const code = await Promise.race([
      agent.exited,
      new Promise<null>((_, rej) => setTimeout(() => rej(new Error(`agent did not exit:\n${agent.stderr().slice(-3000)}`)), 120_000)),
    ]);
    assert.equal(code, 0, agent.stderr().slice(-3000));
    await flush(sub);
  } finally {
    if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
    await agent.exited;
    await sub.endAsync();
  }

  const wrong: string[] = [];
  const counts = new Map<string, number>();
  const validate = wireValidator('percept');
  for (const m of seen) {
    const hit = specOf(m.topic);
    if (!hit) {
      wrong.push(`${m.topic}: not a topic of the table`);
      continue;
    }
    if (hit.name === 'inbound') continue; // the test's own commands
    counts.set(hit.name, (counts.get(hit.name) ?? 0) + 1);
    if (m.qos !== hit.spec.qos) wrong.push(`${m.topic}: QoS ${m.qos}, the table says ${hit.spec.qos}`);
    if (m.retain !== hit.spec.retained) wrong.push(`${m.topic}: retain ${m.retain}, the table says ${hit.spec.retained}`);
    for (const problem of validate(m.topic, m.text)) wrong.push(problem);
  }
  console.log(`messages per topic: ${JSON.stringify(Object.fromEntries([...counts].sort()))}`);
  assert.deepEqual(wrong, [], 'QoS, retain and schema of every message match the topic table');
  for (const name of Object.keys(OUT_TOPICS)) assert.ok(counts.get(name), `the run published on ${name} (the check covers every outbound topic)`);
  const discovery = seen.filter((m) => specOf(m.topic)?.name === 'homeassistantDiscovery');
  assert.ok(
    discovery.some((m) => m.text === '') && discovery.some((m) => m.text !== ''),
    'discovery configs were both published and removed (empty retained payloads)',
  );
  const summaries = on('summary/daily').map((m) => JSON.parse(m.text) as { date: string; final: boolean });
  assert.ok(
    summaries.some((s) => s.date === '2026-01-01' && s.final),
    'the finished day went out through the outbox',
  );
  assert.ok(
    summaries.some((s) => !s.final),
    'the running day was published at stop',
  );
  assert.doesNotMatch(agent.stderr(), /does not match its schema/, 'no payload was off its schema');

  // Issue 25: one envelope everywhere the agent speaks for itself (Home Assistant's configs are HA's format,
  // {root}/config is the config file's), ts the wall-clock time the message was made, not a frame's.
  const bodies = seen.filter((m) => m.text && !['inbound', 'homeassistantDiscovery', 'config'].includes(specOf(m.topic)?.name ?? 'inbound'));
  for (const m of bodies) {
    const b = JSON.parse(m.text) as { schema?: number; device?: string; ts?: string };
    assert.equal(b.schema, 1, `${m.topic}: schema`);
    assert.equal(b.device, DEVICE, `${m.topic}: device`);
    // A clean stop: no last will, the one status without ts.
    const t = Date.parse(b.ts ?? '');
    assert.ok(t >= t0 && t <= Date.now(), `${m.topic}: ts ${b.ts} is a time of this run (wall clock)`);
  }
  const status = on('status').map((m) => JSON.parse(m.text) as { state: string; camera?: string });
  assert.ok(
    status.filter((s) => s.state === 'online').every((s) => s.camera === 'ok'),
    'a file source is a camera that is ok',
  );
  assert.ok(
    on('summary/daily').every((m) => (JSON.parse(m.text) as { timeZone?: string }).timeZone === 'UTC'),
    'every summary names its zone (schedule.timezone, UTC by default)',
  );
});
