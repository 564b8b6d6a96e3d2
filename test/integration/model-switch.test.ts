// Switching the attribute model of a running agent (issue 14): one agent on a real-time looping clip of
// two people, watched over its embedded broker. A corrupt model is refused by `percept models use` (the
// config file untouched); a bad model named by the config file and a SIGHUP is refused by the agent,
// which keeps its model and does not let {root}/config claim the new one; a valid model is switched to
// while a visit is open: seq stays contiguous, the open visit ends with its "left" (labelled by the new
// model), later events carry the new model's name, and the process never restarted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { freePort } from '../helpers/mosquitto.js';
import { runPercept, startPercept, type Running } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/wait.js';
import type { EventPayload } from '../../agent/contract/payloads.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-model-switch-');
const configFile = join(work, 'percept.yaml');
const stateDir = join(work, 'state');
const OLD = 'face-api-age-gender+face-api-face-expression';
const NEW = 'face-api-age-gender-v2';
const NEW3 = 'face-api-age-gender-v3';
let agent: Running;
let client: mqtt.MqttClient;
const retained: Record<string, Record<string, unknown>> = {};

/** A copy of a default model directory with another manifest name: a distinct, valid model. */
function copyModel(to: string, name: string): string {
  cpSync(DEFAULT_MODELS.ageGender, to, { recursive: true, dereference: true });
  const manifestPath = join(to, 'model.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string; files: { sha256: string }[] };
  manifest.name = name;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return to;
}

const events = (): EventPayload[] =>
  agent
    .stdout()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EventPayload);

// The agent exiting ends any wait at once, with its stderr in the error.
const until = <T>(get: () => T | undefined | false, ms: number, what: string): Promise<T> =>
  waitFor(get, ms, what, {
    detail: () => agent.stderr().slice(-3000),
    giveUp: () => agent.child.exitCode !== null && `the agent exited (${agent.child.exitCode})`,
    every: 100,
  });

before(async () => {
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  writeFileSync(
    configFile,
    `# the site's config: comments and other keys must survive "models use"\nsource:\n  uri: ${clip}   # looping clip\nclassifier:\n  models: []\n`,
  );
  const port = await freePort();
  agent = startPercept(['run', '-c', configFile, '--state-dir', stateDir, '--device-id', 'kiosk', '--print-events'], {
    PERCEPT_MQTT_EMBEDDED_PORT: String(port),
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  await agent.waitFor(/embedded MQTT broker listening/, 120_000);
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  client.on('message', (topic, p) => {
    if (p.length) retained[topic] = JSON.parse(String(p)) as Record<string, unknown>;
  });
  await client.subscribeAsync(['percept/kiosk/status', 'percept/kiosk/config'], { qos: 1 });
  await until(() => events().some((e) => e.type === 'entered'), 60_000, 'the first visit');
});

after(async () => {
  if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  await client?.endAsync(true);
});

test('a corrupt model is refused by "models use" (exit 65); the config file is byte-identical and the agent keeps its model', async () => {
  const corrupt = copyModel(join(work, 'corrupt'), 'corrupt');
  truncateSync(join(corrupt, 'model.onnx'), 1000);
  const before = readFileSync(configFile);
  const r = await runPercept(['models', 'use', corrupt, '-c', configFile, '--state-dir', stateDir]);
  assert.equal(r.code, 65, r.stderr);
  assert.match(r.stderr, new RegExp(`percept models use: model ${corrupt}: .*sha256.*; ${configFile} is unchanged`));
  assert.deepEqual(readFileSync(configFile), before);
  assert.doesNotMatch(agent.stderr(), /model switch/);
  assert.equal(agent.child.exitCode, null);
});

test('a bad model named by the config file and a SIGHUP: the agent refuses it, keeps running its model, {root}/config does not claim it', async () => {
  const bad = copyModel(join(work, 'bad-sha'), 'bad-sha');
  const manifest = JSON.parse(readFileSync(join(bad, 'model.json'), 'utf8')) as { files: { sha256: string }[] };
  manifest.files[0]!.sha256 = '0'.repeat(64);
  writeFileSync(join(bad, 'model.json'), JSON.stringify(manifest));
  const original = readFileSync(configFile, 'utf8');
  writeFileSync(configFile, original.replace('models: []', `models: [${bad}]`));
  const seen = events().length;
  agent.child.kill('SIGHUP');
  await agent.waitFor(new RegExp(`model switch to ${bad} refused: model ${bad}: .*sha256.*; still running ${OLD.replace('+', '\\+')}`), 60_000);
  // Written before the log line; what `percept models use` reads to report the outcome.
  const record = JSON.parse(readFileSync(join(stateDir, 'active-model.json'), 'utf8')) as { models: string[]; refused?: { models: string[] } };
  assert.deepEqual(record.models, []);
  assert.deepEqual(record.refused?.models, [bad]);
  // The retained config names the model that runs (published after the revert, so it is the last one).
  await until(() => (retained['percept/kiosk/config']?.classifier as { models: string[] } | undefined)?.models.length === 0, 10_000, 'config');
  await until(() => events().length > seen, 60_000, 'an event after the refusal');
  assert.ok(
    events()
      .slice(seen)
      .every((e) => e.model === OLD),
    'still the old model',
  );
  writeFileSync(configFile, original);
});

/** `models use` right after someone arrives, so a visit is open while the model changes. */
async function switchDuringVisit(name: string, from: string): Promise<void> {
  const fresh = copyModel(join(work, name), name);
  const pid = agent.child.pid;
  const entered = events().filter((e) => e.type === 'entered').length;
  await until(() => events().filter((e) => e.type === 'entered').length > entered, 90_000, 'a new arrival');
  const r = await runPercept(['models', 'use', fresh, '-c', configFile, '--state-dir', stateDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`the agent \\(pid ${pid}\\) switched to ${name} without a restart`));
  const text = readFileSync(configFile, 'utf8');
  assert.match(text, /^# the site's config: comments and other keys must survive "models use"\n/);
  assert.match(text, /uri: \S+ {3}# looping clip\n/);
  assert.match(text, new RegExp(`models: \\["${fresh}"\\]`));
  assert.match(agent.stderr(), new RegExp(`model switched: ${from.replace('+', '\\+')} → ${name}`));
  await until(() => retained['percept/kiosk/status']?.model === name, 10_000, 'status names the new model');
  await until(() => (retained['percept/kiosk/config']?.classifier as { models: string[] } | undefined)?.models[0] === fresh, 10_000, 'config');
  // Later arrivals are classified by the new model.
  await until(() => events().some((e) => e.type === 'entered' && e.model === name), 90_000, `an arrival classified by ${name}`);
}

// Two switches in one run (variants: from the default pair of nets to one model, then between two
// single models), each while a visit is open.
test('"models use" during a visit switches the running agent, twice: seq contiguous, no visit lost, new model named, no restart', async () => {
  await switchDuringVisit(NEW, OLD);
  await switchDuringVisit(NEW3, NEW);

  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0, agent.stderr());
  assert.equal((agent.stderr().match(/embedded MQTT broker listening/g) ?? []).length, 1, 'started once: no restart');
  const all = events();
  assert.deepEqual(
    all.map((e) => e.seq),
    all.map((_, i) => i + 1),
    'seq contiguous: no gap, no duplicate',
  );
  const entries = all.filter((e) => e.type === 'entered');
  const lefts = new Map(all.filter((e) => e.type === 'left').map((e) => [e.person, e]));
  for (const e of entries) assert.ok(lefts.has(e.person), `visit ${e.person} (entered seq ${e.seq}) has its "left"`);
  assert.equal(lefts.size, entries.length, 'one "left" per visit');
  const trace = JSON.stringify(all.map((e) => [e.seq, e.type, e.model]));
  for (const [from, to] of [
    [OLD, NEW],
    [NEW, NEW3],
  ]) {
    const spanning = entries.filter((e) => e.model === from && lefts.get(e.person)!.model === to);
    assert.ok(spanning.length >= 1, `a visit open during the switch ${from} → ${to} ended normally: ${trace}`);
    const first = all.findIndex((e) => e.model === to);
    assert.ok(
      all.slice(first).every((e) => e.model === to || (to === NEW && e.model === NEW3)),
      `every event after the switch to ${to} carries it (or a later model): ${trace}`,
    );
  }
});
