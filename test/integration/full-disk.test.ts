// A state directory on a full disk at start (issue 20, item 3): the agent runs degraded — status says why,
// events wait in memory, writes are retried — and catches up once space returns, as when the disk fills
// while it runs; it does not exit 73, which systemd does not restart. A directory that can never work
// (read-only) is still 73. Needs root (a tiny tmpfs stands in for the disk).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { freePort } from '../helpers/mosquitto.js';
import { runPercept, startPercept } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';

const work = mkdtempSync(join(tmpdir(), 'percept-full-disk-'));
const mnt = join(work, 'disk');
const root = process.getuid?.() === 0;
const mounted: string[] = [];

function tinyDisk(): string {
  mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', mnt]);
  mounted.push(mnt);
  const state = join(mnt, 'state');
  mkdirSync(state);
  return state;
}

/** Fills the disk: writes until ENOSPC. */
function fill(): string {
  const filler = join(mnt, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(64 * 1024));
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  return filler;
}

after(() => {
  for (const m of mounted.reverse()) execFileSync('umount', ['-l', m]);
});

test(
  'a full disk at start: the agent runs degraded (status says ENOSPC), retries, and catches up when space returns',
  { skip: !root && 'needs root' },
  async () => {
    const state = tinyDisk();
    const filler = fill();
    const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
    const port = await freePort();
    const agent = startPercept(['run', '-s', clip, '--state-dir', state, '--device-id', 'kiosk'], {
      PERCEPT_MQTT_EMBEDDED_PORT: String(port),
      PERCEPT_LOG_FORMAT: 'pretty',
    });
    try {
      await agent.waitFor(/embedded MQTT broker listening/, 120_000);
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      const statuses: Record<string, unknown>[] = [];
      const check = wireValidator('percept');
      client.on('message', (topic, p) => {
        assert.deepEqual(check(topic, p), []);
        statuses.push(JSON.parse(String(p)) as Record<string, unknown>);
      });
      await client.subscribeAsync('percept/kiosk/status', { qos: 1 });
      await agent.waitFor(/degraded: .*\(ENOSPC/, 30_000);
      await waitFor(() => statuses.some((s) => typeof s.degraded === 'string' && /ENOSPC/.test(s.degraded)), 30_000, 'a degraded status', {
        detail: () => JSON.stringify(statuses),
      });
      rmSync(filler);
      await agent.waitFor(/no longer degraded/, 30_000);
      await client.endAsync();
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exited, 0, agent.stderr());
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
  },
);

test('a read-only state directory is still exit 73 (a directory that can never work)', { skip: !root && 'needs root' }, async () => {
  const state = join(mnt, 'state');
  execFileSync('mount', ['-o', 'remount,ro', mnt]);
  const clip = join(work, 'clip.avi');
  const r = await runPercept(['run', '-s', clip, '--state-dir', state, '--device-id', 'kiosk'], { PERCEPT_MQTT_EMBEDDED_PORT: String(await freePort()) });
  assert.equal(r.code, 73, r.stderr);
  assert.match(r.stderr, /state directory .* cannot be written \(EROFS\)/);
});
