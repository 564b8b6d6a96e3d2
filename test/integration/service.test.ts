// The agent as a service: the shipped unit and its hardening score, sd_notify over a real datagram
// socket, SIGHUP reloads, and cameras that fail to open, end or freeze.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { PACKAGE_ROOT } from '../helpers/models.js';
import { startPercept } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const require = createRequire(import.meta.url);
const work = tempDir('percept-service-');
let clip: string;

before(async () => {
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
});

function exposure(unitFile: string): number {
  const out = spawnSync('systemd-analyze', ['security', '--offline=yes', unitFile], { encoding: 'utf8' });
  const m = /Overall exposure level for percept\.service: ([\d.]+)/.exec(out.stdout + out.stderr);
  assert.ok(m, `systemd-analyze said:\n${out.stdout}${out.stderr}`);
  return Number(m[1]);
}

test('the shipped unit: notify, watchdog, bounded restarts, a sandboxed dynamic user with devices for cameras only; it scores ≤ 2.0', () => {
  // The Debian package installs this file as it is (scripts/package-deb.sh); test/system runs it.
  const unit = join(PACKAGE_ROOT, 'systemd/percept.service');
  const text = readFileSync(unit, 'utf8');
  assert.match(text, /^ExecStart=\/usr\/lib\/percept\/node\/bin\/node \/usr\/lib\/percept\/bin\/percept\.js run --config \/etc\/percept\/percept\.yaml/m);
  for (const line of [
    'Type=notify',
    'WatchdogSec=30',
    'Restart=on-failure',
    'RestartPreventExitStatus=73 78',
    'StartLimitBurst=5',
    'DynamicUser=yes',
    'SupplementaryGroups=video percept-config',
    'StateDirectory=percept',
    'ProtectSystem=strict',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'MemoryDenyWriteExecute=no',
    'SystemCallFilter=@system-service',
    'DevicePolicy=closed',
    'DeviceAllow=char-video4linux rw',
    'DeviceAllow=char-media rw',
    'DeviceAllow=char-drm rw',
  ]) {
    assert.ok(text.split('\n').includes(line), `unit has ${line}`);
  }
  const score = exposure(unit);
  assert.ok(score <= 2.0, `exposure ${score}`);
});

test('sd_notify: READY=1 after start, regular WATCHDOG=1 and STATUS=, RELOADING on SIGHUP, STOPPING=1 on SIGTERM', async (t) => {
  const dgram = require('unix-dgram') as typeof import('unix-dgram');
  const socketPath = join(work, 'notify.sock');
  const messages: { at: number; msg: string }[] = [];
  const listener = dgram.createSocket('unix_dgram', (buf: Buffer) => messages.push({ at: Date.now(), msg: String(buf) }));
  listener.bind(socketPath);
  // Closed even when the test fails: an open socket would keep this file's process from ever ending.
  t.after(() => listener.close());
  const configFile = join(work, 'hup.yaml');
  writeFileSync(configFile, 'detector:\n  scoreThreshold: 0.5\n');
  const agent = startPercept(['run', '--config', configFile, '--source', clip, '--state-dir', join(work, 'notify-state')], {
    NOTIFY_SOCKET: socketPath,
    WATCHDOG_USEC: '1000000',
    PERCEPT_MQTT_EMBEDDED_PORT: '0',
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  const until = (cond: () => boolean, what: string) => waitFor(cond, 30_000, what, { detail: () => `got ${messages.map((m) => m.msg).join(', ')}` });
  try {
    await until(() => messages.filter((m) => m.msg === 'WATCHDOG=1').length >= 4, 'watchdog pings');
    const first = messages.findIndex((m) => m.msg === 'READY=1');
    assert.ok(first >= 0 && first < messages.findIndex((m) => m.msg === 'WATCHDOG=1'), 'READY=1 before the first ping');
    assert.ok(messages.some((m) => /^STATUS=[\d.]+ frames\/s, \d+ (person|people) present, camera file/.test(m.msg)));
    const pings = messages.filter((m) => m.msg === 'WATCHDOG=1').map((m) => m.at);
    for (let i = 1; i < pings.length; i++) assert.ok(pings[i]! - pings[i - 1]! < 1000, 'pinged within the watchdog period');

    writeFileSync(configFile, 'detector:\n  scoreThreshold: 0.7\nmqtt:\n  prefix: moved\n');
    agent.child.kill('SIGHUP');
    await agent.waitFor(/SIGHUP: reloaded .*applied detector\.scoreThreshold; needs a restart: mqtt\.prefix/);
    await until(() => messages.some((m) => m.msg === 'RELOADING=1'), 'RELOADING=1');
    const r = messages.findIndex((m) => m.msg === 'RELOADING=1');
    assert.ok(
      messages.slice(r).some((m) => m.msg === 'READY=1'),
      'READY=1 again after the reload',
    );
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0, agent.stderr());
  // Datagrams sent before the exit are already queued on the socket; wait for them to be read.
  await until(() => messages[messages.length - 1]?.msg === 'STOPPING=1', 'STOPPING=1 last');
});

for (const [name, uri, expect] of [
  // Never delivered: "waiting"; delivered, then failed: "lost".
  ['fails to open', 'gst:nosuchelement ! appsink', /camera .* waiting: .*; waiting \(next try in [\d.]+ s, attempt 3\)/],
  ['ends', 'gst:videotestsrc num-buffers=5 ! videoconvert ! appsink', /lost: the stream ended; reconnecting \(next try in [\d.]+ s, attempt 3\)/],
  [
    'freezes',
    'gst:videotestsrc is-live=true ! identity sleep-time=3000000 ! videoconvert ! appsink',
    /(lost|waiting): no frame for 800 ms \(frozen\); (reconnecting|waiting)/,
  ],
] as const) {
  test(`a camera that ${name}: reconnect with backoff, attempts counted, the process stays up`, async () => {
    const agent = startPercept(['run', '--source', uri, '--state-dir', join(work, `cam-${name.replace(/ /g, '-')}`)], {
      PERCEPT_MQTT_EMBEDDED_PORT: '0',
      PERCEPT_LOG_FORMAT: 'pretty',
      PERCEPT_SOURCE_RECONNECT_MIN_MS: '100',
      PERCEPT_SOURCE_RECONNECT_MAX_MS: '400',
      PERCEPT_SOURCE_FROZEN_MS: '800',
    });
    try {
      await agent.waitFor(expect, 60_000);
      assert.equal(agent.child.exitCode, null, 'still running');
    } finally {
      agent.child.kill('SIGTERM');
    }
    assert.equal(await agent.exited, 0, agent.stderr());
    const done = /done: (\{.*\})/.exec(agent.stderr());
    assert.ok(done, agent.stderr());
    const stats = JSON.parse(done[1]!);
    assert.ok(stats.camera.reconnects >= 1, JSON.stringify(stats.camera));
  });
}

test('outside opening hours the camera is released and reported paused, and the watchdog still pings', async (t) => {
  const dgram = require('unix-dgram') as typeof import('unix-dgram');
  const socketPath = join(work, 'notify-closed.sock');
  const messages: string[] = [];
  const listener = dgram.createSocket('unix_dgram', (buf: Buffer) => messages.push(String(buf)));
  listener.bind(socketPath);
  // Closed even when the test fails: an open socket would keep this file's process from ever ending.
  t.after(() => listener.close());
  const configFile = join(work, 'closed.yaml');
  // from == to: a window of no minutes, so the shop is always closed.
  writeFileSync(configFile, 'schedule:\n  timezone: Europe/Berlin\n  openingHours:\n    - {days: daily, from: "00:00", to: "00:00"}\n');
  const agent = startPercept(
    ['run', '--config', configFile, '--source', 'gst:videotestsrc is-live=true ! videoconvert ! appsink', '--state-dir', join(work, 'closed-state')],
    {
      NOTIFY_SOCKET: socketPath,
      WATCHDOG_USEC: '600000',
      PERCEPT_MQTT_EMBEDDED_PORT: '0',
      PERCEPT_LOG_FORMAT: 'pretty',
    },
  );
  try {
    await agent.waitFor(/outside opening hours: camera released/, 60_000);
    await waitFor(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 4, 30_000, 'watchdog pings while paused (they go on by design)');
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0, agent.stderr());
  const stats = JSON.parse(/done: (\{.*\})/.exec(agent.stderr())![1]!);
  assert.equal(stats.camera.state, 'paused');
  assert.equal(stats.frames, 0, 'no frame captured while closed');
});
