// Stop paths and a camera that hangs in native code: the agent keeps running and answers signals.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { assertEveryVisitLeft } from '../helpers/visit-events.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-stop-');
let port = 0;
let clip = '';

before(async () => {
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  // A free UDP-ish port number: nothing ever sends to it, so the pipeline never prerolls.
  port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
});

// A live udpsrc with no sender: cv::VideoCapture::open waits on a GStreamer condition forever (checked on
// this machine: without the capture process the agent never logs a reconnect and ignores SIGINT).
const hanging = () => `gst:udpsrc port=${port} ! application/x-rtp ! rtpjpegdepay ! jpegdec ! videoconvert ! appsink`;
const env = {
  PERCEPT_MQTT_EMBEDDED_PORT: '0',
  PERCEPT_LOG_FORMAT: 'pretty',
  PERCEPT_SOURCE_OPEN_TIMEOUT_MS: '3000',
  PERCEPT_SOURCE_RECONNECT_MIN_MS: '100',
  PERCEPT_SOURCE_RECONNECT_MAX_MS: '400',
};

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`a camera that hangs in open: reconnect attempts go on and ${sig} exits 0 within seconds`, async () => {
    const agent = startPercept(['run', '--source', hanging(), '--state-dir', join(work, `hang-${sig}`)], env);
    try {
      await agent.waitFor(/waiting: .*did not answer within 3000 ms.*waiting \(next try in [\d.]+ s, attempt 2\)/, 90_000);
      assert.equal(agent.child.exitCode, null, 'still running');
    } finally {
      agent.child.kill(sig);
    }
    const t0 = Date.now();
    const code = await agent.exited;
    assert.equal(code, 0, agent.stderr());
    assert.ok(Date.now() - t0 < 10_000, `exited after ${Date.now() - t0} ms`);
    assert.match(agent.stderr(), /done: \{/);
  });
}

interface Ev {
  type: 'entered' | 'updated' | 'left';
  person: string;
  seq: number;
}

const printed = (agent: { stdout: () => string }): Ev[] =>
  agent
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Ev);

/**
 * A real broker, frozen (SIGSTOP) once the agent is connected and someone is present: the stop then waits
 * (bounded: ~5 s flush, ~3 s offline status) on publishes nobody acknowledges — long enough for a second
 * and a third signal to arrive mid-stop. Events still print locally.
 */
async function frozenBrokerAgent(name: string): Promise<{ agent: Running; broker: Broker }> {
  const broker = await startMosquitto();
  const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--state-dir', join(work, name), '--print-events'], {
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  await agent.waitFor(/connected to mqtt:/, 120_000);
  await someonePresent(agent);
  broker.pause();
  return { agent, broker };
}

/** Resolves once someone is present (entered, not left): the visits a stop must end with "left". */
async function someonePresent(agent: Running): Promise<void> {
  const present = () => {
    const ev = printed(agent);
    return ev.some((e) => e.type === 'entered' && !ev.some((l) => l.type === 'left' && l.person === e.person));
  };
  await waitFor(present, 180_000, 'someone to enter', {
    detail: () => `stderr:\n${agent.stderr()}`,
    giveUp: () => agent.child.exitCode !== null && `the agent exited (${agent.child.exitCode})`,
  });
}

function assertEveryVisitEnded(agent: Running): void {
  const ev = printed(agent);
  assert.ok(ev.some((e) => e.type === 'entered'));
  assertEveryVisitLeft(ev, 'every visit ends with "left"');
  const seqs = ev.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => seqs[0]! + i),
    'seqs contiguous',
  );
}

// A double Ctrl-C 100 ms apart (variants: the same signal twice, and SIGINT then SIGTERM as systemd
// escalation would send) while people are present: both end every visit with "left" and exit 0.
for (const [first, second] of [
  ['SIGINT', 'SIGINT'],
  ['SIGINT', 'SIGTERM'],
] as const) {
  test(`${first} then ${second} 100 ms apart with people present: every visit gets "left", exit 0, no abort`, async () => {
    const { agent, broker } = await frozenBrokerAgent(`double-${first}-${second}`);
    try {
      agent.child.kill(first);
      await sleep(100); // the scenario itself: a second signal 100 ms after the first
      agent.child.kill(second);
    } finally {
      setTimeout(() => agent.child.kill('SIGKILL'), 60_000).unref();
    }
    const code = await agent.exited;
    await broker.stop();
    assert.equal(code, 0, agent.stderr());
    assert.match(agent.stderr(), /again: still stopping/);
    assert.doesNotMatch(agent.stderr(), /forced exit|Napi|Abort/);
    assertEveryVisitEnded(agent);
  });
}

// Stopped while models load (variants: as the detector has loaded, and as the first classifier has).
for (const [sig, after] of [
  ['SIGTERM', /\[models\] yunet-n: running/],
  ['SIGINT', /\[models\] face-api-age-gender: running/],
] as const) {
  test(`${sig} during model loading exits 0 with nothing half-started`, async () => {
    const agent = startPercept(['run', '--source', clip, '--state-dir', join(work, `loading-${sig}`)], {
      PERCEPT_MQTT_EMBEDDED_PORT: '0',
      PERCEPT_LOG_FORMAT: 'pretty',
    });
    try {
      await agent.waitFor(after, 120_000);
      agent.child.kill(sig);
    } finally {
      setTimeout(() => agent.child.kill('SIGKILL'), 60_000).unref();
    }
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.doesNotMatch(agent.stderr(), /forced exit|Napi|Abort/);
  });
}

test('a third signal forces the exit (70) and says what it dropped', async () => {
  const { agent, broker } = await frozenBrokerAgent('forced');
  try {
    agent.child.kill('SIGINT');
    await agent.waitFor(/SIGINT: stopping/, 30_000);
    agent.child.kill('SIGTERM');
    await agent.waitFor(/SIGTERM again: still stopping/, 30_000);
    agent.child.kill('SIGINT');
  } finally {
    setTimeout(() => agent.child.kill('SIGKILL'), 60_000).unref();
  }
  const code = await agent.exited;
  await broker.stop();
  assert.equal(code, 70, agent.stderr());
  assert.match(agent.stderr(), /forced exit \(SIGINT a third time\): \d+ open visit\(s\) without "left", \d+ event\(s\) left in the outbox for the next start/);
});
