// The installer's remote commands against a real agent and a real mosquitto: `watch --json` sees a
// person enter and leave on the demo clip; `config set` is applied, refused locally (wrong type, unknown
// key — nothing is sent), and gets no answer once the agent is stopped (69); `config get` and `config
// diff` read the retained effective config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { runPercept, startPercept, type Running } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-installer-');
const device = 'installer';
const root = `percept/${device}`;
let broker: Broker;
let agent: Running;
let watch: Running;
let client: mqtt.MqttClient;
const sets: string[] = [];
let configSeen = false;
// No local config on this host may leak into what the commands aim at.
const NO_SYSTEM = { PERCEPT_MQTT_STATS_INTERVAL_S: '1' };
const target = () => ['--mqtt-url', broker.url, '--device-id', device, '--config', join(work, 'empty.yaml')];

interface Line {
  kind: string;
  topic?: string;
  payload?: Record<string, unknown>;
}
const watched = (): Line[] =>
  watch
    .stdout()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

before(async () => {
  broker = await startMosquitto();
  writeFileSync(join(work, 'empty.yaml'), '{}\n');
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  watch = startPercept(['watch', '--json', ...target()]);
  await waitFor(() => (watch.stdout().includes('"watching"') ? true : undefined), 30_000, 'watch to subscribe');
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  client.on('message', (t, p) => {
    if (t.endsWith('/config/set')) sets.push(String(p));
    if (t === `${root}/config`) configSeen = true;
  });
  await client.subscribeAsync([`${root}/config/set`, `${root}/config`], { qos: 1 });
  agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', device, '--state-dir', join(work, 'state')], NO_SYSTEM);
  // The agent listens on config/set once it has published its effective config.
  await waitFor(() => (configSeen ? true : undefined), 120_000, 'the agent to publish its config');
});

after(async () => {
  agent?.child.kill('SIGTERM');
  watch?.child.kill('SIGTERM');
  await Promise.all([agent?.exited, watch?.exited]);
  await client?.endAsync();
  await broker?.stop();
});

test('watch --json shows a person entering and leaving, with status, stats and the audience', async () => {
  const left = await waitFor(() => watched().find((l) => l.kind === 'event' && l.payload?.type === 'left'), 120_000, 'a left event in watch --json');
  const person = left.payload!.person as string;
  const lines = watched();
  assert.ok(
    lines.some((l) => l.kind === 'event' && l.payload?.type === 'entered' && l.payload.person === person),
    'entered before left',
  );
  assert.ok(
    lines.some((l) => l.kind === 'audience' && (l.payload?.people as { person: string }[]).some((p) => p.person === person)),
    'in the audience while present',
  );
  assert.ok(lines.some((l) => l.kind === 'status' && l.payload?.state === 'online'));
  await waitFor(() => watched().find((l) => l.kind === 'stats'), 30_000, 'stats');
});

test('config set applies a hot key; config get and config diff read the effective config', async () => {
  const res = await runPercept(['config', 'set', 'detector.minFacePx=24', ...target()]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /applied now: detector\.minFacePx/);
  const sent = JSON.parse(sets.at(-1)!);
  assert.equal(sent.detector.minFacePx, 24);
  assert.equal(typeof sent.requestId, 'string');
  const get = await runPercept(['config', 'get', 'detector.minFacePx', ...target()]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout.trim(), '24');
  const file = join(work, 'site.yaml');
  writeFileSync(file, 'detector:\n  minFacePx: 30\n');
  const diff = await runPercept(['config', 'diff', file, ...target()]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /detector\.minFacePx: 24 → 30/);
});

test('config set refuses a wrong type and an unknown key before sending anything (exit 1)', async () => {
  await flush(client);
  const before = sets.length;
  const wrong = await runPercept(['config', 'set', 'detector.minFacePx=big', ...target()]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /detector\.minFacePx: must be a number, got "big"/);
  const unknown = await runPercept(['config', 'set', 'detector.minFacePxx=3', ...target()]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /detector\.minFacePxx: unknown key/);
  const misspelt = await runPercept(['config', 'set', 'detector.minFacePx=3', '--divice-id', device]);
  assert.equal(misspelt.code, 64);
  assert.match(misspelt.stderr, /Unknown argument.*divice-id/);
  await flush(client);
  assert.equal(sets.length, before, 'nothing reached config/set');
});

test('config set of a key the allow-list forbids: sent, refused by the device naming the key (exit 1), nothing changes', async () => {
  const res = await runPercept(['config', 'set', 'mqtt.url=mqtt://attacker.example:1883', ...target()]);
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stdout + res.stderr, /mqtt\.url: .*(local-only|command-line flag)/);
  const get = await runPercept(['config', 'get', 'mqtt.url', ...target()]);
  assert.equal(get.code, 0, get.stderr);
  assert.doesNotMatch(get.stdout, /attacker/);
});

test('config set with the agent stopped: no answer, exit 69', async () => {
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
  const res = await runPercept(['config', 'set', 'detector.minFacePx=28', '--timeout', '2', ...target()]);
  assert.equal(res.code, 69, res.stderr);
  assert.match(res.stderr, /no answer from device "installer"/);
  await waitFor(() => watched().find((l) => l.kind === 'status' && l.payload?.state === 'offline'), 10_000, 'watch to see offline');
  watch.child.kill('SIGINT');
  assert.equal(await watch.exited, 0, 'Ctrl-C ends watch cleanly');
});
