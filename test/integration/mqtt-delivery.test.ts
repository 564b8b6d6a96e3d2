// Nothing lost: a broker outage of 30 s and a SIGKILLed agent, observed by a persistent-session QoS 1
// subscriber on a real mosquitto. Every payload seen on the wire is checked against its schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { assertEveryVisitLeft } from '../helpers/visit-events.js';
import { runPercept, startPercept } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-delivery-');
let clip: string;
const FAST_RECONNECT = { PERCEPT_MQTT_RECONNECT_MIN_MS: '300', PERCEPT_MQTT_RECONNECT_MAX_MS: '1500' };

before(async () => {
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
});

interface Seen {
  topic: string;
  payload: string;
}

/** A subscriber with a persistent session (clean: false, fixed client id), QoS 1. */
async function persistentSubscriber(broker: Broker, topic: string, seen: Seen[]) {
  const client = await mqtt.connectAsync(broker.url, { clientId: `sub-${Math.random().toString(36).slice(2)}`, clean: false, reconnectPeriod: 300 });
  client.on('message', (t, p) => seen.push({ topic: t, payload: String(p) }));
  await client.subscribeAsync(topic, { qos: 1 });
  return client;
}

const eventsOf = (seen: Seen[], device: string) =>
  seen.filter((m) => m.topic.startsWith(`percept/${device}/events/`)).map((m) => JSON.parse(m.payload) as { seq: number; type: string; person: string });

/** Undelivered events in a state directory's outbox (entries are named by their seq). */
function queuedEvents(stateDir: string): number {
  const dir = join(stateDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^\d+\.json$/.test(n)).length : 0;
}

/**
 * QoS 1 is at-least-once: a PUBACK lost between broker and agent may deliver one seq twice, identical.
 * So: duplicates must be identical copies, and the distinct seqs contiguous and in order.
 */
function assertContiguous(events: { seq: number }[], from = 1) {
  const bySeq = new Map<number, string>();
  const order: number[] = [];
  for (const e of events) {
    const body = JSON.stringify(e);
    const earlier = bySeq.get(e.seq);
    if (earlier !== undefined) {
      assert.equal(body, earlier, `seq ${e.seq} delivered twice with different payloads`);
      continue;
    }
    bySeq.set(e.seq, body);
    order.push(e.seq);
  }
  const sorted = [...order].sort((a, b) => a - b);
  assert.deepEqual(
    sorted,
    sorted.map((_, i) => from + i),
    `gap in ${sorted}`,
  );
  assert.deepEqual(order, sorted, 'delivered in seq order');
}

const wireProblems: string[] = [];
const validate = wireValidator('percept');
after(() => {
  assert.deepEqual(wireProblems, [], 'every payload on the wire matches its schema');
});

test('broker down while the clip plays: every event arrives, in order, no gap', async () => {
  let broker = await startMosquitto('', { persistence: true });
  const seen: Seen[] = [];
  const sub = await persistentSubscriber(broker, 'percept/#', seen);
  sub.on('message', (t, p) => wireProblems.push(...validate(t, p)));
  const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', 'outage', '--state-dir', join(work, 'outage-state')], {
    ...FAST_RECONNECT,
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  try {
    await waitFor(() => eventsOf(seen, 'outage').length >= 1, 30_000, 'a first event');
    await broker.stop();
    // The looping clip keeps making visits while the broker is away; they wait in the outbox.
    await waitFor(() => queuedEvents(join(work, 'outage-state')) >= 3, 60_000, 'three events queued in the outbox during the outage');
    broker = await startMosquitto('', { port: broker.port, dir: broker.dir, persistence: true });
    await waitFor(() => queuedEvents(join(work, 'outage-state')) === 0, 30_000, 'the outbox to drain');
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0, agent.stderr());
  await flush(sub);
  await sub.endAsync();
  await broker.stop();
  const events = eventsOf(seen, 'outage');
  assert.ok(events.length >= 4, `events: ${events.length}`);
  assertContiguous(events);
  assert.match(agent.stderr(), /unreachable \(attempt 1\); retrying in \d+ ms; events wait in the outbox/);
  // Every visit that entered also left (the last ones at SIGTERM).
  assertEveryVisitLeft(events);
});

test('agent SIGKILLed with events pending, restarted on the same state: delivered, seq continues, no duplicate', async () => {
  let broker = await startMosquitto('', { persistence: true });
  const seen: Seen[] = [];
  const sub = await persistentSubscriber(broker, 'percept/killed/#', seen);
  sub.on('message', (t, p) => wireProblems.push(...validate(t, p)));
  const state = join(work, 'killed-state');
  const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', 'killed', '--state-dir', state], FAST_RECONNECT);
  try {
    await waitFor(() => eventsOf(seen, 'killed').length >= 1, 30_000, 'a first event');
    await broker.stop();
    await waitFor(() => queuedEvents(state) >= 2, 40_000, 'events pending in the outbox');
  } finally {
    agent.child.kill('SIGKILL');
  }
  await agent.exited;
  const pendingAtKill = queuedEvents(state);
  broker = await startMosquitto('', { port: broker.port, dir: broker.dir, persistence: true });
  const res = await runPercept(
    ['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', 'killed', '--state-dir', state, '--exit-on-eof'],
    FAST_RECONNECT,
  );
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`${pendingAtKill} undelivered event\\(s\\) from an earlier run`));
  await flush(sub);
  await sub.endAsync();
  await broker.stop();
  const events = eventsOf(seen, 'killed');
  assertContiguous(events);
  assert.ok(
    new Set(events.map((e) => e.seq)).size >= pendingAtKill + 4,
    `${events.length} events: before the kill, the ${pendingAtKill} pending ones, and the new run's`,
  );
  assert.equal(queuedEvents(state), 0);
});
