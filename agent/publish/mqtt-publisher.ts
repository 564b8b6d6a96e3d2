// MQTT adapter of the publisher port (MQTT.js): birth and last-will status, QoS 1 events.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'winston';
import type { EventPayload, Publisher, StatusPayload } from './publisher.js';
import { topics } from './payloads.js';

export interface MqttOptions {
  url: string;
  clientId: string;
  username: string;
  password: string;
  passwordFile: string;
  protocolVersion: 4 | 5;
  prefix: string;
  device: string;
  birth: StatusPayload;
}

export class MqttPublisher implements Publisher {
  private client: MqttClient | null = null;
  private readonly t: ReturnType<typeof topics>;

  constructor(private readonly opts: MqttOptions, private readonly log: Logger) {
    this.t = topics(opts.prefix, opts.device);
  }

  get statusTopic(): string { return this.t.status; }

  async start(): Promise<void> {
    const o = this.opts;
    const password = o.passwordFile ? readFileSync(o.passwordFile, 'utf8').trim() : o.password;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: o.protocolVersion,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      // MQTT.js's offline queue is unbounded for QoS 0; never let it grow.
      queueQoSZero: false,
      will: { topic: this.t.status, payload: Buffer.from(JSON.stringify({ state: 'offline' } satisfies StatusPayload)), qos: 1, retain: true },
      ...(o.username ? { username: o.username } : {}),
      ...(password ? { password } : {}),
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    client.on('connect', () => {
      this.log.info(`connected to ${o.url} as ${o.clientId}`);
      void client.publishAsync(this.t.status, JSON.stringify(o.birth), { qos: 1, retain: true })
        .catch((err: Error) => this.log.warn(`birth message not sent: ${err.message}`));
    });
    client.on('reconnect', () => this.log.debug(`reconnecting to ${o.url}`));
    client.on('offline', () => this.log.warn(`broker ${o.url} unreachable; events wait in the client queue`));
    client.on('error', (err) => this.log.error(`MQTT: ${err.message}`));
    // Do not block start-up on the broker: the agent keeps working and publishes once it connects.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
    });
  }

  async publishEvent(event: EventPayload): Promise<void> {
    await this.client!.publishAsync(this.t.event(event.type), JSON.stringify(event), { qos: 1 });
  }

  async publishStats(stats: object): Promise<void> {
    if (!this.client?.connected) return;
    await this.client.publishAsync(this.t.stats, JSON.stringify(stats), { qos: 0 });
  }

  async publishAudience(audience: object): Promise<void> {
    await this.client?.publishAsync(this.t.audience, JSON.stringify(audience), { qos: 1, retain: true });
  }

  async stop(reason: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    if (client.connected) {
      await client.publishAsync(this.t.status, JSON.stringify({ state: 'offline', reason } satisfies StatusPayload), { qos: 1, retain: true })
        .catch((err: Error) => this.log.warn(`offline status not sent: ${err.message}`));
    }
    await client.endAsync();
  }
}
