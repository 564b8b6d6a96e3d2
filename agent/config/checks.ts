// Checks the schema cannot express, run wherever a config is accepted (start, `config validate`, remote
// patches, SIGHUP), so that a value which would fail at run time is a config error (exit 78) naming the
// key and the fix, never a crash later: time zones, day lists, URLs, min ≤ max pairs, the allow list;
// and, for a config about to run, the files and directories it names.
import { statSync } from 'node:fs';
import type { ConfigIssue } from './errors.js';
import { isSection, keyInfo, NEVER_REMOTE } from './keys.js';
import { isLoopbackHost } from '../lib/loopback.js';
import type { Config } from './schema.js';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FULL_DAY = /^(sun|mon|tue|wed|thu|fri|sat)[a-z]*$/;

function dayNumber(name: string): number {
  const m = FULL_DAY.exec(name);
  const full = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
  const i = m ? DAY_NAMES.indexOf(m[1]!) : -1;
  // "mon" or "monday", nothing in between or beyond ("monkey" is not a day).
  if (i < 0 || (name.length > 3 && name !== full[i])) throw new Error(`"${name}" is not a day`);
  return i;
}

/** "mon-fri", "sat,sun", "daily" → weekday numbers (0 = Sunday). Throws on anything else. */
export function parseDays(spec: string): Set<number> {
  const out = new Set<number>();
  for (const part of spec
    .toLowerCase()
    .split(',')
    .map((p) => p.trim())) {
    if (part === 'daily' || part === '*') {
      for (let d = 0; d < 7; d++) out.add(d);
      continue;
    }
    // split yields at least one element; an empty one is "not a day" like any other.
    const [first = '', last, ...more] = part.split('-').map((x) => x.trim());
    if (more.length) throw new Error(`"${part}" is not a day or a range`);
    const a = dayNumber(first);
    if (last === undefined) {
      out.add(a);
      continue;
    }
    const b = dayNumber(last);
    for (let d = a; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === b) break;
    }
  }
  return out;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:'];

/** The preview's rule the schema cannot state: loopback only, unless explicitly allowed. */
export function previewIssues(c: Config): ConfigIssue[] {
  const p = c.preview;
  if (!p.enabled || p.allowNonLoopback || isLoopbackHost(p.host)) return [];
  return [
    {
      path: 'preview.host',
      message:
        `"${p.host}" is not a loopback address: the camera would be visible to that network, unauthenticated. ` +
        'Use 127.0.0.1 and reach it with "ssh -L", or set preview.allowNonLoopback: true if you really mean it',
    },
  ];
}

function timeZoneIssues(c: Config): ConfigIssue[] {
  if (isTimeZone(c.schedule.timezone)) return [];
  return [{ path: 'schedule.timezone', message: `"${c.schedule.timezone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)` }];
}

function openingDayIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  c.schedule.openingHours.forEach((rule, i) => {
    try {
      parseDays(rule.days);
    } catch (err) {
      issues.push({
        path: `schedule.openingHours.${i}.days`,
        message: `${(err as Error).message}: use mon…sun, ranges (mon-fri), lists (sat,sun) or daily`,
      });
    }
  });
  return issues;
}

function mqttUrlIssues(c: Config): ConfigIssue[] {
  if (!c.mqtt.url) return [];
  let url: URL | null = null;
  try {
    if (c.mqtt.url.includes('://')) url = new URL(c.mqtt.url);
  } catch {
    /* reported below */
  }
  if (!url)
    return [
      {
        path: 'mqtt.url',
        message: 'is not a URL (e.g. mqtt://broker.local:1883, mqtts://…, ws://…); empty starts an embedded broker',
      },
    ];
  if (!MQTT_PROTOCOLS.includes(url.protocol))
    return [{ path: 'mqtt.url', message: `${url.protocol}// is not an MQTT transport: use mqtt://, mqtts://, ws:// or wss://` }];
  if (!url.hostname) return [{ path: 'mqtt.url', message: 'names no host' }];
  return [];
}

function sourceUrlIssues(c: Config): ConfigIssue[] {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(c.source.uri);
  if (!scheme) return [];
  try {
    new URL(c.source.uri);
    return [];
  } catch {
    return [{ path: 'source.uri', message: `is not a valid ${scheme[1]} URL` }];
  }
}

function reconnectIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [section, s] of [
    ['source', c.source],
    ['mqtt', c.mqtt],
  ] as const) {
    if (s.reconnectMinMs > s.reconnectMaxMs)
      issues.push({ path: `${section}.reconnectMinMs`, message: `must be at most ${section}.reconnectMaxMs (${s.reconnectMaxMs})` });
  }
  return issues;
}

function allowListIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  c.remoteConfig.allow.forEach((entry, i) => {
    const path = `remoteConfig.allow.${i}`;
    if (entry === NEVER_REMOTE || entry.startsWith(`${NEVER_REMOTE}.`))
      issues.push({ path, message: `"${entry}": remoteConfig keys can only be set in the local file` });
    else if (!keyInfo(entry) && !isSection(entry)) issues.push({ path, message: `"${entry}" is not a config key (e.g. mqtt.url, mqtt.tls, detector.model)` });
  });
  return issues;
}

const VALUE_CHECKS = [timeZoneIssues, openingDayIssues, mqttUrlIssues, sourceUrlIssues, reconnectIssues, allowListIssues, previewIssues];

/**
 * Value checks: no file system, so they run on every remote patch too. They may also run on a config that
 * failed its schema (so that one pass reports every problem): a check that trips over a value of the
 * wrong type throws, and is skipped — the schema error already names that key.
 */
export function valueIssues(c: Config): ConfigIssue[] {
  return VALUE_CHECKS.flatMap((check) => {
    try {
      return check(c);
    } catch {
      return [];
    }
  });
}

function mustBe(path: string, file: string, kind: 'file' | 'directory'): ConfigIssue | null {
  try {
    const st = statSync(file);
    if (kind === 'directory' ? st.isDirectory() : st.isFile()) return null;
    return { path, message: `${file} is not a ${kind}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { path, message: code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? (err as Error).message})` };
  }
}

/**
 * Run-time checks: what `percept run` needs to exist before it starts. With `waitable`, what the agent
 * waits for instead of refusing to start (no source yet; a model directory not there yet, e.g. a volume
 * mounted late) is left out: waitIssues() lists those.
 */
export function runIssues(c: Config, opts: { waitable?: boolean } = {}): ConfigIssue[] {
  const all = allRunIssues(c);
  if (!opts.waitable) return all;
  const wait = new Set(waitIssues(c).map((i) => i.path));
  return all.filter((i) => !wait.has(i.path));
}

/** What `percept run` starts without and waits for: a missing source and missing model directories. */
export function waitIssues(c: Config): ConfigIssue[] {
  const missing = (p: string) => {
    try {
      statSync(p);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  };
  return allRunIssues(c)
    .filter((i) => i.path === 'source.uri' || ((i.path === 'detector.model' || i.path.startsWith('classifier.models.')) && missing(modelPath(c, i.path))))
    .map((i) => ({ path: i.path, message: `${i.message} (percept run starts and waits for it)` }));
}

function modelPath(c: Config, path: string): string {
  return path === 'detector.model' ? c.detector.model : (c.classifier.models[Number(path.split('.')[2])] ?? '');
}

function allRunIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // typeof: this also runs on a config that failed its schema (one-pass validation).
  if (typeof c.source.uri !== 'string' || !c.source.uri.trim()) {
    issues.push({
      path: 'source.uri',
      message: 'no source: set source.uri (a video file, /dev/videoN, rtsp://…, gst:<pipeline> or a folder of images) or pass --source',
    });
  }
  const paths: [string, string, 'file' | 'directory'][] = [
    ['detector.model', c.detector.model, 'directory'],
    ...c.classifier.models.map((m, i): [string, string, 'directory'] => [`classifier.models.${i}`, m, 'directory']),
    ['mqtt.passwordFile', c.mqtt.passwordFile, 'file'],
    ['mqtt.tls.ca', c.mqtt.tls.ca, 'file'],
    ['mqtt.tls.cert', c.mqtt.tls.cert, 'file'],
    ['mqtt.tls.key', c.mqtt.tls.key, 'file'],
  ];
  for (const [path, file, kind] of paths) {
    const issue = file ? mustBe(path, file, kind) : null;
    if (issue) issues.push(issue);
  }
  return issues;
}
