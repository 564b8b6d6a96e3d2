// stats.cpuPercent on a real run: the agent on the demo clip with a real mosquitto, a stats message a
// second. The figure is wall-clock dependent, so only its presence and range are asserted: present in
// every message, finite, above 0 (the pipeline works on every frame) and within what the machine's cores
// can give. The capture process's share is checked beside it, in-process: a live capture process is
// listed, its CPU read, and it leaves the list when closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import { capturePids } from '../../agent/capture/capture-client.js';
import { captureCpuMs } from '../../agent/service/cpu-meter.js';
import { makeClip } from '../helpers/clips.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startPercept } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-cpu-');
let clip = '';
const demoClip = async () => (clip ||= makeClip(await loadOpenCV(), join(work, 'clip.avi')).path);

test('every stats message carries cpuPercent: finite, > 0, at most the cores of the machine', async () => {
  const broker = await startMosquitto();
  const configFile = join(work, 'percept.yaml');
  writeFileSync(configFile, 'mqtt:\n  statsIntervalS: 1\n');
  const root = 'percept/cpu';
  const agent = startPercept([
    'run',
    '--config',
    configFile,
    '--source',
    await demoClip(),
    '--mqtt-url',
    broker.url,
    '--device-id',
    'cpu',
    '--state-dir',
    join(work, 'state'),
  ]);
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const stats: Record<string, unknown>[] = [];
  const validate = wireValidator('percept');
  client.on('message', (topic, p) => {
    if (topic !== `${root}/stats`) return;
    assert.deepEqual(validate(topic, p), [], 'the stats message matches its schema');
    stats.push(JSON.parse(String(p)) as Record<string, unknown>);
  });
  try {
    await client.subscribeAsync(`${root}/stats`, { qos: 0 });
    // The first message covers the start (models loading); the ones after it, frames being processed.
    await waitFor(() => stats.filter((s) => (s.frames as number) > 0).length >= 3, 120_000, 'three stats messages with frames');
    for (const s of stats) {
      const cpu = s.cpuPercent as number;
      assert.equal(typeof cpu, 'number', `cpuPercent in ${JSON.stringify(s)}`);
      assert.ok(Number.isFinite(cpu) && cpu > 0, `cpuPercent ${cpu} > 0`);
      // Percent of one core: all processes together cannot pass the machine's cores (+ rounding of the ticks).
      assert.ok(cpu <= cpus().length * 100 + 10, `cpuPercent ${cpu} within ${cpus().length} cores`);
    }
  } finally {
    agent.child.kill('SIGTERM');
    await agent.exited;
    await client.endAsync();
    await broker.stop();
  }
});

test('the capture process is listed while it lives and its CPU is read', async () => {
  const before = capturePids().length;
  const src = new OpenCvSource(await loadOpenCV(), await demoClip(), { loop: false, realtime: false, imageIntervalMs: 0 });
  await src.open();
  assert.equal(capturePids().length, before + 1, 'one capture process more');
  let n = 0;
  let cpuMs = 0;
  for await (const f of src.frames()) {
    void f;
    // Decoding 720p frames takes CPU time in the capture process, counted in clock ticks (10 ms).
    cpuMs = captureCpuMs();
    if (++n >= 60 && cpuMs > 0) break;
  }
  assert.ok(cpuMs > 0, `the capture process's CPU read (${cpuMs} ms after ${n} frames)`);
  await waitFor(() => capturePids().length === before, 10_000, 'the closed capture process gone from the list');
});
