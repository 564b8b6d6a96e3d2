// The agent as a service: the unit's hardening score, the installer, sd_notify over a real datagram
// socket, SIGHUP reloads, and cameras that fail to open, end or freeze.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { PACKAGE_ROOT } from '../helpers/models.js';
import { startPercept } from '../helpers/agent-process.js';

const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'percept-service-'));
const INSTALL = join(PACKAGE_ROOT, 'systemd/install.sh');
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

test('install.sh --dry-run changes nothing and says what it would do', () => {
  const prefix = join(work, 'dry');
  const out = execFileSync('bash', [INSTALL, '--dry-run', '--prefix', prefix], { encoding: 'utf8' });
  assert.match(out, /\[dry-run\] cp -R -H --preserve=timestamps .*\/dist /);
  assert.match(out, new RegExp(`write ${prefix}/etc/systemd/system/percept.service`));
  assert.ok(!existsSync(prefix), 'nothing created');
});

test('install, upgrade (config kept), uninstall under a prefix; the unit scores ≤ 2.0', () => {
  const prefix = join(work, 'root');
  execFileSync('bash', [INSTALL, '--prefix', prefix], { encoding: 'utf8' });
  const unit = join(prefix, 'etc/systemd/system/percept.service');
  const text = readFileSync(unit, 'utf8');
  assert.match(text, /^ExecStart=\S*node \/opt\/percept\/bin\/percept\.js run --config \/etc\/percept\/percept\.yaml/m);
  assert.doesNotMatch(text, /@PREFIX@|@NODE@/);
  for (const line of [
    'Type=notify',
    'WatchdogSec=30',
    'Restart=on-failure',
    'RestartPreventExitStatus=73 78',
    'StartLimitBurst=5',
    'DynamicUser=yes',
    'SupplementaryGroups=video',
    'StateDirectory=percept',
    'ProtectSystem=strict',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'MemoryDenyWriteExecute=no',
    'SystemCallFilter=@system-service',
  ]) {
    assert.ok(text.split('\n').includes(line), `unit has ${line}`);
  }
  const score = exposure(unit);
  assert.ok(score <= 2.0, `exposure ${score}`);
  assert.ok(!existsSync(`${unit}.d`), 'no Jetson drop-in on a machine that is not a Jetson');
  assert.ok(existsSync(join(prefix, 'opt/percept/dist/agent/cli/main.js')));
  // The installed copy runs.
  const help = spawnSync(
    process.execPath,
    [join(prefix, 'opt/percept/bin/percept.js'), 'models', 'verify', join(prefix, 'opt/percept/models/face-api/age-gender')],
    { encoding: 'utf8' },
  );
  assert.equal(help.status, 0, help.stderr);

  const config = join(prefix, 'etc/percept/percept.yaml');
  writeFileSync(config, 'source:\n  uri: /dev/video0\n');
  // On a Jetson (its release file), the upgrade adds the camera-daemon drop-in; uninstall removes it.
  mkdirSync(join(prefix, 'etc'), { recursive: true });
  writeFileSync(join(prefix, 'etc/nv_tegra_release'), '# R36 (release), REVISION: 4.0\n');
  const upgrade = execFileSync('bash', [INSTALL, '--prefix', prefix], { encoding: 'utf8' });
  assert.match(upgrade, /upgrading/);
  assert.match(readFileSync(`${unit}.d/jetson-camera.conf`, 'utf8'), /^BindReadOnlyPaths=\/tmp:\/run\/percept\/host-tmp$/m);
  assert.equal(readFileSync(config, 'utf8'), 'source:\n  uri: /dev/video0\n', 'config kept on upgrade');
  assert.ok(existsSync(`${config}.dist`));

  execFileSync('bash', [INSTALL, '--uninstall', '--prefix', prefix]);
  assert.ok(!existsSync(unit) && !existsSync(`${unit}.d`) && !existsSync(join(prefix, 'opt/percept')));
  assert.ok(existsSync(config), 'config kept on uninstall');
  execFileSync('bash', [INSTALL, '--uninstall', '--purge', '--prefix', prefix]);
  assert.ok(!existsSync(config));
});

test('install.sh installs root-owned, world-readable files whatever the source modes (drwx------ model exports)', () => {
  // A built checkout in miniature, made the way the PE-Core exporter leaves it: umask 077, another owner.
  const src = join(work, 'modes-src');
  const files: Record<string, string> = {
    'bin/percept.js': '#!/usr/bin/env node\n',
    'dist/agent/cli/main.js': '',
    'models/face-api/ssd-mobilenetv1/model.json': '{}',
    'models/pe-core/exported/model.json': '{}',
    'models/pe-core/exported/model.onnx': 'weights',
    'config/percept.yaml': 'source:\n  uri: ""\n',
    'config/percept.schema.json': '{}',
    'schemas/event.json': '{}',
    'node_modules/x/index.js': '',
    'package.json': '{}',
    'package-lock.json': '{}',
    'README.md': '',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, f)), { recursive: true, mode: 0o700 });
    writeFileSync(join(src, f), text, { mode: 0o600 });
  }
  chmodSync(join(src, 'bin/percept.js'), 0o700);
  mkdirSync(join(src, 'systemd'));
  for (const f of ['install.sh', 'percept.service']) copyFileSync(join(PACKAGE_ROOT, 'systemd', f), join(src, 'systemd', f));
  const root = process.getuid?.() === 0;
  if (root) execFileSync('chown', ['-R', '4321:4321', src]);
  for (const d of ['models/pe-core/exported', 'models/pe-core']) chmodSync(join(src, d), 0o700);

  const prefix = join(work, 'modes-root');
  execFileSync('bash', [join(src, 'systemd/install.sh'), '--prefix', prefix], { encoding: 'utf8' });
  const app = join(prefix, 'opt/percept');
  const seen: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    const mode = st.mode & 0o7777;
    seen.push(p);
    if (st.isDirectory()) {
      assert.equal(mode, 0o755, `${p} is a 0755 directory (was ${mode.toString(8)})`);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else {
      const want = p.endsWith('bin/percept.js') ? 0o755 : 0o644;
      assert.equal(mode, want, `${p} is ${want.toString(8)} (was ${mode.toString(8)})`);
    }
    if (root) assert.equal(st.uid, 0, `${p} belongs to root, not to the builder`);
  };
  walk(app);
  assert.ok(seen.includes(join(app, 'models/pe-core/exported/model.onnx')));
  for (const f of ['percept.yaml', 'percept.schema.json']) assert.equal(statSync(join(prefix, 'etc/percept', f)).mode & 0o777, 0o644, f);
  assert.equal(statSync(join(prefix, 'etc/systemd/system/percept.service')).mode & 0o777, 0o644);
});

test('sd_notify: READY=1 after start, regular WATCHDOG=1 and STATUS=, RELOADING on SIGHUP, STOPPING=1 on SIGTERM', async () => {
  const dgram = require('unix-dgram') as typeof import('unix-dgram');
  const socketPath = join(work, 'notify.sock');
  const messages: { at: number; msg: string }[] = [];
  const listener = dgram.createSocket('unix_dgram', (buf: Buffer) => messages.push({ at: Date.now(), msg: String(buf) }));
  listener.bind(socketPath);
  const configFile = join(work, 'hup.yaml');
  writeFileSync(configFile, 'detector:\n  scoreThreshold: 0.5\n');
  const agent = startPercept(['run', '--config', configFile, '--source', clip, '--state-dir', join(work, 'notify-state')], {
    NOTIFY_SOCKET: socketPath,
    WATCHDOG_USEC: '1000000',
    PERCEPT_MQTT_EMBEDDED_PORT: '0',
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  const until = async (cond: () => boolean, what: string) => {
    const end = Date.now() + 30_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}; got ${messages.map((m) => m.msg)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
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
  listener.close();
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

test('outside opening hours the camera is released and reported paused, and the watchdog still pings', async () => {
  const dgram = require('unix-dgram') as typeof import('unix-dgram');
  const socketPath = join(work, 'notify-closed.sock');
  const messages: string[] = [];
  const listener = dgram.createSocket('unix_dgram', (buf: Buffer) => messages.push(String(buf)));
  listener.bind(socketPath);
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
    const end = Date.now() + 30_000;
    while (messages.filter((m) => m === 'WATCHDOG=1').length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(messages.filter((m) => m === 'WATCHDOG=1').length >= 4, 'pings go on while paused by design');
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0, agent.stderr());
  listener.close();
  const stats = JSON.parse(/done: (\{.*\})/.exec(agent.stderr())![1]!);
  assert.equal(stats.camera.state, 'paused');
  assert.equal(stats.frames, 0, 'no frame captured while closed');
});
