// A kiosk's sources at boot, with the real agent and a real mosquitto: a camera named by its stable
// /dev/v4l/by-id or by-path name that is not there is waited for with growing delays (status online,
// camera waiting with the reason), a gst: pipeline whose file appears late starts delivering and events
// flow, no source.uri at all waits healthily and stops with 0, a model directory mounted late is waited
// for, and a capture process killed with SIGKILL never ends the run with 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-kiosk-src-');
const validate = wireValidator('percept');
let broker: Broker;
let client: mqtt.MqttClient;
let clip: string;
const seen: { topic: string; payload: string }[] = [];
const running: Running[] = [];
// Short delays so several retries happen within the test; the growth is what is checked.
const FAST = { PERCEPT_SOURCE_RECONNECT_MIN_MS: '200', PERCEPT_SOURCE_RECONNECT_MAX_MS: '3000', PERCEPT_MQTT_STATS_INTERVAL_S: '1' };

const on = (device: string, sub: string) =>
  seen.filter((m) => m.topic === `percept/${device}/${sub}`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

function start(device: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const r = startPercept(['run', '--mqtt-url', broker.url, '--device-id', device, '--state-dir', join(work, `state-${device}`), ...args], { ...FAST, ...env });
  running.push(r);
  return r;
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return r.exited;
}

before(async () => {
  broker = await startMosquitto();
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  client.on('message', (topic, p) => seen.push({ topic, payload: String(p) }));
  await client.subscribeAsync('percept/#', { qos: 1 });
});

after(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await client?.endAsync();
  await broker?.stop();
  const problems = seen.flatMap((m) => validate(m.topic, m.payload));
  assert.deepEqual(problems, [], 'every message on the wire matches its schema');
  rmSync(work, { recursive: true, force: true });
});

/** Waiting details in order, and the "next try in N s" of each. */
function waits(device: string): { detail: string; nextS: number }[] {
  return on(device, 'status')
    .filter((s) => s.camera === 'waiting' && typeof s.cameraDetail === 'string')
    .map((s) => ({ detail: s.cameraDetail as string, nextS: Number(/next try in ([\d.]+) s/.exec(s.cameraDetail as string)?.[1] ?? NaN) }));
}

for (const kind of ['by-id', 'by-path'] as const) {
  test(`a /dev/v4l/${kind}/… camera missing at start: online, camera waiting with the reason, growing delays; SIGTERM exits 0`, async () => {
    const name = kind === 'by-id' ? `usb-percept_test_${process.pid}-video-index0` : `pci-0000:00:14.0-usb-0:9.${process.pid}:1.0-video-index0`;
    const dir = `/dev/v4l/${kind}`;
    const path = join(dir, name);
    const device = `wait-${kind}`;
    const agent = start(device, ['--source', path]);
    await waitFor(() => (waits(device).length >= 4 ? true : undefined), 60_000, 'four waiting status updates');
    const status = on(device, 'status').at(-1)!;
    assert.equal(status.state, 'online');
    assert.equal(status.camera, 'waiting');
    const w = waits(device);
    assert.match(w[0]!.detail, new RegExp(`source ${path.replace(/[.]/g, '\\.')}: no such device; waiting \\(next try in`));
    // Exponential with ±50 % jitter from 200 ms: attempt 4's base (1.6 s) is 8× attempt 1's (0.2 s).
    assert.ok(w[3]!.nextS > w[0]!.nextS, `delays grow: ${w.map((x) => x.nextS).join(', ')}`);
    assert.equal(agent.child.exitCode, null, 'still running');
    // The name appears, but what it points at is no camera: still waiting, now with OpenCV's reason.
    const made = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    try {
      symlinkSync(clip, path);
      await waitFor(
        () => (waits(device).some((x) => /cannot be opened/.test(x.detail)) ? true : undefined),
        30_000,
        'the open failure after the name appeared',
      );
      assert.equal(agent.child.exitCode, null);
    } finally {
      rmSync(path, { force: true });
      if (made && readdirSync(dir).length === 0) rmdirSync(dir);
      if (existsSync('/dev/v4l') && readdirSync('/dev/v4l').length === 0) rmdirSync('/dev/v4l');
    }
    assert.equal(await stop(agent), 0);
  });
}

test('a gst: pipeline whose file appears after a few tries: waiting, then frames and events flow', async () => {
  const late = join(work, 'late', 'late.avi');
  mkdirSync(join(work, 'late'));
  const device = 'gst-late';
  const agent = start(device, ['--source', `gst:filesrc location=${late} ! decodebin ! videoconvert ! appsink`]);
  await waitFor(() => (waits(device).length >= 3 ? true : undefined), 60_000, 'three waiting status updates');
  assert.equal(on(device, 'status').at(-1)!.state, 'online');
  copyFileSync(clip, late);
  await waitFor(() => (on(device, 'status').at(-1)?.camera === 'ok' ? true : undefined), 60_000, 'camera ok once the file is there');
  await waitFor(() => (on(device, 'events/entered').length ? true : undefined), 120_000, 'an entered event from the late file');
  assert.equal(await stop(agent), 0);
});

test('no source.uri: starts, online with camera waiting and how to set it; SIGTERM exits 0', async () => {
  const config = join(work, 'no-source.yaml');
  writeFileSync(config, 'source:\n  uri: ""\n');
  const device = 'no-source';
  const agent = start(device, ['--config', config]);
  const status = await waitFor(() => on(device, 'status').find((s) => s.state === 'online'), 60_000, 'online status');
  assert.equal(status.camera, 'waiting');
  assert.match(String(status.cameraDetail), /no source configured: set source\.uri in \/etc\/percept\/percept\.yaml.*systemctl restart percept/);
  await waitFor(() => (on(device, 'stats').length ? true : undefined), 30_000, 'stats while waiting');
  assert.equal(await stop(agent), 0);
});

test('a model directory that appears later is waited for, then the agent classifies', async () => {
  const dir = join(work, 'late-model');
  const device = 'late-model';
  const agent = start(device, ['--source', clip, '--model', dir]);
  await agent.waitFor(/no model\.json in .*late-model.*waiting for it \(next try in [\d.]+ s, attempt 2\)/, 60_000);
  assert.equal(agent.child.exitCode, null);
  cpSync(DEFAULT_MODELS.ageGender, dir, { recursive: true, dereference: true });
  const classified = () => ['entered', 'updated', 'left'].flatMap((t) => on(device, `events/${t}`)).find((e) => e.gender);
  await waitFor(classified, 120_000, `a classified visit; agent log:\n${agent.stderr()}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent.stderr().slice(-3000)}`);
  });
  assert.equal(await stop(agent), 0);
});

/** The capture process: the agent's child running capture-process.js (from /proc, no pgrep needed). */
function captureChild(pid: number): number | undefined {
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
        if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('capture-process')) return Number(c);
      }
    }
  } catch {
    // a process that ended between the listing and the read: look again
  }
  return undefined;
}

for (const kind of ['file', 'gst'] as const) {
  test(`a ${kind} source's capture process killed with SIGKILL: a new one takes over and frames go on`, async () => {
    const device = `kill-${kind}`;
    const source = kind === 'file' ? clip : `gst:filesrc location=${clip} ! decodebin ! videoconvert ! appsink`;
    const agent = start(device, ['--source', source]);
    const framesNow = () => Number((on(device, 'stats').at(-1)?.frames as number | undefined) ?? 0);
    await waitFor(() => (framesNow() > 0 ? true : undefined), 60_000, 'frames');
    const first = await waitFor(() => captureChild(agent.child.pid!), 30_000, 'the capture process');
    process.kill(first, 'SIGKILL');
    await waitFor(
      () => {
        const c = captureChild(agent.child.pid!);
        return c !== undefined && c !== first ? c : undefined;
      },
      30_000,
      'a new capture process',
    );
    const after = framesNow();
    await waitFor(() => (framesNow() > after + 5 ? true : undefined), 60_000, 'frames after the kill');
    assert.equal(agent.child.exitCode, null, 'the agent is still running');
    assert.equal(await stop(agent), 0);
  });
}
