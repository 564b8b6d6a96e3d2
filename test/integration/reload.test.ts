// `percept reload` (the unit's ExecReload=): the running agent re-reads its file and says whether it took
// it — exit 0 with the keys applied, 78 when it refuses the file (and runs on unchanged, same process),
// 69 when no agent runs on the state directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { freePort } from '../helpers/mosquitto.js';
import { runPercept, startPercept, type Finished, type Running } from '../helpers/agent-process.js';
import { sleep } from '../helpers/wait.js';

const work = mkdtempSync(join(tmpdir(), 'percept-reload-'));
const configFile = join(work, 'percept.yaml');
const stateDir = join(work, 'state');
let agent: Running;

before(async () => {
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  writeFileSync(configFile, `source:\n  uri: ${clip}\ndetector:\n  scoreThreshold: 0.5\nschedule:\n  timezone: UTC\n`);
  agent = startPercept(['run', '-c', configFile, '--state-dir', stateDir, '--device-id', 'reload'], {
    PERCEPT_MQTT_EMBEDDED_PORT: String(await freePort()),
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  await agent.waitFor(/embedded MQTT broker listening/, 120_000);
});

after(async () => {
  if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
  await agent.exited;
  rmSync(work, { recursive: true, force: true });
});

/** `percept reload` once the agent's control socket (its last start step) answers. */
async function reload(): Promise<Finished> {
  const end = Date.now() + 120_000;
  for (;;) {
    const r = await runPercept(['reload', '--state-dir', stateDir, '--wait', '60']);
    if (r.code !== 69) return r;
    if (Date.now() > end) throw new Error(`no answer on the control socket: ${r.stderr}\n${agent.stderr().slice(-2000)}`);
    await sleep(500);
  }
}

test('the start-up banner names the version, config file, device, source, models, providers and broker', async () => {
  const [banner] = await agent.waitFor(/percept \S+ running: .*/, 120_000);
  assert.match(banner, new RegExp(`config ${configFile.replaceAll('/', '\\/')}; device reload; source .*clip\\.avi \\(file\\)`));
  assert.match(
    banner,
    /models yunet-n \(detector\), face-api-age-gender\+face-api-face-expression \(attributes\), face-api-face-recognition \(re-identification\) on cpu; broker mqtt:\/\/127\.0\.0\.1:\d+/,
  );
});

test('no agent on the state directory: exit 69, said so', async () => {
  const r = await runPercept(['reload', '--state-dir', join(work, 'nobody')]);
  assert.equal(r.code, 69, r.stderr);
  assert.match(r.stderr, /no agent runs on/);
});

test('an edited key: exit 0, the keys applied are named', async () => {
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('scoreThreshold: 0.5', 'scoreThreshold: 0.6'));
  const r = await reload();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /reloaded — .*percept\.yaml: applied detector\.scoreThreshold/);
});

test('a refused file: exit 78 naming the key, the agent runs on in the same process and takes the next good file', async () => {
  const good = readFileSync(configFile, 'utf8');
  writeFileSync(configFile, good.replace('timezone: UTC', 'timezone: Mars/Olympus'));
  const bad = await reload();
  assert.equal(bad.code, 78, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /refused, nothing changed: schedule\.timezone: "Mars\/Olympus" is not an IANA time zone/);
  assert.equal(agent.child.exitCode, null, 'still running');
  writeFileSync(configFile, good.replace('scoreThreshold: 0.6', 'scoreThreshold: 0.55'));
  const fixed = await reload();
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.match(fixed.stdout, /applied detector\.scoreThreshold/);
  assert.equal(agent.child.exitCode, null);
});
