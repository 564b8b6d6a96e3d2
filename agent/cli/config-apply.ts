// percept config diff FILE | apply FILE — a whole site file against a running device. The device is
// asked first with a dry run of the patch that would make its config the file's, so the diff can say which
// values come from the device's command-line flags or environment (which a file or patch does not
// change) and apply can refuse up front. apply sends that patch as one message: the device applies it
// whole or refuses it whole.
import { existsSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { ConfigError, readConfigFile, validateConfig } from '../config/load.js';
import { changedPaths, inSchemaOrder, isRemoteSettable, keyInfo, setPath } from '../config/keys.js';
import type { ConfigIssue } from '../config/errors.js';
import { redact, REDACTED } from '../lib/redact.js';
import { describeResult, effectiveConfig, request, withDevice } from './config-remote.js';
import { valueAt } from './config-typing.js';
import type { RemoteArgs, Target } from './remote-device.js';
import { EXIT_CONFIG, EXIT_REFUSED, EXIT_USAGE } from '../lib/exit-codes.js';

const out = (l: string) => {
  process.stdout.write(`${l}\n`);
};
const err = (l: string) => {
  process.stderr.write(`${l}\n`);
};
const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

/**
 * What the file would change on the device, in schema order: only keys the file sets (a site file names
 * what it tunes; the rest stays the device's). Secrets are left out (the device redacts them).
 */
export function siteChanges(device: unknown, fileDoc: Record<string, unknown>): Change[] {
  const wanted = redact(fileDoc);
  const secret = (p: string) => valueAt(device, p.split('.')) === REDACTED || valueAt(wanted, p.split('.')) === REDACTED;
  return inSchemaOrder(changedPaths(device, wanted))
    .filter((p) => valueAt(wanted, p.split('.')) !== undefined && !secret(p))
    .map((path) => ({ path, from: valueAt(device, path.split('.')), to: valueAt(wanted, path.split('.')) }));
}

/** The merge patch that makes each changed key the file's value (a map leaf's removed keys set to null). */
export function patchFor(changes: Change[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const c of changes) {
    let to = c.to;
    if (isObj(c.from) && isObj(c.to)) to = { ...Object.fromEntries(Object.keys(c.from).map((k) => [k, null])), ...c.to };
    setPath(patch, c.path.split('.'), to === undefined ? null : to);
  }
  return patch;
}

/** Changed keys no remote patch may set on this device (x-remote false and not in its remoteConfig.allow). */
export function localOnly(changes: Change[], device: unknown): string[] {
  const allow = valueAt(device, ['remoteConfig', 'allow']);
  const list = Array.isArray(allow) ? allow.filter((a): a is string => typeof a === 'string') : [];
  return changes.map((c) => c.path).filter((p) => !keyInfo(p) || !isRemoteSettable(p, list));
}

/** Why the device would not take each key, from its dry-run answer. */
function reasons(errors: ConfigIssue[]): Map<string, string> {
  return new Map(errors.map((e) => [e.path, e.message]));
}

/** The file's keys (migrated), after the whole file validated; an exit code when it does not. */
function readSite(file: string | undefined, cmd: string): Record<string, unknown> | number {
  if (!file || !existsSync(file)) {
    err(`percept config ${cmd}: name an existing YAML file, e.g. percept config ${cmd} site.yaml${file ? ` (${file} not found)` : ''}`);
    return EXIT_USAGE;
  }
  try {
    const doc = readConfigFile(file);
    validateConfig(doc, file);
    return doc;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`${e.message}\npercept config ${cmd}: nothing sent`);
    return EXIT_CONFIG;
  }
}

async function plan(client: MqttClient, t: Target, wanted: Record<string, unknown>, timeoutS: number) {
  const device = await effectiveConfig(client, t, timeoutS);
  const changes = siteChanges(device, wanted);
  const dry = changes.length ? await request(client, t, { ...patchFor(changes), dryRun: true }, timeoutS) : null;
  return { device, changes, why: reasons(dry?.errors ?? []), dry };
}

function printChanges(file: string, t: Target, changes: Change[], why: Map<string, string>): void {
  out(changes.length ? `${file} would change on device "${t.device}":` : `${file} would change nothing on device "${t.device}"`);
  for (const c of changes) {
    const note = why.get(c.path);
    const origin = note && /command-line flag/.test(note) ? 'from a command-line flag' : note && /environment/.test(note) ? 'from the environment' : null;
    const tail = origin ? `   (device value ${origin}: the file does not change it)` : note ? `   (${note})` : '';
    out(`  ${c.path}: ${show(c.from)} → ${show(c.to)}${tail}`);
  }
}

export async function configDiff(file: string | undefined, a: RemoteArgs): Promise<number> {
  const wanted = readSite(file, 'diff');
  if (typeof wanted === 'number') return wanted;
  return withDevice(a, async (client, t) => {
    const { changes, why } = await plan(client, t, wanted, a.timeout);
    printChanges(file!, t, changes, why);
    return 0;
  });
}

export async function configApply(file: string | undefined, a: RemoteArgs & { save?: boolean }): Promise<number> {
  const wanted = readSite(file, 'apply');
  if (typeof wanted === 'number') return wanted;
  return withDevice(a, async (client, t) => {
    const { device, changes, why, dry } = await plan(client, t, wanted, a.timeout);
    printChanges(file!, t, changes, why);
    if (!changes.length) return 0;
    // Refused whole: a key no patch may set is listed, never dropped from the patch and applied without it.
    const local = localOnly(changes, device);
    if (local.length || (dry && !dry.ok)) {
      err(`percept config apply: refused, nothing changed on device "${t.device}":`);
      for (const p of local) err(`  ${p}: local-only (set it in the device's own config file, then restart it)`);
      for (const e of dry?.errors ?? []) if (!local.includes(e.path)) err(`  ${e.path || '(root)'}: ${e.message}`);
      return EXIT_REFUSED;
    }
    return describeResult(await request(client, t, { ...patchFor(changes), save: a.save !== false }, a.timeout));
  });
}
