// The shipped unit under a real systemd: a minimal Debian (debootstrap, cached) booted with
// `systemd-nspawn -b`, percept installed into it by systemd/install.sh, a real mosquitto on the host
// (the container shares its network) and the demo clip as the camera. Proves: READY (Type=notify), the
// dynamic user's state directory (seq survives restarts), the Jetson camera socket reaching the
// sandbox, `systemctl reload` (SIGHUP), a watchdog restart when the process truly stalls (SIGSTOP), no
// restart on a config error (78), a bounded retry of a model error (65), and uninstall.
// Needs root, debootstrap and systemd-container (npm run setup installs them); the first run builds the
// root (a few minutes, ~1 GB under .cache/systemd-root), later runs boot it in seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import mqtt from 'mqtt';
import { ensureDemoClip } from '../../agent/cli/demo.js';
import { PACKAGE_ROOT } from '../helpers/models.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { ensureRoot, missingPrerequisites } from '../helpers/systemd-root.js';
import { bootContainer, type Container } from '../helpers/systemd-container.js';

const DEVICE = 'nspawn-test';
const CONFIG = '/etc/percept/percept.yaml';
const CLIP = '/srv/percept/clip.avi';
const figures: Record<string, string> = {};
let ct: Container;
let broker: Broker;
let client: mqtt.MqttClient;
let scratch: string;
const messages: { topic: string; payload: Record<string, unknown>; at: number }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs: number, detail = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${seconds(timeoutMs)}: ${what}\n${detail()}`);
    await sleep(250);
  }
}

function show(...props: string[]): Record<string, string> {
  const r = ct.exec(['systemctl', 'show', 'percept.service', ...props.map((p) => `--property=${p}`)]);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const journal = () => ct.exec(['journalctl', '-u', 'percept.service', '-o', 'cat', '--no-pager']).stdout;
const events = () => messages.filter((m) => m.topic.startsWith(`percept/${DEVICE}/events/`)).map((m) => m.payload as { seq: number; type: string });

function writeConfig(extra = ''): void {
  writeFileSync(ct.path(CONFIG), `device:\n  id: ${DEVICE}\nsource:\n  uri: ${CLIP}\nmqtt:\n  url: ${broker.url}\n${extra}`);
}

/** Runs `node -e script` in the running service's mount namespace (its private /tmp), as its user. */
function inService(script: string): { status: number | null; stdout: string; stderr: string } {
  const main = Number(show('MainPID').MainPID);
  assert.ok(main > 0, 'the service has a main process');
  const host = ct.hostPid(main);
  const uid = String(statSync(`/proc/${host}`).uid);
  const r = spawnSync('nsenter', ['-t', String(host), '-m', '-r', '-w', '-S', uid, '-G', uid, '/usr/local/bin/node', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(
  async () => {
    const missing = missingPrerequisites();
    assert.deepEqual(missing, [], `a real systemd cannot be booted here; missing:\n  ${missing.join('\n  ')}`);
    const clip = await ensureDemoClip();
    const root = ensureRoot();
    figures.root =
      root.builtMs === null
        ? `cached (${root.dir})`
        : `built in ${seconds(root.builtMs)} (debootstrap + ${root.recipe.extra.length} OpenCV packages from ${root.recipe.mirror})`;

    // The project and node come in read-only at their host paths (node_modules may be a link to another
    // checkout, as in git worktrees); /opt, where install.sh copies the application, is a scratch
    // directory on disk rather than the container's RAM-backed overlay.
    scratch = mkdtempSync(join(tmpdir(), 'percept-systemd-'));
    const binds = [
      { host: realpathSync(process.execPath), at: '/usr/local/bin/node', readOnly: true },
      { host: PACKAGE_ROOT, readOnly: true },
      { host: join(scratch, 'opt'), at: '/opt' },
    ];
    const modules = join(PACKAGE_ROOT, 'node_modules');
    if (lstatSync(modules).isSymbolicLink()) binds.push({ host: realpathSync(modules), readOnly: true });
    mkdirSync(join(scratch, 'opt'));
    broker = await startMosquitto();
    client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 500 });
    client.on('message', (topic, p) => {
      messages.push({ topic, payload: p.length ? JSON.parse(String(p)) : {}, at: Date.now() });
    });
    await client.subscribeAsync(`percept/${DEVICE}/#`, { qos: 1 });

    ct = await bootContainer(root.dir, binds);
    figures.boot = seconds(ct.bootMs);
    mkdirSync(ct.path('/srv/percept'), { recursive: true });
    copyFileSync(clip, ct.path(CLIP));

    // A stand-in for Jetson's nvargus-daemon: a socket in the container's /tmp, remade at each start.
    writeFileSync(
      ct.path('/srv/percept/fake-argus.js'),
      `const fs = require('fs'), p = '/tmp/argus_socket';
fs.rmSync(p, { force: true });
require('net').createServer((s) => s.end('argus ' + process.pid)).listen(p, () => fs.chmodSync(p, 0o666));
`,
    );
    writeFileSync(ct.path('/etc/systemd/system/nvargus-daemon.service'), '[Service]\nExecStart=/usr/local/bin/node /srv/percept/fake-argus.js\n');
    ct.sh('systemctl daemon-reload && systemctl start nvargus-daemon.service');
    await until('the stand-in camera daemon listens', () => existsSync(ct.path('/tmp/argus_socket')), 30_000);
    writeFileSync(ct.path('/tmp/not-for-the-service'), 'private');
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  console.log(`systemd figures: ${JSON.stringify(figures)}`);
  await ct?.stop();
  client?.end(true);
  await broker?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('install.sh under systemd: enabled unit, Type=notify start reaches READY, runs as a dynamic user', async () => {
  const t0 = Date.now();
  // --jetson: the camera-daemon drop-in, which /etc/nv_tegra_release would select on a real Jetson.
  ct.sh(`bash ${PACKAGE_ROOT}/systemd/install.sh --jetson`, 300_000);
  figures.install = seconds(Date.now() - t0);
  assert.equal(ct.exec(['systemctl', 'is-enabled', 'percept.service']).stdout.trim(), 'enabled');
  assert.ok(existsSync(ct.path('/etc/systemd/system/percept.service.d/jetson-camera.conf')));
  // Readable by the dynamic user: the whole tree is root's, directories 0755, files 0644 or 0755.
  const modes = ct.sh("find /opt/percept/models /opt/percept/dist -printf '%u %m %y\\n' | sort -u");
  for (const line of modes.trim().split('\n')) assert.match(line, /^root (755 d|644 f|755 f)$/, `installed tree: ${modes}`);
  writeConfig();

  const t1 = Date.now();
  // Type=notify: `systemctl start` returns once the agent said READY=1 (models loaded, broker connected).
  const start = ct.exec(['systemctl', 'start', 'percept.service'], { timeoutMs: 180_000 });
  figures.start = seconds(Date.now() - t1);
  assert.equal(start.status, 0, `${start.stderr}\n${journal()}`);
  assert.equal(ct.exec(['systemctl', 'is-active', 'percept.service']).stdout.trim(), 'active');
  const s = show('Type', 'NRestarts', 'MainPID', 'StatusText');
  assert.equal(s.Type, 'notify');
  const uid = Number(ct.sh(`stat -c %u /proc/${s.MainPID}`).trim());
  assert.ok(uid >= 61184 && uid <= 65519, `runs as a dynamic user (uid ${uid})`);
  await until('status online on the broker', () => messages.find((m) => m.topic === `percept/${DEVICE}/status` && m.payload.state === 'online'), 30_000);
  await until('an entered event from the clip', () => events().find((e) => e.type === 'entered'), 120_000, journal);
  await until('STATUS= line from the agent', () => /frames\/s/.test(show('StatusText').StatusText ?? '') || undefined, 30_000);
});

test('Jetson: the camera daemon socket reaches the service, also after the daemon restarts; its /tmp stays its own', async () => {
  const connect = `require('net').connect('/tmp/argus_socket').on('data', (d) => { process.stdout.write(String(d)); process.exit(0); }).on('error', (e) => { console.error(e.message); process.exit(2); })`;
  const first = inService(connect);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^argus \d+$/);
  const peek = inService(`const fs = require('fs'); let w = 'writable'; try { fs.writeFileSync('/run/percept/host-tmp/x', ''); } catch (e) { w = e.code; }
    process.stdout.write(JSON.stringify([fs.existsSync('/tmp/not-for-the-service'), w]))`);
  assert.deepEqual(JSON.parse(peek.stdout), [false, 'EROFS'], 'a private /tmp; the host /tmp read-only');

  const pid = show('MainPID').MainPID;
  ct.sh('systemctl restart nvargus-daemon.service');
  // The daemon replaced its socket: a bind of the socket file would now be stale; the link follows it.
  await until(
    'the restarted daemon answers in the service',
    () => {
      const r = inService(connect);
      return r.status === 0 && r.stdout !== first.stdout;
    },
    30_000,
    journal,
  );
  assert.equal(show('MainPID').MainPID, pid, 'percept did not need a restart');
});

test('systemctl reload (SIGHUP re-reads the config) and a remote patch on config/set, same process', async () => {
  const pid = show('MainPID').MainPID;
  writeConfig('detector:\n  scoreThreshold: 0.6\n');
  const r = ct.exec(['systemctl', 'reload', 'percept.service']);
  assert.equal(r.status, 0, `${r.stderr}\n${journal()}`);
  await until('the reload logged', () => /SIGHUP: reloaded \/etc\/percept\/percept\.yaml: applied detector\.scoreThreshold/.test(journal()), 30_000, journal);
  // systemd 252 has no Type=notify-reload: `systemctl reload` returns once kill did, and the agent's
  // RELOADING=1 … READY=1 follow; the unit is back to active after them.
  await until('active after the reload', () => ct.exec(['systemctl', 'is-active', 'percept.service']).stdout.trim() === 'active', 30_000, journal);

  // Remote config under the sandbox. Persisting patches (an overrides file in the state directory) is
  // not proven here: today `persist` writes back to /etc/percept, which is read-only to the service.
  await client.publishAsync(`percept/${DEVICE}/config/set`, JSON.stringify({ requestId: 'nspawn-1', detector: { scoreThreshold: 0.65 } }), {
    qos: 1,
  });
  const reply = await until(
    'config/result',
    () => messages.find((m) => m.topic === `percept/${DEVICE}/config/result` && m.payload.requestId === 'nspawn-1'),
    30_000,
    journal,
  );
  assert.equal(reply.payload.ok, true, JSON.stringify(reply.payload));
  assert.deepEqual(reply.payload.applied, ['detector.scoreThreshold']);
  assert.equal(show('MainPID').MainPID, pid);
});

test('the state directory is writable by the dynamic user and seq survives a restart', async () => {
  const state = JSON.parse(readFileSync(ct.path('/var/lib/private/percept/state.json'), 'utf8'));
  assert.ok(Number.isInteger(state.seq), JSON.stringify(state));
  const owner = statSync(ct.path('/var/lib/private/percept/state.json')).uid;
  assert.equal(owner, Number(ct.sh(`stat -c %u /proc/${show('MainPID').MainPID}`).trim()), 'written by the service user');
  const r = ct.exec(['systemctl', 'restart', 'percept.service'], { timeoutMs: 180_000 });
  assert.equal(r.status, 0, journal());
  const restarted = Date.now();
  await until(
    'an entered event from the restarted agent',
    () => messages.find((m) => m.at > restarted && m.topic.endsWith('/events/entered')),
    120_000,
    journal,
  );
  const seqs = [...new Set(events().map((e) => e.seq))].sort((a, b) => a - b);
  figures.events = `${seqs.length} (seq ${seqs[0]}..${seqs[seqs.length - 1]})`;
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => seqs[0]! + i),
    `contiguous seq across restarts: ${seqs}`,
  );
  assert.equal(seqs[0], 1, 'a fresh state directory starts at 1');
});

test('a stalled process (SIGSTOP) misses its watchdog pings and systemd restarts it', async () => {
  const s0 = show('MainPID', 'NRestarts', 'WatchdogUSec');
  assert.equal(s0.WatchdogUSec, '30s');
  const t0 = Date.now();
  ct.sh('systemctl kill --kill-who=main --signal=SIGSTOP percept.service');
  const s = await until(
    'a watchdog restart',
    () => {
      const v = show('MainPID', 'NRestarts', 'ActiveState');
      return v.ActiveState === 'active' && v.MainPID !== s0.MainPID && v.MainPID !== '0' && v;
    },
    120_000,
    journal,
  );
  figures.watchdogRestart = seconds(Date.now() - t0);
  assert.equal(Number(s.NRestarts), Number(s0.NRestarts) + 1);
  assert.match(journal(), /Watchdog timeout \(limit 30s\)!/);
  assert.match(journal(), /Failed with result 'watchdog'/);
});

test('a config error (exit 78) stays failed: no restart loop', async () => {
  ct.sh('systemctl reset-failed percept.service || true');
  writeConfig('detector:\n  scoreThreshold: 7\n');
  const r = ct.exec(['systemctl', 'restart', 'percept.service'], { timeoutMs: 60_000 });
  assert.notEqual(r.status, 0, 'start fails');
  // Absence of a restart can only be seen by waiting past RestartSec (5 s).
  await sleep(12_000);
  const s = show('ActiveState', 'Result', 'ExecMainStatus', 'NRestarts');
  assert.deepEqual(s, { ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '78', NRestarts: '0' });
  assert.match(journal(), /detector\.scoreThreshold: must be <= 1/);
});

test('a state directory held by another live agent (exit 73) stays failed: no restart loop', async () => {
  ct.sh('systemctl reset-failed percept.service || true');
  writeConfig();
  // Another process holds the directory's lock (the abstract unix socket percept binds), as a second agent
  // would; a pid in percept.lock alone no longer counts.
  const lockModule = join(PACKAGE_ROOT, 'dist/agent/lib/instance-lock.js');
  const script = `const m = await import(${JSON.stringify(lockModule)}); await m.acquireInstanceLock('/var/lib/private/percept'); setInterval(() => {}, 1e6);`;
  ct.exec(['systemd-run', '--unit=percept-lock-holder', '/usr/local/bin/node', '--input-type=module', '-e', script]);
  const other = ct.exec(['systemctl', 'show', '--property=MainPID', '--value', 'percept-lock-holder.service']).stdout.trim();
  assert.ok(Number(other) > 0);
  const lockFile = ct.path('/var/lib/private/percept/percept.lock');
  await until('the other holder has the lock', () => existsSync(lockFile) && readFileSync(lockFile, 'utf8').trim() === other, 30_000);
  const r = ct.exec(['systemctl', 'start', 'percept.service'], { timeoutMs: 60_000 });
  assert.notEqual(r.status, 0, 'start fails');
  await sleep(12_000); // past RestartSec (5 s): a restart would have happened
  const s = show('ActiveState', 'Result', 'ExecMainStatus', 'NRestarts');
  assert.deepEqual(s, { ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '73', NRestarts: '0' });
  assert.match(journal(), new RegExp(`is in use by another percept agent \\(pid ${other}\\)`));
  ct.exec(['systemctl', 'stop', 'percept-lock-holder.service']);
  rmSync(lockFile, { force: true });
});

test('a model error (exit 65) is retried, then stays failed at the start limit', async () => {
  ct.sh('systemctl reset-failed percept.service || true');
  mkdirSync(ct.path('/srv/percept/broken-model'), { recursive: true });
  writeFileSync(ct.path('/srv/percept/broken-model/model.json'), '{}');
  writeConfig('classifier:\n  models: [/srv/percept/broken-model]\n');
  ct.sh('systemctl start --no-block percept.service');
  const t0 = Date.now();
  await until('the start limit', () => /Start request repeated too quickly/.test(journal()), 180_000, journal);
  figures.modelErrorGiveUp = seconds(Date.now() - t0);
  const s = show('ActiveState', 'ExecMainStatus', 'NRestarts');
  assert.deepEqual(s, { ActiveState: 'failed', ExecMainStatus: '65', NRestarts: '5' }, 'five starts, then it stays failed');
});

test('install.sh --uninstall under systemd: disabled and removed, config kept', () => {
  const t0 = Date.now();
  ct.sh(`bash ${PACKAGE_ROOT}/systemd/install.sh --uninstall`, 300_000);
  figures.uninstall = seconds(Date.now() - t0);
  assert.ok(!existsSync(ct.path('/etc/systemd/system/percept.service')));
  assert.ok(!existsSync(ct.path('/opt/percept')));
  assert.ok(existsSync(ct.path(CONFIG)));
  const enabled = ct.exec(['systemctl', 'is-enabled', 'percept.service']);
  assert.match(enabled.stdout + enabled.stderr, /not-found|No such file/);
});
