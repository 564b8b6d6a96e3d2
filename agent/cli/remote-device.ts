// What the commands that talk to a running device (config set/get/diff, watch) share: the broker and
// device they aim at — from flags, else the local config (the broker the agent here uses, this host's
// device id) — and one MQTT connection to it.
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { deviceId, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { deviceTopics, type DeviceTopics } from '../contract/topics.js';
import { storedCredentialFile } from '../lib/credentials.js';
import { EXIT_NO_ANSWER } from '../lib/exit-codes.js';

export interface RemoteArgs {
  config?: string;
  deviceId?: string;
  mqttUrl?: string;
  prefix?: string;
  username?: string;
  passwordFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  timeout: number;
}

export function remoteOptions<T>(y: Argv<T>) {
  return y
    .option('config', {
      alias: 'c',
      type: 'string',
      describe: 'Local config whose mqtt section and device id are the defaults (default: /etc/percept/percept.yaml if present)',
    })
    .option('device-id', {
      type: 'string',
      describe: "The device to talk to (default: the local config's device.id, else this host's name)",
    })
    .option('mqtt-url', { type: 'string', describe: "Broker URL (default: the local config's mqtt.url, else its embedded broker)" })
    .option('prefix', { type: 'string', describe: "Topic prefix (default: the local config's mqtt.prefix)" })
    .option('username', { type: 'string', describe: 'Broker user name (default: mqtt.username)' })
    .option('password-file', { type: 'string', describe: 'File holding the broker password (default: mqtt.passwordFile / mqtt.password)' })
    .option('tls-ca', { type: 'string', describe: 'CA certificate (PEM) to verify an mqtts:// broker (default: mqtt.tls.ca)' })
    .option('tls-cert', { type: 'string', describe: 'Client certificate (PEM) (default: mqtt.tls.cert)' })
    .option('tls-key', { type: 'string', describe: 'Client private key (PEM) (default: mqtt.tls.key)' })
    .option('insecure', { type: 'boolean', describe: 'Accept a broker certificate that does not verify (tests only)' })
    .option('timeout', { type: 'number', default: 10, describe: 'Seconds to wait for the device' });
}

export interface Target {
  url: string;
  device: string;
  topics: DeviceTopics;
  options: IClientOptions;
}

/** Resolves flags over the local config; a bad local config throws ConfigError (exit 78). */
export function resolveTarget(a: RemoteArgs): Target {
  return targetOf(loadConfig({ file: a.config }).config, a);
}

/** The broker, device and connection options of `config`, flags first; reads the password and TLS files it names. */
export function targetOf(config: Config, a: Omit<RemoteArgs, 'config'>): Target {
  const m = config.mqtt;
  const url = a.mqttUrl ?? (m.url || `mqtt://${m.embeddedHost === '0.0.0.0' ? '127.0.0.1' : m.embeddedHost}:${m.embeddedPort}`);
  const device = a.deviceId ?? deviceId(config);
  const passwordFile = a.passwordFile ?? (m.passwordFile || (m.password ? '' : storedCredentialFile('mqtt-password')));
  const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : m.password;
  const username = a.username ?? m.username;
  const file = (f: string | undefined) => (f ? readFileSync(f) : undefined);
  const ca = file(a.tlsCa ?? m.tls.ca);
  const cert = file(a.tlsCert ?? m.tls.cert);
  const key = file(a.tlsKey ?? (m.tls.key || storedCredentialFile('tls-key')));
  const options: IClientOptions = {
    protocolVersion: m.protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: Math.max(1000, a.timeout * 1000),
    clean: true,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: a.insecure ? false : m.tls.rejectUnauthorized,
  };
  return { url, device, topics: deviceTopics(a.prefix ?? m.prefix, device), options };
}

/** Connects or throws an error that names the broker (the caller exits 69). */
export async function connect(t: Target): Promise<MqttClient> {
  try {
    return await mqtt.connectAsync(t.url, t.options);
  } catch (err) {
    throw new NoAnswer(`cannot reach the broker at ${t.url}: ${(err as Error).message}`);
  }
}

export class NoAnswer extends Error {
  readonly exitCode = EXIT_NO_ANSWER;
}

/** The first message on `topic` that `accept` takes, or NoAnswer after `timeoutMs`. */
export function firstMessage<T>(client: MqttClient, topic: string, timeoutMs: number, accept: (payload: Buffer) => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      const v = accept(payload);
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const timer = setTimeout(() => {
      done();
      reject(new NoAnswer(`no ${what} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      client.off('message', onMessage);
    };
    client.on('message', onMessage);
  });
}

export function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(String(payload));
  } catch {
    return undefined;
  }
}
