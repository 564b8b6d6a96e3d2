// percept doctor on this machine, as an installer runs it: real OpenCV, real onnxruntime sessions per
// provider, the real models, a real mosquitto. This machine has no GPU and no camera: those lines must say
// why, and count against the exit code only when the configuration asks for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPercept } from '../helpers/agent-process.js';
import { freePort, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-doctor-');
const clip = join(work, 'clip.mp4');
writeFileSync(clip, 'doctor only checks that the file is there and readable');

const noGpu = !existsSync('/proc/driver/nvidia/version');
const noCamera = !readdirSync('/dev').some((d) => /^video\d+$/.test(d));

interface Line {
  id: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

function config(name: string, yaml: string): string {
  const file = join(work, name);
  writeFileSync(file, yaml);
  return file;
}

test('a config asking for cpu and a file: exit 0; no GPU and no camera are named but not counted; --json has every check', async () => {
  const broker = await startMosquitto();
  try {
    const state = join(work, 'state');
    mkdirSync(state);
    const file = config('cpu.yaml', `source:\n  uri: ${clip}\nstate:\n  dir: ${state}\nmqtt:\n  url: ${broker.url}\ninference:\n  providers: [cpu]\n`);
    const res = await runPercept(['doctor', '-c', file, '--json']);
    const out = JSON.parse(res.stdout) as { exitCode: number; config: string; checks: Line[] };
    const by = new Map(out.checks.map((l) => [l.id, l]));
    const ids = [
      ...['config', 'os', 'arch', 'jetson', 'node', 'opencv', 'source', 'cameras'],
      ...['provider.cpu', 'provider.cuda', 'provider.tensorrt', 'provider.webgpu'],
      ...['model.detector', 'model.classifier.0', 'model.classifier.1', 'model.embedder', 'state', 'broker', 'clock', 'service'],
    ];
    assert.deepEqual(
      out.checks.map((l) => l.id),
      ids,
    );
    const failed = out.checks.filter((l) => l.status === 'fail');
    assert.deepEqual(failed, [], 'nothing this configuration asks for fails');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.exitCode, 0);
    assert.equal(out.config, file);
    for (const l of out.checks) if (l.status === 'warn' || l.status === 'fail') assert.ok(l.fix, `${l.id} has a fix`);
    for (const id of ['opencv', 'source', 'provider.cpu', 'model.detector', 'model.classifier.0', 'model.classifier.1', 'state', 'broker'])
      assert.equal(by.get(id)?.status, 'ok', `${id}: ${by.get(id)?.detail}`);
    assert.match(by.get('opencv')!.detail, /FFmpeg yes/);
    assert.match(by.get('broker')!.detail, /accepts this device/);
    assert.match(by.get('model.detector')!.detail, /sha256/);
    if (noGpu) {
      // Why, in its own words (the loader's missing library, the missing driver), and not counted: not asked for.
      const cuda = by.get('provider.cuda')!;
      assert.equal(cuda.status, 'warn');
      assert.match(cuda.detail, /does not load: .*(libonnxruntime_providers|NVIDIA driver).*not needed/);
    }
    if (noCamera) {
      assert.equal(by.get('cameras')!.status, 'warn');
      assert.match(by.get('cameras')!.detail, /no camera .*not needed: the source is a file/);
    }
  } finally {
    await broker.stop();
  }
});

test('asking for cuda, a broker that is down and a state directory that cannot exist: each fails with its reason, exit 1', async () => {
  const port = await freePort();
  const notADir = join(work, 'a-file');
  writeFileSync(notADir, '');
  const file = config(
    'cuda.yaml',
    `source:\n  uri: ${clip}\nstate:\n  dir: ${notADir}/state\nmqtt:\n  url: mqtt://127.0.0.1:${port}\ninference:\n  providers: [cuda, cpu]\n`,
  );
  const res = await runPercept(['doctor', '-c', file]);
  assert.equal(res.code, 1, res.stdout + res.stderr);
  const row = (label: string) => {
    const m = new RegExp(`^${label}\\s+(ok|warn|fail|skip)\\s+(.*)\\n(?:\\s+fix: (.*))?`, 'm').exec(res.stdout);
    assert.ok(m, `no ${label} row in:\n${res.stdout}`);
    return { status: m[1], detail: m[2]!, fix: m[3] ?? '' };
  };
  if (noGpu) {
    const cuda = row('provider cuda');
    assert.equal(cuda.status, 'fail');
    assert.match(cuda.detail, /does not load: .*(libonnxruntime_providers|NVIDIA driver).*inference\.providers #1/);
    assert.match(cuda.fix, /or remove cuda from inference\.providers/);
  }
  assert.equal(row('provider cpu').status, 'ok');
  const broker = row('broker');
  assert.equal(broker.status, 'fail');
  assert.match(broker.detail, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  assert.match(broker.fix, /nothing listens/);
  const state = row('state');
  assert.equal(state.status, 'fail');
  assert.match(state.detail, /a-file\/state.*ENOTDIR/);
  assert.match(res.stdout, /3 fail, \d+ skip: 3 things the configuration asks for do not work \(exit 1\)\n$/);
});
