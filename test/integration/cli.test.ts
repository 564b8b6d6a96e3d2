// The installer-facing commands: config validate/print, models list/verify, help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_MODELS, PACKAGE_ROOT } from '../helpers/models.js';
import mqtt from 'mqtt';
import { runPercept } from '../helpers/agent-process.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-cli-');

test('config validate: the shipped defaults file is valid but warned about its missing source (run waits for one); with one, no warning', async () => {
  const shipped = readFileSync(join(PACKAGE_ROOT, 'config/percept.yaml'), 'utf8');
  const unedited = await runPercept(['config', 'validate', join(PACKAGE_ROOT, 'config/percept.yaml')]);
  assert.equal(unedited.code, 0, 'run starts without a source and waits for one');
  assert.match(unedited.stderr, /warning: source\.uri: no source/);
  assert.match(unedited.stdout, /valid \(1 warning\)/);
  const file = join(work, 'edited.yaml');
  writeFileSync(file, shipped.replace('uri: ""', `uri: ${work}`));
  const res = await runPercept(['config', 'validate', file]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /edited\.yaml: valid\n/);
  assert.doesNotMatch(res.stderr, /warning/);
});

test('config validate runs the run-time checks: time zone, days, times, URLs, files that must exist', async () => {
  const file = join(work, 'runtime.yaml');
  writeFileSync(
    file,
    `source:\n  uri: ${work}\nschedule:\n  timezone: Mars/Olympus\n  openingHours:\n    - {days: xyz, from: "08:00", to: "20:00"}\n` +
      `mqtt:\n  url: "broker.local:1883"\n  passwordFile: ${work}/no-such-file\n`,
  );
  const res = await runPercept(['config', 'validate', file]);
  assert.equal(res.code, 78);
  for (const key of ['schedule.timezone', 'schedule.openingHours.0.days', 'mqtt.url', 'mqtt.passwordFile'])
    assert.match(res.stderr, new RegExp(`${key.replaceAll('.', '\\.')}: `));
});

test('config validate reports every error with its path and exits 78', async () => {
  const file = join(work, 'bad.yaml');
  writeFileSync(file, 'source:\n  loop: sometimes\ninference:\n  providers: [gpu]\nlog:\n  level: loud\nextra: 1\n');
  const res = await runPercept(['config', 'validate', file]);
  assert.equal(res.code, 78);
  for (const line of [
    'source.loop: must be boolean',
    'inference.providers.0: must be one of "tensorrt", "cuda", "cpu"',
    'log.level: must be one of "error", "warn", "info", "debug"',
    'extra: unknown key',
  ]) {
    assert.ok(res.stderr.includes(line), `missing "${line}" in:\n${res.stderr}`);
  }
});

test('config validate reports YAML syntax errors with the line', async () => {
  const file = join(work, 'syntax.yaml');
  writeFileSync(file, 'mqtt:\n  url: "mqtt://x\n');
  const res = await runPercept(['config', 'validate', file]);
  assert.equal(res.code, 78);
  assert.match(res.stderr, /line \d+/);
});

test('config print shows the effective config with env overrides and the password redacted', async () => {
  const file = join(work, 'print.yaml');
  writeFileSync(file, 'mqtt:\n  url: mqtt://broker.local\n  password: hunter2\n');
  const res = await runPercept(['config', 'print', '--config', file], { PERCEPT_DETECTOR_SCORE_THRESHOLD: '0.7' });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(!res.stdout.includes('hunter2'), 'password must not be printed');
  const printed = parse(res.stdout);
  assert.equal(printed.mqtt.password, '***');
  assert.equal(printed.mqtt.url, 'mqtt://broker.local');
  assert.equal(printed.detector.scoreThreshold, 0.7);
  assert.equal(printed.tracker.minHits, 2);
  // Which layer each value comes from (issue 11): a comment on its line.
  assert.match(res.stdout, /^ {2}url: mqtt:\/\/broker\.local # file$/m);
  assert.match(res.stdout, /^ {2}scoreThreshold: 0\.7 # environment$/m);
  assert.match(res.stdout, /^ {2}minHits: 2 # default$/m);
});

test('config print: URL passwords and secret files redacted; stored remote overrides shown as their layer', async () => {
  const state = join(work, 'print-state');
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'config-overrides.json'), JSON.stringify({ detector: { maxFaces: 9 } }));
  const file = join(work, 'print-layers.yaml');
  writeFileSync(
    file,
    `source:\n  uri: rtsp://admin:camPW@cam/1\nmqtt:\n  url: mqtt://kiosk:s3cr3t@broker.local\n  passwordFile: /etc/percept/pw\nremoteConfig:\n  persist: true\nstate:\n  dir: ${state}\n`,
  );
  const res = await runPercept(['config', 'print', '--config', file]);
  assert.equal(res.code, 0, res.stderr);
  for (const secret of ['camPW', 's3cr3t', '/etc/percept/pw']) assert.ok(!res.stdout.includes(secret), `${secret} printed`);
  assert.match(res.stdout, /url: mqtt:\/\/kiosk:\*\*\*@broker\.local # file/);
  assert.match(res.stdout, /maxFaces: 9 # overrides/);
});

test('models list shows the converted models', async () => {
  const res = await runPercept(['models', 'list']);
  assert.equal(res.code, 0, res.stderr);
  for (const name of ['face-api-ssd-mobilenetv1', 'face-api-age-gender', 'face-api-face-expression']) assert.match(res.stdout, new RegExp(name));
});

test('models verify by name and by directory', async () => {
  const byName = await runPercept(['models', 'verify', 'face-api-age-gender']);
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /face-api-age-gender: OK/);
  const byDir = await runPercept(['models', 'verify', DEFAULT_MODELS.detector]);
  assert.equal(byDir.code, 0, byDir.stderr);
});

test('models verify names the problem: wrong input shape in the manifest', async () => {
  const dir = join(work, 'shape');
  cpSync(DEFAULT_MODELS.ageGender, dir, { recursive: true, dereference: true });
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  m.input.shape = ['batch', 3, 224, 224];
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  const res = await runPercept(['models', 'verify', dir]);
  assert.equal(res.code, 65);
  assert.match(res.stderr, /input "input" dimension 2 is 112 in the graph, the manifest says 224/);
});

interface Manifest {
  input: { shape: unknown[] };
  outputs: Record<string, unknown>[];
  priors: { file: string };
}

// What run would refuse, verify refuses too (each case passed verify before and then failed at run).
for (const [name, base, change, message] of [
  [
    'dynamic height and width in an attributes model',
    'ageGender',
    (m: Manifest) => {
      m.input.shape = ['batch', 3, 'h', 'w'];
    },
    /height and width must be fixed numbers for this attributes model/,
  ],
  [
    'an attributes model without an age, gender or emotion output',
    'ageGender',
    (m: Manifest) => {
      m.outputs = m.outputs.map((o) => ({ ...o, task: 'boxes', type: 'sigmoid-logits' }));
    },
    /no output gives age, gender, emotion/,
  ],
  [
    'an SSD whose priors file is missing',
    'detector',
    (m: Manifest) => {
      m.priors.file = 'gone.bin';
    },
    /priors file gone\.bin is missing/,
  ],
] as const) {
  test(`models verify refuses what run would: ${name}`, async () => {
    const dir = join(work, `run-${name.replace(/\W+/g, '-')}`);
    cpSync(DEFAULT_MODELS[base], dir, { recursive: true, dereference: true });
    const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    change(m);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
    const res = await runPercept(['models', 'verify', dir]);
    assert.equal(res.code, 65, res.stderr);
    assert.match(res.stderr, message);
  });
}

test('models verify on something that is not a model', async () => {
  const res = await runPercept(['models', 'verify', 'no-such-model']);
  assert.equal(res.code, 65);
  assert.match(res.stderr, /no such directory, and no model of that name/);
});

test('help lists the commands; an unknown command is a usage error', async () => {
  const help = await runPercept(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['run', 'demo', 'config', 'models']) assert.match(help.stdout, new RegExp(`percept ${c}`));
  const bad = await runPercept(['fly']);
  assert.equal(bad.code, 64);
});

test('--version and -V print the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const res = await runPercept([flag]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), version);
  }
});

test('misspellings get a suggestion: command and flag (exit 64), config key (refused, nothing sent)', async () => {
  const command = await runPercept(['wathc']);
  assert.equal(command.code, 64);
  assert.match(command.stderr, /Unknown command: wathc \(did you mean watch\?\)/);
  const flag = await runPercept(['run', '--sorce', 'x']);
  assert.equal(flag.code, 64);
  assert.match(flag.stderr, /Unknown argument: sorce \(did you mean --source\?\)/);
  const key = await runPercept(['config', 'set', 'detector.minFacPx=30']);
  assert.equal(key.code, 1);
  assert.match(key.stderr, /detector\.minFacPx: unknown key \(did you mean detector\.minFacePx\?\)/);
});

test('content set checks the device is online first: never seen or offline is 69 and nothing is sent', async () => {
  const broker = await startMosquitto();
  const client = await mqtt.connectAsync(broker.url);
  try {
    const sent: string[] = [];
    await client.subscribeAsync('percept/+/content/set');
    client.on('message', (topic) => sent.push(topic));
    const target = (d: string) => ['content', 'set', 'ad-1', '--mqtt-url', broker.url, '--device-id', d, '--timeout', '1', '--config', join(work, 'none.yaml')];
    writeFileSync(join(work, 'none.yaml'), '{}\n');
    const ghost = await runPercept(target('ghost'));
    assert.equal(ghost.code, 69, ghost.stderr);
    assert.match(ghost.stderr, /device "ghost" never seen on this broker/);
    await client.publishAsync('percept/down/status', JSON.stringify({ state: 'offline', reason: 'stopped' }), { retain: true, qos: 1 });
    const down = await runPercept(target('down'));
    assert.equal(down.code, 69, down.stderr);
    assert.match(down.stderr, /device "down" is offline \(stopped\)/);
    await client.publishAsync('percept/up/status', JSON.stringify({ state: 'online' }), { retain: true, qos: 1 });
    const up = await runPercept(target('up'));
    assert.equal(up.code, 0, up.stderr);
    await waitFor(() => sent.includes('percept/up/content/set'), 5000, 'the play on percept/up/content/set');
    assert.deepEqual(sent, ['percept/up/content/set']);
  } finally {
    await client.endAsync();
    await broker.stop();
  }
});

test('models use takes a model name from "models list" as well as a directory', async () => {
  const file = join(work, 'use-by-name.yaml');
  writeFileSync(file, `source:\n  uri: ${work}\n`);
  const res = await runPercept(['models', 'use', 'face-api-age-gender', '-c', file, '--state-dir', join(work, 'use-state')]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parse(readFileSync(file, 'utf8')).classifier.models, [DEFAULT_MODELS.ageGender]);
});

test('completion offers config keys after config set/get and attributes model names after models use', async () => {
  const complete = async (...words: string[]) => (await runPercept(['--get-yargs-completions', 'percept', ...words])).stdout.trim().split('\n');
  assert.deepEqual(await complete('config', 'set', 'detector.minF'), ['detector.minFacePx=']);
  assert.deepEqual(await complete('config', 'get', 'detector.minF'), ['detector.minFacePx']);
  assert.deepEqual(await complete('models', 'use', 'face-api-'), ['face-api-age-gender', 'face-api-face-expression']);
  assert.ok((await complete('con')).includes('config'), 'commands are still completed');
});
