// MQTT adapter of the publisher port (MQTT.js): birth and last-will status, events through the durable
// outbox (QoS 1, strictly in seq order, removed only on PUBACK), reconnect with backoff and jitter, TLS,
// credentials, and the device's own inbound topics (config/set, Home Assistant's status). It is the only
// place that calls the MQTT client's publish: everything else names a topic of the table
// (agent/contract/topics.ts), which gives its QoS, retain flag and payload schema.
//
// Reconnects are driven here, not by MQTT.js: its reconnect timer is armed from its own 'close' listener
// (registered before ours) with the period of the time, so a period set in our listener came one attempt
// late and a good connection never brought the delay back down. With reconnectPeriod 0 MQTT.js does not
// retry; we compute the delay at 'close' and call reconnect() ourselves.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../lib/logging.js';
import type { InboundHandler, Publisher, Release, StatusPayload } from './publisher.js';
import type { DeliveryQueue } from './outbox.js';
import { redact } from '../lib/redact.js';
import { OUT_TOPICS, topicOf, type OutPayloads, type OutTopicName, type ParamsOf } from '../contract/topics.js';
import { ContractCheck, type ContractMode } from './contract-check.js';
import { AttemptCauses } from './mqtt-refusal.js';
import { within } from '../lib/within.js';
import { backoffDelay } from '../lib/backoff.js';
import { lastWill, offlineStatus, stamped } from './status.js';

export interface TlsOptions {
  ca: string;
  cert: string;
  key: string;
  rejectUnauthorized: boolean;
}

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
  tls: TlsOptions;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** What a payload that does not match its topic's schema does (contract-check.ts); default 'warn'. */
  contract?: ContractMode;
}

const ACK_TIMEOUT_MS = 30_000;
/** A connection that stayed up this long was a good one: the next outage starts again at the minimum delay. */
export const STABLE_CONNECTION_MS = 10_000;

export interface MqttDeps {
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  random?: () => number;
  now?: () => number;
}

export class MqttPublisher implements Publisher {
  private client: MqttClient | null = null;
  private readonly root: string;
  /** Every payload is checked against its topic's schema before it leaves (durable records too). */
  readonly contract: ContractCheck;
  private draining: Promise<void> | null = null;
  private attempt = 0;
  private connectedAt: number | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Why attempts fail, and the line each closing attempt is worth (mqtt-refusal.ts). */
  private readonly causes: AttemptCauses;
  /** The delay before the next reconnect attempt (ms), as last scheduled. */
  nextDelayMs = 0;
  private readonly subscriptions = new Map<string, InboundHandler>();
  private readonly connectListeners = new Set<() => void>();
  delivered = 0;

  constructor(
    private readonly opts: MqttOptions,
    private readonly outbox: DeliveryQueue,
    private readonly log: Logger,
    private readonly deps: MqttDeps = {},
  ) {
    this.root = `${opts.prefix}/${opts.device}`;
    this.causes = new AttemptCauses(opts.url);
    this.contract = new ContractCheck(opts.contract ?? 'warn', log, 'error');
    outbox.onPut(() => this.drain());
  }

  get connected(): boolean {
    return !!this.client?.connected;
  }

  /** Adds fields to the retained online status (e.g. the camera state) and republishes it. */
  updateStatus(fields: Partial<StatusPayload>): void {
    Object.assign(this.opts.birth, fields);
    void this.publish('status', stamped(this.opts.birth)).catch(() => undefined);
  }

  /** Called after every (re)connect, e.g. to republish retained state. */
  onConnect(listener: () => void): Release {
    // A wrapper per call: the same function registered twice is released once each.
    const l = () => listener();
    this.connectListeners.add(l);
    return () => {
      this.connectListeners.delete(l);
    };
  }

  /**
   * Listens to a topic of this device (re-subscribed after every reconnect). The release forgets it — a
   * reconnect does not subscribe again — and unsubscribes at the broker, unless another handler took
   * the topic since.
   */
  subscribe(topic: string, handler: InboundHandler): Release {
    const h: InboundHandler = (...args) => handler(...args);
    this.subscriptions.set(topic, h);
    if (this.client?.connected) void this.client.subscribeAsync(topic, { qos: 1 }).catch(() => undefined);
    return () => {
      if (this.subscriptions.get(topic) !== h) return;
      this.subscriptions.delete(topic);
      if (this.client?.connected) void this.client.unsubscribeAsync(topic).catch(() => undefined);
    };
  }

  /**
   * A topic of the table, with its QoS and retain flag, its payload checked against its schema; skipped
   * while offline (state topics are republished on change or reconnect). Every payload is redacted: no
   * URL password or secret parameter leaves the agent (camera errors and status details quote URIs).
   */
  async publish<N extends OutTopicName>(name: N, payload: OutPayloads[N], ...params: ParamsOf<N>): Promise<void> {
    const spec = OUT_TOPICS[name];
    const body = payload === null ? null : redact(payload);
    this.contract.check(name, body);
    if (!this.client?.connected) return;
    await this.client.publishAsync(topicOf(this.root, name, ...params), body === null ? '' : JSON.stringify(body), { qos: spec.qos, retain: spec.retained });
  }

  private clientOptions(): IClientOptions {
    const o = this.opts;
    const password = o.passwordFile ? readFileSync(o.passwordFile, 'utf8').trim() : o.password;
    const read = (f: string) => (f ? readFileSync(f) : undefined);
    return {
      clientId: o.clientId,
      protocolVersion: o.protocolVersion,
      clean: true,
      reconnectPeriod: 0, // we reconnect ourselves (see the top of this file)
      // A refused CONNACK (bad password, ACL) ends MQTT.js's retries unless told otherwise; a kiosk must
      // keep trying (the broker's credentials may be fixed later) and say why each time.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      // MQTT.js's offline queue is unbounded; events wait in the bounded outbox instead.
      queueQoSZero: false,
      will: {
        topic: topicOf(this.root, 'status'),
        payload: Buffer.from(JSON.stringify(lastWill(o.device))),
        qos: OUT_TOPICS.status.qos,
        retain: OUT_TOPICS.status.retained,
      },
      ...(o.username ? { username: o.username } : {}),
      ...(password ? { password } : {}),
      ...(o.tls.ca ? { ca: read(o.tls.ca) } : {}),
      ...(o.tls.cert ? { cert: read(o.tls.cert) } : {}),
      ...(o.tls.key ? { key: read(o.tls.key) } : {}),
      rejectUnauthorized: o.tls.rejectUnauthorized,
    };
  }

  async start(): Promise<void> {
    const o = this.opts;
    const now = this.deps.now ?? Date.now;
    const client = (this.deps.connect ?? mqtt.connect)(o.url, this.clientOptions());
    this.client = client;
    client.on('connect', () => {
      this.connectedAt = now();
      this.causes.connected();
      this.log.info(`connected to ${o.url} as ${o.clientId}`);
      this.publish('status', stamped(o.birth)).catch((err: Error) => this.log.warn(`birth message not sent: ${err.message}`));
      for (const topic of this.subscriptions.keys()) void client.subscribeAsync(topic, { qos: 1 }).catch(() => undefined);
      for (const l of this.connectListeners) l();
      this.drain();
    });
    client.on('message', (topic, payload, packet) => this.subscriptions.get(topic)?.(topic, payload, packet.retain));
    client.on('close', () => {
      if (this.client !== client || this.reconnectTimer) return; // stopping, or a retry is already due
      // Only a connection that stayed up resets the backoff: one dropped right after CONNACK (an ACL
      // kick, a broker restarting) keeps backing off instead of hammering the broker.
      if (this.connectedAt !== null && now() - this.connectedAt >= STABLE_CONNECTION_MS) this.attempt = 0;
      this.connectedAt = null;
      this.attempt++;
      this.nextDelayMs = backoffDelay(this.attempt, o.reconnectMinMs, o.reconnectMaxMs, this.deps.random);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (this.client === client) client.reconnect();
      }, this.nextDelayMs);
      const said = this.causes.closing(this.attempt, this.nextDelayMs, this.outbox.depth);
      if (said) this.log[said.level](said.line);
    });
    client.on('error', (err: Error & { code?: number | string }) => {
      // The error comes before the 'close' of the same attempt, which logs it with the retry delay.
      this.causes.error(err);
      this.log.debug(`MQTT: ${err.message}`);
    });
    // Do not block start-up on the broker: the agent works and queues events until it connects.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private drain(): void {
    if (this.draining || !this.client?.connected) return;
    this.draining = this.sendPending().finally(() => {
      this.draining = null;
    });
  }

  /** One entry at a time, each awaited (next() is synchronous and quarantines bad entries, so this never spins). */
  private async sendPending(): Promise<void> {
    for (;;) {
      const client = this.client;
      if (!client?.connected) return;
      const entry = this.outbox.next();
      if (!entry) return;
      const acked = await this.publishAcked(client, entry.topic, entry.payload, entry.retain ?? false);
      if (!acked) return; // the connection went; the next 'connect' drains again, in order
      this.outbox.delivered(entry);
      this.delivered++;
    }
  }

  /** QoS 1 publish that resolves false if the connection closes (or no PUBACK comes) first. */
  private publishAcked(client: MqttClient, topic: string, payload: string, retain: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        client.off('close', onClose);
        clearTimeout(timer);
        resolve(ok);
      };
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), ACK_TIMEOUT_MS);
      client.once('close', onClose);
      // A callback that MQTT.js calls synchronously (a refused topic) must still yield: setImmediate.
      client.publish(topic, payload, { qos: 1, retain }, (err) => setImmediate(() => done(!err)));
    });
  }

  /** Waits (up to timeoutMs) for the outbox to drain while connected. */
  async flush(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && this.client?.connected && this.outbox.depth > 0) {
      this.drain();
      await Promise.race([this.draining, new Promise((r) => setTimeout(r, 100))]);
    }
  }

  async stop(reason: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const before = this.outbox.depth;
    await this.flush(5000);
    const left = this.outbox.depth;
    if (left) this.log.warn(`${left} event(s) not yet delivered stay in the outbox for the next start`);
    this.client = null;
    if (client.connected && left > 0 && left >= before) {
      // Not one acknowledgement in 5 s: the broker is not answering. Waiting on the offline status would
      // only push the stop past its grace; dropping the connection without DISCONNECT makes the broker
      // publish the last will (offline) once it sees the socket closed.
      this.log.warn('the broker acknowledged nothing while stopping: closing without waiting; its last will reports offline');
      client.end(true);
      return;
    }
    if (client.connected) {
      const offline = offlineStatus(this.opts.device, reason);
      this.contract.check('status', offline);
      const sent = client
        .publishAsync(topicOf(this.root, 'status'), JSON.stringify(offline), { qos: OUT_TOPICS.status.qos, retain: OUT_TOPICS.status.retained })
        .then(() => 'sent' as const)
        .catch((err: Error) => this.log.warn(`offline status not sent: ${err.message}`));
      // A broker that just came back may not acknowledge in time: the last will then says offline.
      if ((await within(3000, sent, 'timeout')) === 'timeout') this.log.warn('offline status not acknowledged within 3 s; the last will reports it');
    }
    if ((await within(2000, client.endAsync(), 'timeout')) === 'timeout') client.end(true);
  }
}
