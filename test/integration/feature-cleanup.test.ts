// The feature base owns cleanup (issue 21): every feature the agent runs, started against the real MQTT
// adapter and a real mosquitto, then stopped. Afterwards no bus listener is left, each inbound topic was
// unsubscribed at the broker, a command sent after the stop reaches no handler, and a reconnect neither
// subscribes to a feature's topic again nor republishes a feature's state (its reconnect listeners went
// too). The client's packets are watched through the adapter's connect seam, not its private fields.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type Packet } from 'mqtt';
import { onlineStatus } from '../../agent/publish/status.js';
import { MqttPublisher } from '../../agent/publish/mqtt-publisher.js';
import { Outbox } from '../../agent/publish/outbox.js';
import { defaults } from '../../agent/config/load.js';
import { deviceTopics } from '../../agent/contract/topics.js';
import { createBus, type AgentEvents } from '../../agent/features/events.js';
import { buildFeatures } from '../../agent/features/index.js';
import { ImpressionsFeature } from '../../agent/features/impressions.js';
import type { FeatureContext } from '../../agent/features/feature.js';
import { silentLogger } from '../../agent/lib/logging.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const EVENTS: (keyof AgentEvents & string)[] = ['visit', 'frame', 'status', 'config', 'impression', 'reload', 'configChanged'];
const DEVICE = 'cleanup';
const CLIENT_ID = `percept-${DEVICE}-${process.pid}`;
let broker: Broker;
const work = mkdtempSync(join(tmpdir(), 'percept-cleanup-'));

before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

type Sent = Packet & { subscriptions?: { topic: string }[]; unsubscriptions?: string[]; topic?: string };

test("after stop() no feature's bus listener, MQTT subscription or reconnect listener is left", async () => {
  const sent: Sent[] = [];
  const received: Sent[] = [];
  const connect = (url: string, opts: IClientOptions) => {
    const c = mqtt.connect(url, opts);
    c.on('packetsend', (p) => sent.push(p as Sent));
    c.on('packetreceive', (p) => received.push(p as Sent));
    return c;
  };
  const config = defaults();
  config.homeassistant.enabled = true;
  const publisher = new MqttPublisher(
    {
      url: broker.url,
      clientId: CLIENT_ID,
      username: '',
      password: '',
      passwordFile: '',
      protocolVersion: 4,
      prefix: 'percept',
      device: DEVICE,
      birth: onlineStatus({ device: 'd', model: 'm', version: '0' }),
      tls: { ca: '', cert: '', key: '', rejectUnauthorized: true },
      reconnectMinMs: 100,
      reconnectMaxMs: 200,
      contract: 'strict',
    },
    new Outbox(join(work, 'outbox'), { maxEvents: 10, maxAgeMs: 60_000 }),
    silentLogger,
    { connect },
  );
  await publisher.start();
  const player = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  let intruder: mqtt.MqttClient | null = null;
  try {
    await scenario(publisher, player, sent, received, config, () =>
      mqtt.connectAsync(broker.url, { clientId: CLIENT_ID, reconnectPeriod: 0 }).then((c) => (intruder = c)),
    );
  } finally {
    // A failed check must not leave a client reconnecting (it would keep the test process alive).
    await (intruder as mqtt.MqttClient | null)?.endAsync(true).catch(() => undefined);
    await player.endAsync(true);
    await publisher.stop('test');
  }
});

async function scenario(
  publisher: MqttPublisher,
  player: mqtt.MqttClient,
  sent: Sent[],
  received: Sent[],
  config: ReturnType<typeof defaults>,
  intrude: () => Promise<mqtt.MqttClient>,
): Promise<void> {
  const bus = createBus((name, err) => {
    throw new Error(`${name}: ${err.message}`);
  });
  const topics = deviceTopics('percept', DEVICE);
  const ctx: FeatureContext = {
    bus,
    publisher,
    config,
    topics,
    device: DEVICE,
    stateDir: work,
    version: '0',
    model: 'm',
    log: () => silentLogger,
    records: { publish: () => undefined },
  };
  const features = buildFeatures(ctx, { configFile: null, camera: null, statsSnapshot: () => ({}) });
  for (const f of features) await f.start();
  const impressions = features.find((f): f is ImpressionsFeature => f instanceof ImpressionsFeature)!;

  const inbound = [topics.configSet, topics.contentSet, 'homeassistant/status'];
  const subscribed = () => sent.filter((p) => p.cmd === 'subscribe').flatMap((p) => p.subscriptions!.map((s) => s.topic));
  await waitFor(() => received.filter((p) => p.cmd === 'suback').length >= inbound.length, 10_000, 'the features subscribed');
  assert.deepEqual(subscribed().sort(), [...inbound].sort());
  for (const e of ['frame', 'visit', 'config', 'reload', 'configChanged'] as const) assert.ok(bus.listenerCount(e) > 0, `${e}: listened to while running`);

  // While running, a command is handled (so its absence after the stop means something).
  await player.publishAsync(topics.contentSet, JSON.stringify({ id: 'ad-1' }), { qos: 1 });
  await waitFor(() => impressions.commands.counts.received === 1, 10_000, 'content/set handled while running');

  for (const f of [...features].reverse()) await f.stop();
  const afterStop = sent.length;

  for (const e of EVENTS) assert.equal(bus.listenerCount(e), 0, `${e}: no listener after stop`);
  const unsubscribed = () => sent.filter((p) => p.cmd === 'unsubscribe').flatMap((p) => p.unsubscriptions!);
  await waitFor(() => received.filter((p) => p.cmd === 'unsuback').length >= inbound.length, 10_000, 'the broker acknowledged the unsubscriptions');
  assert.deepEqual(unsubscribed().sort(), [...inbound].sort(), 'each inbound topic unsubscribed at the broker');

  // Commands after the stop: none reaches the client, let alone a handler. A marker subscribed by the
  // test through the same port comes back after them (the broker keeps a publisher's order).
  const marker = 'percept-test/cleanup/marker';
  let markers = 0;
  const releaseMarker = publisher.subscribe(marker, () => markers++);
  await waitFor(() => received.filter((p) => p.cmd === 'suback').length > inbound.length, 10_000, 'the marker subscribed');
  const receivedBefore = received.length;
  await player.publishAsync(topics.contentSet, JSON.stringify({ id: 'ad-2' }), { qos: 1 });
  await player.publishAsync(topics.configSet, JSON.stringify({ requestId: 'late', audience: { nearestMaxHz: 1 } }), { qos: 1 });
  await player.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await player.publishAsync(marker, 'm', { qos: 1 });
  await waitFor(() => markers === 1, 10_000, 'the marker');
  const late = received.slice(receivedBefore).filter((p) => p.cmd === 'publish' && inbound.includes(p.topic!));
  assert.deepEqual(late, [], 'no command reached the client after the stop');
  assert.equal(impressions.commands.counts.received, 1, 'content/set not handled after the stop');
  assert.equal(config.audience.nearestMaxHz, 10, 'the late patch changed nothing');

  // A reconnect (another client takes the client id; the adapter comes back after its backoff):
  // the marker is subscribed again, no feature topic is, and no feature republishes anything.
  const connacks = received.filter((p) => p.cmd === 'connack').length;
  await intrude();
  await waitFor(() => received.filter((p) => p.cmd === 'connack').length > connacks, 20_000, 'the adapter reconnected');
  await waitFor(() => sent.slice(afterStop).some((p) => p.cmd === 'subscribe' && p.subscriptions!.some((s) => s.topic === marker)), 10_000, 'resubscribed');
  await player.publishAsync(marker, 'm', { qos: 1 });
  await waitFor(() => markers === 2, 10_000, 'the marker after the reconnect');
  const resubscribed = sent
    .slice(afterStop)
    .filter((p) => p.cmd === 'subscribe')
    .flatMap((p) => p.subscriptions!.map((s) => s.topic));
  assert.deepEqual([...new Set(resubscribed)], [marker], 'only the marker is subscribed again');
  const republished = sent.slice(afterStop).filter((p) => p.cmd === 'publish' && p.topic !== marker);
  assert.deepEqual(
    [...new Set(republished.map((p) => p.topic))],
    [topics.status],
    'after the reconnect only the birth status goes out: no feature republished its state',
  );

  releaseMarker();
}
