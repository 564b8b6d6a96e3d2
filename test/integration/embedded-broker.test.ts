// Without mqtt.url the agent starts its own broker; a subscriber connects to it. SIGTERM mid-clip ends
// open visits with "left", publishes "offline" and exits 0. --print-events mirrors events on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { freePort } from '../helpers/mosquitto.js';
import { startPercept } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

test('embedded broker, live events, clean stop on SIGTERM', async () => {
  const work = tempDir('percept-embedded-');
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  const port = await freePort();
  const agent = startPercept(['run', '--source', clip, '--device-id', 'kiosk', '--state-dir', join(work, 'state'), '--print-events'], {
    PERCEPT_MQTT_EMBEDDED_PORT: String(port),
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  const [, url] = await agent.waitFor(/embedded MQTT broker listening on (mqtt:\/\/127\.0\.0\.1:\d+)/);
  assert.equal(url, `mqtt://127.0.0.1:${port}`);

  const client = await mqtt.connectAsync(url!, { reconnectPeriod: 0 });
  const seen: { topic: string; payload: Record<string, unknown> }[] = [];
  client.on('message', (topic, p) => seen.push({ topic, payload: JSON.parse(String(p)) }));
  await client.subscribeAsync('percept/kiosk/#', { qos: 1 });

  // The clip plays in real time (10 fps): Grace Hopper is in view from about 2 s.
  await waitFor(() => seen.some((m) => m.topic === 'percept/kiosk/events/entered'), 30_000, 'an entered event while the clip plays');
  assert.ok(
    seen.some((m) => m.topic === 'percept/kiosk/status' && m.payload.state === 'online'),
    'retained online status',
  );
  assert.ok(
    seen.some((m) => m.topic === 'percept/kiosk/events/entered'),
    'an entered event while the clip plays',
  );

  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0, agent.stderr());
  await client.endAsync(true);

  const events = seen.filter((m) => m.topic.includes('/events/')).map((m) => m.payload);
  const entered = events
    .filter((e) => e.type === 'entered')
    .map((e) => e.person)
    .sort();
  const left = events
    .filter((e) => e.type === 'left')
    .map((e) => e.person)
    .sort();
  assert.deepEqual(left, entered, 'every visit open at SIGTERM got its "left"');
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
  );
  const { ts, ...offline } = seen.filter((m) => m.topic === 'percept/kiosk/status').pop()?.payload as Record<string, unknown>;
  assert.deepEqual(offline, { schema: 1, device: 'kiosk', state: 'offline', reason: 'shutdown' });
  assert.equal(typeof ts, 'string', 'a clean stop says when');

  const printed = agent
    .stdout()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(printed, events, '--print-events prints exactly the published events, nothing else');
  assert.match(agent.stderr(), /SIGTERM: stopping/);
});
