// Is the broker reachable with this device's URL, credentials and TLS settings? One MQTT connection with
// a short deadline, under a client id of its own (the agent's would make the broker drop the running agent).
import { createServer } from 'node:net';
import mqtt, { type IClientOptions } from 'mqtt';
import type { Config } from '../../config/schema.js';
import { refusal } from '../../publish/mqtt-refusal.js';
import { targetOf } from '../remote-device.js';
import { fail, ok, type Check, type Result } from './check.js';

const CONNECT_MS = 5000;

type Outcome = { ms: number } | { error: Error & { code?: string | number } };

function tryConnect(url: string, options: IClientOptions, signal: AbortSignal): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const client = mqtt.connect(url, { ...options, clientId: `percept-doctor-${process.pid}`, reconnectPeriod: 0, connectTimeout: CONNECT_MS });
    const done = (o: Outcome) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abandon);
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      resolve(o);
    };
    const abandon = () => done({ error: new Error('abandoned') });
    const timer = setTimeout(
      () => done({ error: Object.assign(new Error(`no CONNACK within ${CONNECT_MS / 1000} s`), { code: 'ETIMEDOUT' }) }),
      CONNECT_MS + 500,
    );
    signal.addEventListener('abort', abandon, { once: true });
    client.once('connect', () => done({ ms: Math.round(performance.now() - t0) }));
    client.once('error', (error) => done({ error }));
    client.once('close', () => done({ error: new Error('the connection closed before the broker answered (not an MQTT broker, or TLS expected?)') }));
  });
}

/** The reason in a few words (the error code first: ECONNREFUSED, ENOTFOUND…) and what to do about it. */
export function explain(error: Error & { code?: string | number }, url: string): { reason: string; fix: string } {
  const refused = refusal(error);
  if (refused)
    return {
      reason: `refused: ${refused}`,
      fix: 'correct the credentials or TLS files in the mqtt section (sudo percept secret set mqtt-password for the service)',
    };
  const code = typeof error.code === 'string' ? error.code : '';
  const reason = code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  const where = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  const fixes: Record<string, string> = {
    ECONNREFUSED: `nothing listens at ${where}: start the broker there (systemctl status mosquitto), or correct mqtt.url`,
    ENOTFOUND: 'the host name does not resolve: correct mqtt.url, or this machine’s DNS',
    EAI_AGAIN: 'the name server does not answer: check this machine’s DNS, or use the broker’s address in mqtt.url',
    ETIMEDOUT: 'no answer: a firewall, a wrong address or port in mqtt.url, or the broker host is down',
    EHOSTUNREACH: 'no route to the broker host: check the network, or the address in mqtt.url',
    ENETUNREACH: 'this machine has no network route there: check its network',
  };
  return { reason, fix: fixes[code] ?? 'check mqtt.url and the broker’s log' };
}

function portFree(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.listen(port, host, () => s.close(() => resolve(null)));
  });
}

export async function brokerResult(config: Config, signal: AbortSignal): Promise<Result> {
  let target;
  try {
    target = targetOf(config, { timeout: CONNECT_MS / 1000 });
  } catch (err) {
    return fail(`the broker credentials cannot be read: ${(err as Error).message}`, 'mqtt.passwordFile and mqtt.tls.* must name files this user can read');
  }
  const { url, options } = target;
  const o = await tryConnect(url, options, signal);
  if (config.mqtt.url) {
    if ('ms' in o) return ok(`${url} accepts this device (CONNACK in ${o.ms} ms${options.username ? `, as ${options.username}` : ''})`);
    const { reason, fix } = explain(o.error, url);
    return fail(`${url}: ${reason}`, fix);
  }
  // No mqtt.url: `percept run` starts its own broker on mqtt.embeddedHost:embeddedPort.
  const { embeddedHost: host, embeddedPort: port } = config.mqtt;
  if ('ms' in o) return ok(`no mqtt.url: an MQTT broker answers at ${url} (the running agent's embedded one, or another on that port)`);
  if (o.error.code !== 'ECONNREFUSED')
    return fail(`no mqtt.url, and ${url} answers but not as MQTT: ${o.error.message}`, `free port ${port}, or set mqtt.embeddedPort`);
  if (port === 0) return ok('no mqtt.url: the agent starts an embedded broker on a free port');
  const busy = await portFree(host, port);
  if (busy) return fail(`no mqtt.url, and the embedded broker cannot listen on ${host}:${port}: ${busy}`, 'set mqtt.embeddedHost/embeddedPort, or mqtt.url');
  return ok(`no mqtt.url: percept run starts an embedded broker on ${host}:${port} (free now)`);
}

export function brokerCheck(config: Config): Check {
  return { id: 'broker', timeoutMs: CONNECT_MS + 3000, run: (signal) => brokerResult(config, signal) };
}
