// A model switch to a file that cannot be read in bounded time (issue 20, item 7): a 20 GB (sparse) model
// file and a FIFO that never delivers. Both are refused before any byte is read (a size no model file can
// have; not a regular file), the agent keeps its model, and a SIGTERM during such a switch stops it
// cleanly (exit 0), never a forced exit or a process that cannot exit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { freePort } from '../helpers/mosquitto.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-switch-stop-');
const configFile = join(work, 'percept.yaml');
let agent: Running;
let base = '';

/** A copy of the age/gender model whose model file is replaced by `make(path)`, its size not declared. */
function hostileModel(name: string, make: (path: string) => void): string {
  const dir = join(work, name);
  cpSync(DEFAULT_MODELS.ageGender, dir, { recursive: true, dereference: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { model: string; files: { bytes?: number }[] };
  // No declared size: only the bound every model file has (2 GiB) stands between the agent and the read.
  for (const f of manifest.files) delete f.bytes;
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  rmSync(join(dir, manifest.model));
  make(join(dir, manifest.model));
  return dir;
}

function switchTo(dir: string): void {
  writeFileSync(configFile, base.replace('models: []', `models: [${dir}]`));
  agent.child.kill('SIGHUP');
}

before(async () => {
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  base = `source:\n  uri: ${clip}\nclassifier:\n  models: []\n`;
  writeFileSync(configFile, base);
  agent = startPercept(['run', '-c', configFile, '--state-dir', join(work, 'state'), '--device-id', 'kiosk', '--print-events'], {
    PERCEPT_MQTT_EMBEDDED_PORT: String(await freePort()),
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  await agent.waitFor(/embedded MQTT broker listening/, 120_000);
  // A first event: every feature (the config reload among them) has started.
  await waitFor(() => agent.stdout().includes('"type":"entered"'), 60_000, 'a first event (the agent finished starting)', {
    detail: () => agent.stderr(),
    giveUp: () => agent.child.exitCode !== null && `the agent exited (${agent.child.exitCode})`,
  });
});

after(() => {
  if (agent?.child.exitCode === null) agent.child.kill('SIGKILL');
});

test('a 20 GB model file is refused by its size before it is read; the agent keeps its model', async () => {
  const dir = hostileModel('huge', (p) => {
    writeFileSync(p, '');
    truncateSync(p, 20 * 1024 ** 3);
  });
  switchTo(dir);
  await agent.waitFor(new RegExp(`model switch to ${dir} refused: .*is 21474836480 bytes, more than the \\d+ a model file can be`), 60_000);
  assert.equal(agent.child.exitCode, null);
});

test('a FIFO model file is refused without blocking; SIGTERM during that switch stops cleanly (exit 0)', async () => {
  const dir = hostileModel('fifo', (p) => execFileSync('mkfifo', [p]));
  switchTo(dir);
  await agent.waitFor(new RegExp(`model switch: opening and verifying ${dir}`), 30_000);
  agent.child.kill('SIGTERM');
  const code = await agent.exited;
  assert.equal(code, 0, agent.stderr());
  assert.match(agent.stderr(), new RegExp(`model switch to ${dir} refused: .*is a FIFO, not a regular file: refused`));
  assert.doesNotMatch(agent.stderr(), /forced exit/);
});
