// Command floods against a real agent (the demo clip, a real mosquitto, persistence on): 5,000 content/set
// as fast as the client can send, 1,000 more at 100 a second (a buggy player), and 2,000 config/set patches
// with request ids. Judged by the agent's own counters, never the wall clock: no capture deadline missed,
// the event-loop delay bounded, fsyncs a second bounded, every config/set answered exactly once, every play
// recorded or counted as merged, every event delivered (seq contiguous, every visit left), exit 0 on the
// clean stop, every payload valid on the wire.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { assertEveryVisitLeft } from '../helpers/visit-events.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-flood-');
const root = 'percept/flood';
let broker: Broker;
let agent: Running;
let client: mqtt.MqttClient;
const seen: { topic: string; payload: string }[] = [];
const validate = wireValidator('percept');

interface Stats {
  ts: string;
  frames: number;
  eventLoopDelayMs?: { p99: number; max: number };
  durable?: { writes: number; fsyncs: number };
  commands?: Record<string, { received: number; accepted: number; limited: number; merged?: number; answersDropped?: number }>;
}

const on = (t: string) => seen.filter((m) => m.topic === `${root}/${t}`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
/** Parsed once, as they arrive: window() finds them by identity. */
const stats: Stats[] = [];
const allStats = () => stats;
/** The next stats message published after now. */
async function nextStats(): Promise<Stats> {
  const n = allStats().length;
  return waitFor(() => allStats()[n], 20_000, 'a stats message');
}

/** What the counters say between two stats messages: fsyncs a second, worst event-loop delay, frames. */
function window(from: Stats, to: Stats) {
  const all = allStats();
  const inside = all.slice(all.indexOf(from) + 1, all.indexOf(to) + 1);
  const seconds = (Date.parse(to.ts) - Date.parse(from.ts)) / 1000;
  return {
    seconds,
    fsyncsPerS: (to.durable!.fsyncs - from.durable!.fsyncs) / seconds,
    maxDelayMs: Math.max(...inside.map((s) => s.eventLoopDelayMs?.max ?? Infinity)),
    delays: inside.map((s) => s.eventLoopDelayMs?.max),
    frames: to.frames - from.frames,
  };
}

function assertHealthy(w: ReturnType<typeof window>, what: string) {
  console.log(
    `${what}: ${w.seconds.toFixed(1)} s, ${w.fsyncsPerS.toFixed(1)} fsyncs/s, max event-loop delay ${w.maxDelayMs} ms (${w.delays.join(' ')}), ${w.frames} frames`,
  );
  assert.doesNotMatch(agent.stderr(), /capture process killed|did not answer within/, `${what}: no capture deadline missed`);
  // Generous: the delay is wall-clock, and this 2-core machine runs at a load of 15-20 during the tests
  // (200-400 ms seen without any flood). On main the same flood held the loop for 13 s (the capture read
  // deadline is 10 s); here it stays within a few hundred ms.
  assert.ok(w.maxDelayMs < 2000, `${what}: event-loop delay at most ${w.maxDelayMs} ms`);
  assert.ok(w.fsyncsPerS < 40, `${what}: ${w.fsyncsPerS.toFixed(1)} fsyncs a second`);
  assert.ok(w.frames > 0, `${what}: frames kept flowing (${w.frames})`);
  assert.equal(agent.child.exitCode, null, `${what}: still running`);
}

before(async () => {
  // mosquitto queues at most 1,000 QoS 1 messages per subscriber beyond the 20 in flight and drops the rest:
  // a client's burst of 5,000 would be cut by the broker before the agent sees it. Raised here, because
  // these tests are about what the agent does with every message that reaches it.
  broker = await startMosquitto('max_queued_messages 100000');
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  const configFile = join(work, 'percept.yaml');
  writeFileSync(configFile, 'mqtt:\n  statsIntervalS: 1\nremoteConfig:\n  persist: true\n');
  agent = startPercept(['run', '--config', configFile, '--source', clip, '--mqtt-url', broker.url, '--device-id', 'flood', '--state-dir', join(work, 'state')]);
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  client.on('message', (topic, p) => {
    seen.push({ topic, payload: String(p) });
    if (topic === `${root}/stats`) stats.push(JSON.parse(String(p)) as Stats);
  });
  await client.subscribeAsync(`${root}/#`, { qos: 1 });
  await waitFor(() => allStats().length >= 2, 90_000, 'the agent running, with stats');
});

after(async () => {
  if (agent?.child.exitCode === null) agent.child.kill('SIGKILL');
  await client?.endAsync();
  await broker?.stop();
});

const contentSent = { n: 0 };
const contentCount = (s: Stats) => s.commands?.['content/set'];

async function contentFlood(n: number, perSecond: number | null, what: string) {
  const from = await nextStats();
  const received0 = contentCount(from)!.received;
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    sends.push(client.publishAsync(`${root}/content/set`, JSON.stringify({ id: `${what}-${i}` }), { qos: 1 }));
    // The buggy player's pace; the first flood goes as fast as the client can.
    if (perSecond) await sleep(1000 / perSecond);
  }
  await Promise.all(sends);
  contentSent.n += n;
  await waitFor(() => (contentCount(allStats().at(-1)!)?.received ?? 0) >= received0 + n, 60_000, `${what}: all ${n} received`);
  const to = await nextStats();
  const c = contentCount(to)!;
  assert.equal(c.received - received0, n, 'every message reached the agent');
  assert.ok(c.limited - contentCount(from)!.limited > n / 2, `${what}: beyond the rate (${c.limited})`);
  assert.ok((c.merged ?? 0) > 0, `${what}: merged plays counted`);
  assertHealthy(window(from, to), what);
}

test('5,000 content/set as fast as the client sends: frames keep flowing, plays merged and counted', async () => {
  await contentFlood(5000, null, 'burst');
});

test('1,000 content/set at 100 a second (a buggy player): the same', async () => {
  await contentFlood(1000, 100, 'player');
});

test('2,000 config/set patches with request ids, persistence on: each answered exactly once, refused beyond the rate, none half-applied', async () => {
  const from = await nextStats();
  const results = () => on('config/result') as { requestId: string | null; ok: boolean; errors: { message: string }[] }[];
  const answered0 = results().length;
  const N = 2000;
  const value = (i: number) => 0.3 + (i % 50) / 100;
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      client.publishAsync(`${root}/config/set`, JSON.stringify({ requestId: `p-${i}`, detector: { scoreThreshold: value(i) } }), { qos: 1 }),
    ),
  );
  await waitFor(() => results().length >= answered0 + N, 60_000, `${N} answers`);
  const to = await nextStats();
  const answers = results().slice(answered0);
  const ids = answers.map((a) => a.requestId);
  assert.equal(new Set(ids).size, N, 'every requestId answered exactly once');
  assert.deepEqual([...ids].sort(), Array.from({ length: N }, (_, i) => `p-${i}`).sort());
  const ok = answers.filter((a) => a.ok);
  const refused = answers.filter((a) => !a.ok);
  for (const r of refused) assert.match(r.errors[0]!.message, /too many patches .*mqtt\.commandLimits\.configSet.*nothing changed/);
  const c = to.commands!['config/set']!;
  assert.equal(c.received, N);
  assert.equal(c.accepted, ok.length);
  assert.equal(c.limited, refused.length);
  assert.equal(c.answersDropped, 0);
  assert.ok(ok.length >= 1 && refused.length > N / 2, `${ok.length} applied, ${refused.length} refused`);
  // Accepted patches build on each other in order: the last one applied is what is in effect and saved.
  const last = Number(ok.at(-1)!.requestId!.slice(2));
  const effective = (on('config').at(-1) as { detector: { scoreThreshold: number } }).detector.scoreThreshold;
  assert.equal(effective, value(last));
  const overrides = JSON.parse(readFileSync(join(work, 'state', 'config-overrides.json'), 'utf8'));
  assert.equal(overrides.detector.scoreThreshold, value(last));
  assertHealthy(window(from, to), 'config/set flood');
});

test('the clean stop exits 0; every event delivered in seq order, every visit left, every play recorded or merged, every payload valid', async () => {
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
  await flush(client);
  const events = seen.filter((m) => m.topic.startsWith(`${root}/events/`)).map((m) => JSON.parse(m.payload) as { seq: number; type: string; person: string });
  const seqs = [...new Set(events.map((e) => e.seq))].sort((a, b) => a - b);
  assert.ok(seqs.length > 0, 'the clip made events');
  assert.deepEqual(
    seqs,
    Array.from({ length: seqs.length }, (_, i) => i + 1),
    'seq contiguous from 1',
  );
  const unique = [...new Map(events.map((e) => [e.seq, e])).values()];
  assertEveryVisitLeft(unique);
  // A QoS 1 duplicate is allowed on the wire: a record is one play (content id and start).
  const records = [
    ...new Map(
      (on('impressions') as { contentId: string; startedAt: string; mergedPlays?: number }[]).map((r) => [`${r.contentId}@${r.startedAt}`, r]),
    ).values(),
  ];
  const merged = records.reduce((a, r) => a + (r.mergedPlays ?? 0), 0);
  assert.equal(records.length + merged, contentSent.n, `${records.length} records + ${merged} merged = every play sent`);
  const summary = on('summary/daily').at(-1) as { plays: number; mergedPlays: number };
  assert.equal(summary.plays, records.length);
  assert.equal(summary.mergedPlays, merged);
  assert.deepEqual(
    seen.flatMap((m) => validate(m.topic, m.payload)),
    [],
  );
});
