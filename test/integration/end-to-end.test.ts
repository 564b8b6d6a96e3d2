// percept run on a clip made at test time from real photos, against a real mosquitto, observed by a real
// MQTT subscriber: the events a signage player would see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip, type ClipPerson } from '../helpers/clips.js';
import { CONTRACT_LABELS } from '../../agent/contract/labels.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { runPercept } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/temp.js';

interface Received {
  topic: string;
  payload: Record<string, unknown>;
  retain: boolean;
  at: number;
}

let broker: Broker;
let clip: string;
let people: ClipPerson[];
const work = tempDir('percept-e2e-');

before(async () => {
  broker = await startMosquitto();
  const made = makeClip(await loadOpenCV(), join(work, 'clip.avi'));
  clip = made.path;
  people = made.people;
});

after(async () => {
  await broker?.stop();
});

async function subscribe(protocolVersion: 4 | 5, topic: string): Promise<{ client: mqtt.MqttClient; messages: Received[] }> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion, clean: true, reconnectPeriod: 0 });
  const messages: Received[] = [];
  client.on('message', (t, p, packet) => {
    messages.push({ topic: t, payload: JSON.parse(String(p)), retain: packet.retain, at: Date.now() });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, messages };
}

async function runOnce(device: string, stateDir: string, protocolVersion: 4 | 5) {
  const sub = await subscribe(protocolVersion, `percept/${device}/#`);
  const res = await runPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', device, '--state-dir', stateDir, '--exit-on-eof'], {
    PERCEPT_MQTT_PROTOCOL_VERSION: String(protocolVersion),
  });
  await flush(sub.client);
  await sub.client.endAsync();
  assert.equal(res.code, 0, `percept exited ${res.code}:\n${res.stderr}`);
  return { messages: sub.messages, res };
}

function checkVisits(events: Record<string, unknown>[]) {
  const byPerson = new Map<string, Record<string, unknown>[]>();
  for (const e of events) byPerson.set(e.person as string, [...(byPerson.get(e.person as string) ?? []), e]);
  assert.equal(
    byPerson.size,
    people.length,
    `expected ${people.length} visits, got ${byPerson.size}: ${JSON.stringify(events.map((e) => [e.type, e.person]))}`,
  );
  const visits = [...byPerson.values()].map((evs) => {
    assert.deepEqual(
      evs.map((e) => e.type),
      ['entered', 'left'],
      'each visit is one entered then one left',
    );
    return evs;
  });
  // First to enter is Grace Hopper (from the left), then Messi (from the right).
  visits.sort((a, b) => Date.parse(a[0]!.firstSeen as string) - Date.parse(b[0]!.firstSeen as string));
  visits.forEach((evs, i) => {
    const expected = people[i]!.expected;
    for (const e of evs) {
      const gender = e.gender as { label: string };
      const age = e.age as { label: string; probs: Record<string, number> };
      const emotion = e.emotion as { label: string };
      assert.equal(gender.label, expected.gender, `${people[i]!.name} ${e.type}: gender`);
      assert.ok(expected.ageGroups.includes(age.label), `${people[i]!.name} ${e.type}: age ${age.label} not in ${expected.ageGroups}`);
      assert.ok(CONTRACT_LABELS.emotion.includes(emotion.label));
      assert.deepEqual(Object.keys(age.probs), CONTRACT_LABELS.age);
      assert.ok((e.samples as number) >= 1);
    }
    const left = evs[1]!;
    assert.ok((left.dwellMs as number) >= 3000, `${people[i]!.name} dwell ${left.dwellMs} ms`);
  });
}

test('one entered and one left per person, contiguous seq, status online then offline (MQTT 3.1.1)', async () => {
  const stateDir = join(work, 'state');
  const { messages } = await runOnce('e2e', stateDir, 4);
  const status = messages.filter((m) => m.topic === 'percept/e2e/status').map((m) => m.payload);
  assert.equal(status[0]?.state, 'online');
  assert.equal(status[0]?.model, 'face-api-age-gender+face-api-face-expression');
  const { ts, ...offline } = status[status.length - 1] as Record<string, unknown>;
  assert.deepEqual(offline, { schema: 1, device: 'e2e', state: 'offline', reason: 'shutdown' });
  assert.equal(status[0]?.camera, 'ok', 'a file source is a camera that is ok');
  assert.equal(typeof ts, 'string');

  const events = messages.filter((m) => m.topic.startsWith('percept/e2e/events/')).map((m) => m.payload);
  for (const e of events) assert.equal(`percept/e2e/events/${e.type}`, messages.find((m) => m.payload === e)!.topic);
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    'seq starts at 1 and rises by exactly 1',
  );
  checkVisits(events);
  for (const e of events) {
    assert.equal(e.schema, 1);
    assert.equal(e.device, 'e2e');
    assert.match(e.ts as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const box = e.box as Record<string, number>;
    for (const k of ['x', 'y', 'w', 'h']) assert.ok(box[k]! >= 0 && box[k]! <= 1, `box.${k} in 0..1`);
  }

  // The retained audience snapshot follows the visits: on change, at most once a second, nobody at the end.
  const audience = messages.filter((m) => m.topic === 'percept/e2e/audience');
  assert.ok(audience.length >= 3, `audience snapshots: ${audience.length}`);
  // (The last one, at stop, is never held back by the limit; arrival times carry the broker's jitter.)
  for (let i = 1; i < audience.length - 1; i++)
    assert.ok(audience[i]!.at - audience[i - 1]!.at >= 800, `at most once a second: ${audience.map((m) => m.at - audience[0]!.at)}`);
  assert.ok(
    audience.some((m) => m.payload.count === 2),
    'both people present at once',
  );
  const last = audience[audience.length - 1]!.payload;
  assert.equal(last.count, 0);
  assert.deepEqual(Object.values((last.histograms as { gender: Record<string, number> }).gender), [0, 0]);
  const both = audience.find((m) => m.payload.count === 2)!.payload;
  assert.deepEqual((both.histograms as Record<string, Record<string, number>>).gender, { male: 1, female: 1 });

  // The retained status a late subscriber reads is the clean-shutdown one.
  const late = await subscribe(4, 'percept/e2e/status');
  await flush(late.client);
  await late.client.endAsync();
  assert.deepEqual(
    late.messages.map((m) => [m.payload, m.retain]),
    [[{ schema: 1, device: 'e2e', ts, state: 'offline', reason: 'shutdown' }, true]],
  );
  assert.equal(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).seq, 4);
});

test('seq survives a restart on the same state directory (MQTT 5)', async () => {
  const stateDir = join(work, 'state');
  assert.ok(existsSync(join(stateDir, 'state.json')), 'runs after the first test');
  const { messages } = await runOnce('e2e', stateDir, 5);
  const events = messages.filter((m) => m.topic.startsWith('percept/e2e/events/')).map((m) => m.payload);
  assert.deepEqual(
    events.map((e) => e.seq),
    [5, 6, 7, 8],
  );
  checkVisits(events);
});
