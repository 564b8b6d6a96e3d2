// Bad input ends `percept run` with a clear message and a distinct exit code, before anything is written.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODELS, PACKAGE_ROOT } from '../helpers/models.js';
import { runPercept } from '../helpers/agent-process.js';
import { GRACE_HOPPER } from '../helpers/images.js';
import { aliasBombYaml } from '../helpers/hostile-yaml.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-bad-');
const imageDir = join(work, 'images');

before(() => {
  cpSync(GRACE_HOPPER, join(imageDir, 'a.jpg'));
});

function copyModel(name: keyof typeof DEFAULT_MODELS): string {
  const dir = join(work, `${name}-${Math.random().toString(36).slice(2)}`);
  cpSync(DEFAULT_MODELS[name], dir, { recursive: true, dereference: true });
  return dir;
}

async function expectFailure(args: string[], code: number, message: RegExp, env: NodeJS.ProcessEnv = {}) {
  const stateDir = join(work, `state-${Math.random().toString(36).slice(2)}`);
  const source = args.includes('--source') ? [] : ['--source', imageDir];
  const res = await runPercept(['run', ...source, '--state-dir', stateDir, '--exit-on-eof', ...args], { PERCEPT_MQTT_EMBEDDED_PORT: '0', ...env }, 60_000);
  assert.equal(res.code, code, `exit code; stderr:\n${res.stderr}`);
  assert.match(res.stderr, message);
  assert.equal(res.stdout, '', 'nothing on stdout');
  assert.ok(!existsSync(stateDir), 'nothing written to the state directory');
}

test('a missing model file', async () => {
  const dir = copyModel('detector');
  rmSync(join(dir, 'model.onnx'));
  await expectFailure([], 65, /file model\.onnx is missing/, { PERCEPT_DETECTOR_MODEL: dir });
});

test('a corrupt model file (sha256 mismatch)', async () => {
  const dir = copyModel('ageGender');
  const onnx = join(dir, 'model.onnx');
  const bytes = readFileSync(onnx);
  bytes[bytes.length - 10]! ^= 0xff;
  writeFileSync(onnx, bytes);
  await expectFailure(['--model', dir], 65, /model\.onnx has sha256 [0-9a-f]{64}, the manifest says/);
});

test('a model whose manifest names an output the graph does not have', async () => {
  const dir = copyModel('expression');
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  manifest.outputs[0].name = 'emotion_logits';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  await expectFailure(['--model', dir], 65, /output \\?"emotion_logits\\?" is not in the ONNX graph \(it has expression\)/);
});

test('a manifest with the wrong label count', async () => {
  const dir = copyModel('expression');
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  manifest.outputs[0].labels.pop();
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  await expectFailure(['--model', dir], 65, /6 labels listed, the emotion contract has 7/);
});

test('a source that cannot be opened', async () => {
  await expectFailure(['--source', join(work, 'no-such-clip.mp4')], 66, /no-such-clip\.mp4: no such file/);
});

test('a file that is not a video', async () => {
  const notVideo = join(work, 'notes.avi');
  writeFileSync(notVideo, 'this is not a video\n');
  await expectFailure(['--source', notVideo], 66, /notes\.avi: cannot be opened/);
});

test('an invalid config file: every error with its path, exit 78', async () => {
  const file = join(work, 'bad.yaml');
  writeFileSync(file, 'detector:\n  scoreThreshold: 2\n  minFacePx: small\nmqtt:\n  prefx: shop\n');
  await expectFailure(
    ['--config', file],
    78,
    /detector\.scoreThreshold: must be <= 1[\s\S]*detector\.minFacePx: must be integer[\s\S]*mqtt\.prefx: unknown key/,
  );
});

test('an invalid environment override names the key', async () => {
  await expectFailure([], 78, /tracker\.minHits: must be integer/, { PERCEPT_TRACKER_MIN_HITS: 'two' });
});

// Issue 11 items 1 and 14, issue 16 item 10: what used to exit 1 (a restart loop under systemd) is a
// config error, exit 78, naming the key.
test('values that fail at run time: time zone, opening hours, day names — exit 78 with each key', async () => {
  const file = join(work, 'schedule.yaml');
  writeFileSync(file, 'schedule:\n  timezone: Mars/Olympus\n  openingHours:\n    - {days: xyz, from: "08:00", to: "20:00"}\n');
  await expectFailure(
    ['--config', file],
    78,
    /schedule\.timezone: "Mars\/Olympus" is not an IANA time zone[\s\S]*schedule\.openingHours\.0\.days: "xyz" is not a day/,
  );
  writeFileSync(file, 'schedule:\n  openingHours:\n    - {days: daily, from: "99:99", to: "25:00"}\n');
  await expectFailure(['--config', file], 78, /openingHours\.0\.from: must be a time HH:MM from 00:00 to 24:00[\s\S]*openingHours\.0\.to: must be a time/);
});

test('--config naming a directory, and a YAML alias bomb: exit 78', async () => {
  await expectFailure(['--config', work], 78, /is a directory; name the YAML file/);
  const bomb = join(work, 'bomb.yaml');
  const text = aliasBombYaml();
  writeFileSync(bomb, text);
  await expectFailure(['--config', bomb], 78, /aliases expand too far/);
});

test('the installed config as shipped (source.uri: ""): config validate warns naming source.uri (run waits: kiosk-sources.test.ts)', async () => {
  const res = await runPercept(['config', 'validate', join(PACKAGE_ROOT, 'config/percept.yaml')], {}, 60_000);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /warning: source\.uri: no source: set source\.uri .* or pass --source \(percept run starts and waits for it\)/);
});

// A model directory that does not exist (yet) is waited for instead: kiosk-sources.test.ts.
test('a TLS file that does not exist is a config error (78), not a crash later', async () => {
  await expectFailure([], 78, /mqtt\.tls\.ca: .*no-ca\.pem does not exist/, { PERCEPT_MQTT_TLS_CA: join(work, 'no-ca.pem') });
});
