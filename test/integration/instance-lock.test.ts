// Who holds the state directory, and who gets signalled (issue 20, items 2 and 6). One agent on a looping
// clip. A leftover percept.lock naming a live program whose command line says "percept" (a
// `mosquitto_sub -t percept/+/impressions`, as after a power loss and a reboot) does not stop the agent,
// and `percept models use` reaches the real agent over its control socket: the program is never
// signalled. A second agent on the same directory stops with 73 before opening any model. SIGUSR1 does
// not open Node's inspector; SIGUSR2 does not kill the agent; SIGTERM still stops it cleanly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { freePort } from '../helpers/mosquitto.js';
import { runPercept, startPercept, type Running } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-instance-lock-');
const configFile = join(work, 'percept.yaml');
const stateDir = join(work, 'state');
let agent: Running;
let bystander: ChildProcess;
let inspectPort: number;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves with the connect error code ('ECONNREFUSED' when nothing listens), or 'connected'. */
const probe = (port: number) =>
  new Promise<string>((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => res(err.code ?? err.message));
  });

before(async () => {
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  writeFileSync(configFile, `source:\n  uri: ${clip}\nclassifier:\n  models: []\n`);
  // A program whose command line matches /node|percept/ holds the pid the stale lock names.
  bystander = spawn('bash', ['-c', 'exec -a "mosquitto_sub -t percept/+/impressions" sleep 600'], { stdio: 'ignore' });
  await new Promise((r) => bystander.once('spawn', r));
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'percept.lock'), `${bystander.pid}\n`);
  inspectPort = await freePort();
  agent = startPercept(['run', '-c', configFile, '--state-dir', stateDir, '--device-id', 'kiosk'], {
    PERCEPT_MQTT_EMBEDDED_PORT: String(await freePort()),
    PERCEPT_LOG_FORMAT: 'pretty',
    // Where the inspector would listen if SIGUSR1 opened it (its default, 9229, may be another test's).
    NODE_OPTIONS: `--inspect-port=127.0.0.1:${inspectPort}`,
  });
  await agent.waitFor(/embedded MQTT broker listening/, 120_000);
});

after(() => {
  if (agent?.child.exitCode === null) agent.child.kill('SIGKILL');
  bystander?.kill('SIGKILL');
});

test('a stale lock naming a live "mosquitto_sub -t percept/+/impressions" does not stop the agent', () => {
  assert.equal(agent.child.exitCode, null);
  assert.match(agent.stderr(), new RegExp(`percept.lock named pid ${bystander.pid}, which no longer holds the lock; ignored`));
  assert.equal(readFileSync(join(stateDir, 'percept.lock'), 'utf8'), `${agent.child.pid}\n`);
});

test('a second agent on the same state directory exits 73 naming the holder, before opening any model', async () => {
  const r = await runPercept(['run', '-c', configFile, '--state-dir', stateDir, '--device-id', 'other'], {
    PERCEPT_MQTT_EMBEDDED_PORT: String(await freePort()),
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  assert.equal(r.code, 73, r.stderr);
  assert.match(r.stderr, new RegExp(`in use by another percept agent \\(pid ${agent.child.pid}\\); give each agent its own --state-dir`));
  assert.doesNotMatch(r.stderr, /running on cpu/, 'no model was opened');
});

test('"models use" reloads the real agent over its control socket; the process the stale lock named is not signalled', async () => {
  const model = join(work, 'age-gender-v2');
  cpSync(DEFAULT_MODELS.ageGender, model, { recursive: true, dereference: true });
  const manifest = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { name: string };
  manifest.name = 'face-api-age-gender-v2';
  writeFileSync(join(model, 'model.json'), JSON.stringify(manifest));
  writeFileSync(join(stateDir, 'percept.lock'), `${bystander.pid}\n`); // as if someone wrote it again
  const r = await runPercept(['models', 'use', model, '-c', configFile, '--state-dir', stateDir, '--wait', '60']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`the agent \\(pid ${agent.child.pid}\\) switched to face-api-age-gender-v2 without a restart`));
  assert.match(agent.stderr(), /model switched: .* → face-api-age-gender-v2/);
  assert.equal(bystander.exitCode, null);
  assert.ok(alive(bystander.pid!), 'the bystander is still alive');
});

test('SIGUSR1 does not open the inspector; SIGUSR2 does not kill the agent; SIGTERM stops it cleanly', async () => {
  agent.child.kill('SIGUSR1');
  await agent.waitFor(/SIGUSR1 ignored/, 10_000);
  assert.equal(await probe(inspectPort), 'ECONNREFUSED', 'nothing listens where the inspector would');
  agent.child.kill('SIGUSR2');
  await agent.waitFor(/SIGUSR2 ignored/, 10_000);
  assert.equal(agent.child.exitCode, null);
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0, agent.stderr());
  assert.doesNotMatch(agent.stderr(), /Debugger listening/);
  assert.match(agent.stderr(), /SIGTERM: stopping/);
});
