// Audience measurement end to end (issue 12): `percept run` on clips made at test time, a real mosquitto,
// real YuNet + classifiers, a real subscriber — proof of play, static faces, far faces, the nearest
// person's direction and attention, as a signage player or a robot would see them on the wire.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV, type CV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { GRACE, SAMPLE_PORTRAITS, makeSceneClip, ramp, type Actor, type Path } from '../helpers/scene-clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';

type Json = Record<string, any>;
interface Received { topic: string; payload: Json; retain: boolean }

let broker: Broker;
let cv: CV;
const work = mkdtempSync(join(tmpdir(), 'percept-audience-'));
const validate = wireValidator('percept');

before(async () => { broker = await startMosquitto(); cv = await loadOpenCV(); });
after(async () => { await broker?.stop(); });

/** One agent on one clip, observed by a subscriber that validates every message it sees. */
class Session {
  messages: Received[] = [];
  problems: string[] = [];
  agent!: Running;
  client!: mqtt.MqttClient;
  stateDir: string;
  private waiters: (() => void)[] = [];
  constructor(readonly device: string) { this.stateDir = join(work, `state-${device}`); }

  async start(clip: string, env: NodeJS.ProcessEnv = {}, before?: (c: mqtt.MqttClient) => Promise<void>) {
    this.client = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
    this.client.on('message', (topic, p, packet) => {
      const text = String(p);
      for (const problem of validate(topic, p)) this.problems.push(`${topic}: ${problem}`);
      if (text === '') return;
      this.messages.push({ topic, payload: JSON.parse(text), retain: packet.retain });
      for (const w of this.waiters.splice(0)) w();
    });
    await this.client.subscribeAsync(`percept/${this.device}/#`, { qos: 1 });
    await before?.(this.client);
    this.agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', this.device, '--state-dir', this.stateDir],
      { PERCEPT_SOURCE_LOOP: 'false', PERCEPT_MQTT_STATS_INTERVAL_S: '1', ...env });
  }

  on(path: string) { return this.messages.filter((m) => m.topic === `percept/${this.device}/${path}`).map((m) => m.payload); }

  /** The first message on `path` (after `after` earlier ones matched) that satisfies `pred`. */
  async waitFor(path: string, pred: (p: Json) => boolean = () => true, timeoutMs = 90_000): Promise<Json> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.on(path).find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${path}; stderr:\n${this.agent.stderr().slice(-3000)}`);
      if (this.agent.child.exitCode !== null) throw new Error(`agent exited before ${path}:\n${this.agent.stderr().slice(-3000)}`);
      await new Promise<void>((r) => { const t = setTimeout(r, 1000); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  async contentSet(id: string | null, retain = false) {
    await this.client.publishAsync(`percept/${this.device}/content/set`, JSON.stringify({ id }), { qos: 1, retain });
  }

  /** Waits for the agent to end (the clip ends), then for everything it sent. */
  async finish(): Promise<number | null> {
    const code = await Promise.race([this.agent.exited, new Promise<null>((_, rej) => setTimeout(() => rej(new Error(`agent did not exit:\n${this.agent.stderr().slice(-3000)}`)), 120_000))]);
    await flush(this.client);
    await this.client.endAsync();
    assert.deepEqual(this.problems, [], 'every message on the wire matches its schema');
    return code;
  }

  async stop(): Promise<void> {
    if (this.agent.child.exitCode === null) { this.agent.child.kill('SIGTERM'); await this.agent.exited; }
    await flush(this.client).catch(() => {});
    await this.client.endAsync();
    assert.deepEqual(this.problems, [], 'every message on the wire matches its schema');
  }
}

const W = 960, H = 540;
const clipOf = (name: string, seconds: number, actors: Actor[]) => makeSceneClip(cv, join(work, `${name}.avi`), { width: W, height: H, fps: 10, seconds, actors }).path;
/** Walks from x0 to x1 between t0 and t1 at height y, absent outside. */
const walk = (t0: number, t1: number, x0: number, x1: number, y = H / 2): Path => (t) => (t < t0 || t > t1 ? null : { x: ramp(t, t0, t1, x0, x1), y });
const still = (t0: number, t1: number, x: number, y = H / 2): Path => (t) => (t < t0 || t > t1 ? null : { x, y });

// ---- 1. proof of play ----------------------------------------------------------------------------

async function proofOfPlay(device: string, clip: string, expectGenders?: Record<string, number>) {
  const s = new Session(device);
  // A retained content/set from a stale player: must be ignored (with a warning), never start a play.
  await s.start(clip, {}, async (c) => { await c.publishAsync(`percept/${device}/content/set`, JSON.stringify({ id: 'stale' }), { qos: 1, retain: true }); });
  await s.waitFor('status', (p) => p.state === 'online');
  await s.agent.waitFor(/retained message is ignored/);
  await s.contentSet('ad-1');
  const first = await s.waitFor('events/entered');
  await s.contentSet('ad-2');
  await s.waitFor('events/left', () => s.on('events/left').length >= 2);
  await s.contentSet(null);
  await s.waitFor('impressions', (p) => p.contentId === 'ad-2');
  const code = await s.finish();
  assert.equal(code, 0, s.agent.stderr().slice(-2000));
  const imps = s.on('impressions');
  console.log(`visits (${device}): ${[...s.on('events/entered'), ...s.on('events/left')].map((e) => `${e.person} ${e.gender?.label} ${e.age?.label}`).join('; ')}`);
  console.log(`impressions (${device}):\n${imps.map((r) => JSON.stringify(r)).join('\n')}`);
  assert.deepEqual(imps.map((r) => r.contentId).filter((v, i, a) => a.indexOf(v) === i), ['ad-1', 'ad-2'], 'no impression for the retained content/set');
  const [ad1, ad2] = [imps.find((r) => r.contentId === 'ad-1')!, imps.find((r) => r.contentId === 'ad-2')!];
  assert.ok(ad1.viewers >= 1, `ad-1 viewers ${ad1.viewers}`);
  // Demographics are the viewers' published labels: the first visitor's in ad-1, both visitors' in ad-2.
  for (const t of ['age', 'gender', 'emotion']) assert.ok(ad1.demographics[t][first[t].label] >= 1, `ad-1 ${t} holds ${first[t].label}: ${JSON.stringify(ad1.demographics)}`);
  assert.equal(ad2.viewers, 2);
  const lefts = s.on('events/left');
  const genders = { male: 0, female: 0 } as Record<string, number>;
  for (const l of lefts) genders[l.gender.label]! += 1;
  assert.deepEqual(ad2.demographics.gender, genders, 'ad-2 gender counts = the two visits\' labels');
  if (expectGenders) assert.deepEqual(ad2.demographics.gender, expectGenders);
  for (const r of [ad1, ad2]) {
    assert.ok(r.ots >= r.viewers, `ots ${r.ots} ≥ viewers ${r.viewers}`);
    assert.ok(Date.parse(r.startedAt) < Date.parse(r.endedAt));
    assert.ok(r.watchers <= r.viewers);
  }
  // The daily summary: published at stop (retained), and saved in the state directory.
  const summaries = s.on('summary/daily');
  const summary = summaries[summaries.length - 1] ?? JSON.parse(readFileSync(join(s.stateDir, 'summary.json'), 'utf8'));
  assert.equal(summary.byContent?.['ad-1']?.plays, 1, JSON.stringify(summary));
  assert.equal(summary.byContent?.['ad-2']?.plays, 1, JSON.stringify(summary));
  assert.equal(summary.byContent?.stale, undefined);
  return imps;
}

test('proof of play on the demo clip: two plays switched by events, impressions and per-content totals', async () => {
  const clip = makeClip(cv, join(work, 'demo.avi')).path;
  await proofOfPlay('pop-demo', clip);
});

test('proof of play on a scene of two sample portraits', async () => {
  const [a, b] = [SAMPLE_PORTRAITS[4]!, SAMPLE_PORTRAITS[9]!];
  const clip = clipOf('pop-samples', 11, [
    { portrait: a, size: 120, path: walk(1, 6.5, 150, 420, 260) },
    { portrait: b, size: 100, path: walk(3.5, 9, 820, 560, 280) },
  ]);
  await proofOfPlay('pop-samples', clip);
});
