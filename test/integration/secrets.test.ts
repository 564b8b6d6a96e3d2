// Secrets never leave the agent: a broker password in mqtt.url and a camera password in an rtsp:// URI
// appear in no message on any topic (config, status, stats, audience, discovery…) and in no log line,
// while the redacted forms show the operator which account is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, startMosquitto } from '../helpers/mosquitto.js';
import { startPercept } from '../helpers/agent-process.js';
import { flush } from '../helpers/mqtt-flush.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const BROKER_PW = 's3cr3t-broker-pw';
const CAMERA_PW = 'camPW-7731';

test('a broker and a camera password appear on no topic and in no log line', async () => {
  const broker = await startMosquitto();
  const work = tempDir('percept-secrets-');
  const seen: { topic: string; payload: string }[] = [];
  const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  sub.on('message', (topic, p) => seen.push({ topic, payload: String(p) }));
  await sub.subscribeAsync('#', { qos: 1 });
  // Nothing listens on this port: the camera fails to open and its error is reported in status and stats.
  const camera = `rtsp://viewer:${CAMERA_PW}@127.0.0.1:${await freePort()}/stream`;
  const url = `mqtt://percept:${BROKER_PW}@127.0.0.1:${broker.port}`;
  const agent = startPercept(['run', '--source', camera, '--mqtt-url', url, '--device-id', 'secrets', '--state-dir', join(work, 'state')], {
    PERCEPT_MQTT_STATS_INTERVAL_S: '1',
    PERCEPT_HOMEASSISTANT_ENABLED: 'true',
    PERCEPT_SOURCE_RECONNECT_MIN_MS: '200',
    PERCEPT_LOG_LEVEL: 'debug',
  });
  try {
    const until = (what: string, cond: () => boolean) => waitFor(cond, 60_000, what, { detail: () => `stderr:\n${agent.stderr()}` });
    const has = (topic: string, re: RegExp) => seen.some((m) => m.topic === topic && re.test(m.payload));
    await until('the retained config', () => seen.some((m) => m.topic === 'percept/secrets/config'));
    // It never delivered: waiting (lost is for a camera that delivered, then failed).
    await until('status with the camera waiting', () => has('percept/secrets/status', /"camera":"waiting"/));
    await until('stats naming the camera error', () => has('percept/secrets/stats', /"lastError":"[^"]+"/));
    await agent.waitFor(/camera .* waiting/);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0, agent.stderr());
  await flush(sub);
  await sub.endAsync();
  await broker.stop();

  const topics = new Set(seen.map((m) => m.topic));
  for (const t of ['config', 'status', 'stats']) assert.ok(topics.has(`percept/secrets/${t}`), `saw ${t}`);
  assert.ok(
    [...topics].some((t) => t.startsWith('homeassistant/')),
    'saw discovery',
  );
  for (const m of seen) {
    assert.ok(!m.payload.includes(BROKER_PW), `broker password on ${m.topic}: ${m.payload.slice(0, 300)}`);
    assert.ok(!m.payload.includes(CAMERA_PW), `camera password on ${m.topic}: ${m.payload.slice(0, 300)}`);
  }
  const logs = agent.stderr();
  assert.ok(!logs.includes(BROKER_PW), 'broker password in a log line');
  assert.ok(!logs.includes(CAMERA_PW), 'camera password in a log line');
  // The redacted forms keep the account names.
  const config = seen.find((m) => m.topic === 'percept/secrets/config')!.payload;
  assert.match(config, /mqtt:\/\/percept:\*\*\*@127\.0\.0\.1/);
  assert.match(config, /rtsp:\/\/viewer:\*\*\*@127\.0\.0\.1/);
  assert.match(logs, /viewer:\*\*\*@/);
  // The camera error quoted the URI (so without redaction the password would have gone out with it).
  assert.ok(
    seen.some((m) => m.topic === 'percept/secrets/stats' && /viewer:\*\*\*@/.test(m.payload)),
    'stats quote the redacted camera URI',
  );
});
