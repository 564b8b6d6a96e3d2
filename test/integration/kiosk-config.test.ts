// Tuning that survives, against a real agent and a real mosquitto, restarted on the same state directory:
// `config set` saves by default and says so (the value is back after a restart), `--no-save` lasts until
// the restart; `config apply FILE` shows the diff and applies whole, or refuses whole (a bad value, a
// local-only key); `config diff` tells a value from a flag apart; stored overrides from a newer release
// are kept aside, reported in status, and not overwritten by the next patch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { runPercept, startPercept, type Running } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-kiosk-cfg-');
const validate = wireValidator('percept');
const device = 'tuned';
const stateDir = join(work, 'state');
let broker: Broker;
let client: mqtt.MqttClient;
let clip: string;
let agent: Running | null = null;
const seen: { topic: string; payload: string }[] = [];
const sets: Record<string, unknown>[] = [];

const target = () => ['--mqtt-url', broker.url, '--device-id', device, '--config', join(work, 'empty.yaml')];
const statuses = () => seen.filter((m) => m.topic === `percept/${device}/status`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

/** Starts the agent and waits for its retained config (it then listens on config/set). */
async function startAgent(): Promise<void> {
  const before = seen.filter((m) => m.topic === `percept/${device}/config`).length;
  agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', device, '--state-dir', stateDir]);
  await waitFor(
    () => (seen.filter((m) => m.topic === `percept/${device}/config`).length > before ? true : undefined),
    120_000,
    'the agent to publish its config',
  );
}

async function stopAgent(): Promise<void> {
  agent!.child.kill('SIGTERM');
  assert.equal(await agent!.exited, 0);
  agent = null;
}

async function get(key: string): Promise<string> {
  const r = await runPercept(['config', 'get', key, ...target()]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

before(async () => {
  broker = await startMosquitto();
  writeFileSync(join(work, 'empty.yaml'), '{}\n');
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  client.on('message', (topic, p) => {
    seen.push({ topic, payload: String(p) });
    if (topic.endsWith('/config/set')) sets.push(JSON.parse(String(p)) as Record<string, unknown>);
  });
  await client.subscribeAsync('percept/#', { qos: 1 });
  await startAgent();
});

after(async () => {
  if (agent?.child.exitCode === null) agent.child.kill('SIGKILL');
  await client?.endAsync();
  await broker?.stop();
  assert.deepEqual(
    seen.flatMap((m) => validate(m.topic, m.payload)),
    [],
    'every message on the wire matches its schema',
  );
  rmSync(work, { recursive: true, force: true });
});

test('config set saves by default and says so; --no-save lasts until the restart', async () => {
  const saved = await runPercept(['config', 'set', 'mqtt.statsIntervalS=10', 'detector.minFacePx=26', ...target()]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout, /saved: kept across restarts/);
  assert.equal(sets.at(-1)!.save, true);
  const result = seen.filter((m) => m.topic === `percept/${device}/config/result`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  assert.equal(result.at(-1)!.saved, true);
  const unsaved = await runPercept(['config', 'set', '--no-save', 'classifier.minSharpness=17', ...target()]);
  assert.equal(unsaved.code, 0, unsaved.stderr);
  assert.match(unsaved.stdout, /not saved: lasts until the next restart/);
  assert.equal(await get('classifier.minSharpness'), '17');
  // A later saved patch must not carry the unsaved one to disk.
  assert.equal((await runPercept(['config', 'set', 'audience.minGlanceMs=400', ...target()])).code, 0);

  await stopAgent();
  await startAgent();
  assert.equal(await get('mqtt.statsIntervalS'), '10');
  assert.equal(await get('detector.minFacePx'), '26');
  assert.equal(await get('audience.minGlanceMs'), '400');
  assert.notEqual(await get('classifier.minSharpness'), '17', '--no-save is gone after the restart');
});

test('config diff tells a value set by a flag on the device apart from what the file would change', async () => {
  const file = join(work, 'site-diff.yaml');
  writeFileSync(file, `detector:\n  minFacePx: 30\nmqtt:\n  url: mqtt://other.example:1883\n`);
  const diff = await runPercept(['config', 'diff', file, ...target()]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /detector\.minFacePx: 26 → 30\n/);
  assert.match(diff.stdout, /mqtt\.url: .* → "mqtt:\/\/other\.example:1883" {3}\(device value from a command-line flag: the file does not change it\)/);
});

test('config apply: refused whole on one bad value, and on one local-only key; applied whole otherwise', async () => {
  const bad = join(work, 'site-bad.yaml');
  writeFileSync(bad, 'detector:\n  minFacePx: 31\nclassifier:\n  minSharpness: -4\n');
  await flush(client);
  let before = sets.length;
  const badRun = await runPercept(['config', 'apply', bad, ...target()]);
  assert.equal(badRun.code, 78, badRun.stdout + badRun.stderr);
  assert.match(badRun.stderr, /classifier\.minSharpness/);
  await flush(client);
  assert.equal(sets.length, before, 'nothing sent for a file that does not validate');

  const local = join(work, 'site-local.yaml');
  writeFileSync(local, `detector:\n  minFacePx: 31\nsource:\n  uri: /dev/video7\n`);
  before = sets.length;
  const localRun = await runPercept(['config', 'apply', local, ...target()]);
  assert.equal(localRun.code, 1, localRun.stdout + localRun.stderr);
  assert.match(localRun.stderr, /refused, nothing changed[\s\S]*source\.uri: local-only/);
  await flush(client);
  assert.ok(
    sets.slice(before).every((s) => s.dryRun === true),
    'only a dry run was sent',
  );
  assert.equal(await get('detector.minFacePx'), '26', 'the allowed key was not applied either');

  const good = join(work, 'site-good.yaml');
  writeFileSync(good, `detector:\n  minFacePx: 31\naudience:\n  minGlanceMs: 500\nsource:\n  uri: ${clip}\n`);
  const goodRun = await runPercept(['config', 'apply', good, ...target()]);
  assert.equal(goodRun.code, 0, goodRun.stdout + goodRun.stderr);
  assert.match(goodRun.stdout, /detector\.minFacePx: 26 → 31[\s\S]*audience\.minGlanceMs: 400 → 500/);
  assert.doesNotMatch(goodRun.stdout, /source\.uri/, 'a key the file sets to the device value is no change');
  assert.match(goodRun.stdout, /saved/);
  const applied = sets.at(-1)!;
  assert.deepEqual(applied.detector, { minFacePx: 31 });
  assert.deepEqual(applied.audience, { minGlanceMs: 500 });
  assert.equal(await get('detector.minFacePx'), '31');
  assert.equal(await get('audience.minGlanceMs'), '500');
});

test('overrides from a newer release: kept aside, said in the log and status, not overwritten by the next patch', async () => {
  await stopAgent();
  const file = join(stateDir, 'config-overrides.json');
  const newer = `${JSON.stringify({ version: 99, detector: { minFacePx: 44 }, renamedInFuture: { x: 1 } }, null, 2)}\n`;
  writeFileSync(file, newer);
  await startAgent();
  await agent!.waitFor(/stored config overrides refused \(version: written by a newer percept .*kept as .*config-overrides\.json\.rejected-/);
  const status = await waitFor(
    () => [...statuses()].reverse().find((s) => s.state === 'online' && s.overridesRejected),
    30_000,
    'status naming the refused overrides',
  );
  assert.match(String(status.overridesRejected), /newer percept/);
  const aside = readdirSync(stateDir).filter((f) => f.startsWith('config-overrides.json.rejected-'));
  assert.equal(aside.length, 1);
  assert.equal(readFileSync(join(stateDir, aside[0]!), 'utf8'), newer, 'kept byte for byte');
  assert.equal(existsSync(file), false);

  const set = await runPercept(['config', 'set', 'detector.minFacePx=27', ...target()]);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { version: 1, detector: { minFacePx: 27 } });
  assert.equal(readFileSync(join(stateDir, aside[0]!), 'utf8'), newer, 'the newer file is still there, untouched');
  await stopAgent();
});
