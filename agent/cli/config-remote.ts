// percept config set KEY=VALUE… | get [KEY] (diff and apply: config-apply.ts) — against a running device over MQTT: a typed
// merge patch with a requestId on {root}/config/set and its answer on {root}/config/result; the retained
// effective config on {root}/config.
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import type { MqttClient } from 'mqtt';
import { ConfigError } from '../config/load.js';
import { redact, REDACTED } from '../lib/redact.js';
import { changedPaths } from '../config/remote.js';
import type { ConfigResultBody, ConfigResultPayload } from '../contract/payloads.js';
import { connect, firstMessage, NoAnswer, parseJson, resolveTarget, type RemoteArgs, type Target } from './remote-device.js';
import { patchFromPairs, valueAt } from './config-typing.js';
import { EXIT_CONFIG, EXIT_REFUSED } from '../lib/exit-codes.js';

// The command's own output (its answer on stdout, its refusal on stderr), not log lines: a printer, not a Logger.
type Print = (line: string) => void;
const out: Print = (l) => {
  process.stdout.write(`${l}\n`);
};
const err: Print = (l) => {
  process.stderr.write(`${l}\n`);
};

/** Runs `body` with a connection to the device; a missing answer is exit 69, a bad local config 78. */
export async function withDevice(a: RemoteArgs, body: (client: MqttClient, t: Target) => Promise<number>): Promise<number> {
  let client: MqttClient | null = null;
  try {
    const t = resolveTarget(a);
    client = await connect(t);
    return await body(client, t);
  } catch (e) {
    if (e instanceof NoAnswer) {
      err(`percept: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      err(`percept: ${e.message}`);
      return EXIT_CONFIG;
    }
    throw e;
  } finally {
    await client?.endAsync();
  }
}

/** The device's retained effective config (secrets redacted by the device). */
export async function effectiveConfig(client: MqttClient, t: Target, timeoutS: number): Promise<Record<string, unknown>> {
  const got = firstMessage(
    client,
    t.topics.config,
    timeoutS * 1000,
    (p) => {
      const v = parseJson(p);
      return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
    },
    `retained config from device "${t.device}" on ${t.topics.config} (is the agent running, with this --device-id?)`,
  );
  await client.subscribeAsync(t.topics.config, { qos: 1 });
  return got;
}

export function describeResult(r: ConfigResultBody, print: Print = out, printErr: Print = err): number {
  if (!r.ok) {
    printErr('refused by the device, nothing changed:');
    for (const e of r.errors) printErr(`  ${e.path || '(root)'}: ${e.message}`);
    return EXIT_REFUSED;
  }
  if (!r.applied.length && !r.restartRequired.length) print('accepted: nothing changed (the device already had these values)');
  if (r.applied.length) print(`applied now: ${r.applied.join(', ')}`);
  if (r.restartRequired.length) print(`needs a restart to take effect: ${r.restartRequired.join(', ')} (e.g. systemctl restart percept)`);
  if (r.saved === true) print('saved: kept across restarts (config-overrides.json in the state directory)');
  else if (r.saved === false) print('not saved: lasts until the next restart of the agent');
  return 0;
}

/** Sends one patch with a new requestId and waits for its config/result. */
export async function request(client: MqttClient, t: Target, patch: Record<string, unknown>, timeoutS: number): Promise<ConfigResultPayload> {
  const requestId = randomUUID();
  const answer = firstMessage(
    client,
    t.topics.configResult,
    timeoutS * 1000,
    (p) => {
      const r = parseJson(p) as ConfigResultPayload | undefined;
      return r && r.requestId === requestId ? r : undefined;
    },
    `answer from device "${t.device}" on ${t.topics.configResult} (is the agent running, with remoteConfig.enabled, and this --device-id?)`,
  );
  // Subscribed before publishing, so the answer cannot slip past.
  await client.subscribeAsync(t.topics.configResult, { qos: 1 });
  await client.publishAsync(t.topics.configSet, JSON.stringify({ ...patch, requestId }), { qos: 1 });
  return answer;
}

export async function configSet(pairs: string[], a: RemoteArgs & { save?: boolean }): Promise<number> {
  const { patch, errors } = patchFromPairs(pairs);
  if (!pairs.length) errors.push({ path: '', message: 'name at least one KEY=VALUE, e.g. percept config set detector.minFacePx=32' });
  if (errors.length) {
    err('percept config set: refused before sending anything:');
    for (const e of errors) err(`  ${e.path || '(root)'}: ${e.message}`);
    return EXIT_REFUSED;
  }
  // Saved unless --no-save: tuning done on site must survive a restart.
  return withDevice(a, async (client, t) => describeResult(await request(client, t, { ...patch, save: a.save !== false }, a.timeout)));
}

export function formatValue(v: unknown): string {
  if (typeof v === 'object' && v !== null) return stringify(v).trimEnd();
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function configGet(key: string | undefined, a: RemoteArgs): Promise<number> {
  return withDevice(a, async (client, t) => {
    const config = await effectiveConfig(client, t, a.timeout);
    if (!key) {
      out(`# effective configuration of device "${t.device}" (secrets redacted)`);
      process.stdout.write(stringify(config));
      return 0;
    }
    const v = valueAt(config, key.split('.'));
    if (v === undefined) {
      err(`percept config get: device "${t.device}" has no key ${key} ("percept config get" lists them all)`);
      return EXIT_REFUSED;
    }
    out(formatValue(v));
    return 0;
  });
}

/** Leaf paths with old → new, secrets left out (the device redacts them, so they always "differ"). */
export function diffLines(device: unknown, wantedRaw: unknown): string[] {
  const wanted = redact(wantedRaw);
  const secret = (p: string) => valueAt(device, p.split('.')) === REDACTED || valueAt(wanted, p.split('.')) === REDACTED;
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return changedPaths(device, wanted)
    .filter((p) => !secret(p))
    .map((p) => `${p}: ${show(valueAt(device, p.split('.')))} → ${show(valueAt(wanted, p.split('.')))}`);
}
