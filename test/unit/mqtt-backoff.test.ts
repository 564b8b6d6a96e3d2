// Reconnect backoff of the MQTT publisher, against a fake MQTT.js client and fake timers: the delay is
// the one computed for this attempt (not the previous one), and a connection that stayed up resets it.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { onlineStatus } from '../../agent/publish/status.js';
import { MqttPublisher, STABLE_CONNECTION_MS } from '../../agent/publish/mqtt-publisher.js';
import { Outbox } from '../../agent/publish/outbox.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';

class FakeClient extends EventEmitter {
  connected = false;
  reconnects = 0;
  options: Record<string, unknown>;
  constructor(opts: Record<string, unknown>) {
    super();
    this.options = opts;
  }
  reconnect() {
    this.reconnects++;
    return this;
  }
  publishAsync() {
    return Promise.resolve();
  }
  subscribeAsync() {
    return Promise.resolve();
  }
  endAsync() {
    return Promise.resolve();
  }
  up() {
    this.connected = true;
    this.emit('connect');
  }
  down() {
    this.connected = false;
    this.emit('close');
  }
}

test("reconnect backoff: this attempt's delay, growing while the link flaps, back to the minimum after a stable connection", async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const advance = (ms: number) => {
    now += ms;
    mock.timers.tick(ms);
  };
  const { log, at } = logLines();
  let client: FakeClient | null = null;
  const pub = new MqttPublisher(
    {
      url: 'mqtt://fake',
      clientId: 'c',
      username: '',
      password: '',
      passwordFile: '',
      protocolVersion: 4,
      prefix: 'p',
      device: 'd',
      birth: onlineStatus({ device: 'd', model: 'm', version: '0' }),
      tls: { ca: '', cert: '', key: '', rejectUnauthorized: true },
      reconnectMinMs: 1000,
      reconnectMaxMs: 60_000,
    },
    new Outbox(tempDir('percept-backoff-'), { maxEvents: 10, maxAgeMs: 60_000 }),
    log,
    {
      connect: (_url, opts) => {
        client = new FakeClient(opts as Record<string, unknown>);
        return client as unknown as MqttClient;
      },
      random: () => 0.5,
      now: () => now,
    },
  );
  try {
    const started = pub.start();
    const c = client!;
    assert.equal(c.options.reconnectPeriod, 0, 'MQTT.js does not schedule retries itself');
    c.up();
    await started;

    /** The link drops; returns the delay after which reconnect() was called. */
    const dropAndMeasure = (): number => {
      const before = c.reconnects;
      c.down();
      const delay = pub.nextDelayMs;
      advance(delay - 1);
      assert.equal(c.reconnects, before, `no reconnect before ${delay} ms`);
      advance(1);
      assert.equal(c.reconnects, before + 1, `reconnect at ${delay} ms`);
      return delay;
    };

    advance(1000); // up for only 1 s
    assert.deepEqual([dropAndMeasure(), dropAndMeasure(), dropAndMeasure()], [1000, 2000, 4000], 'each attempt waits its own delay');
    c.up();
    advance(500);
    assert.equal(dropAndMeasure(), 8000, 'a connection dropped right after CONNACK keeps backing off');
    c.up();
    advance(STABLE_CONNECTION_MS);
    assert.equal(dropAndMeasure(), 1000, 'after a connection that stayed up, the minimum again');
    assert.equal(dropAndMeasure(), 2000);
    assert.match(at('warn')[0] ?? '', /unreachable \(attempt 1\); retrying in 1000 ms/);
  } finally {
    await pub.stop('test');
    mock.timers.reset();
  }
});
