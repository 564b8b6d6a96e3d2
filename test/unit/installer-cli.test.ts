// The installer's commands, their pure parts: KEY=VALUE typing by the schema, config diff lines, the
// watch screen at 80 columns, unknown PERCEPT_* variables, the preview's loopback rule, and the audience
// snapshot's confidences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../agent/lib/package-root.js';
import { patchFromPairs } from '../../agent/cli/config-typing.js';
import { describeResult, diffLines } from '../../agent/cli/config-remote.js';
import { emptyState, frame, reduce, render, formatDwell } from '../../agent/cli/watch-view.js';
import { envWarnings, unknownEnvVars } from '../../agent/config/env-check.js';
import { checkPreviewConfig, isLoopback } from '../../agent/features/preview.js';
import { ConfigError, defaults, validateConfig } from '../../agent/config/load.js';
import { audiencePayload } from '../../agent/publish/audience.js';
import type { EventPayload } from '../../agent/contract/payloads.js';

test('config set: values are typed by the schema', () => {
  const { patch, errors } = patchFromPairs([
    'detector.minFacePx=32',
    'detector.scoreThreshold=0.65',
    'source.loop=false',
    'inference.providers=cuda,cpu',
    'mqtt.protocolVersion=5',
    'log.level=debug',
    'log.namespaces={"detect":"debug"}',
    'device.id=null',
  ]);
  assert.deepEqual(errors, []);
  assert.deepEqual(patch, {
    detector: { minFacePx: 32, scoreThreshold: 0.65 },
    source: { loop: false },
    inference: { providers: ['cuda', 'cpu'] },
    mqtt: { protocolVersion: 5 },
    log: { level: 'debug', namespaces: { detect: 'debug' } },
    device: { id: null },
  });
});

test('config set: wrong types, unknown keys, sections and bounds are refused with the key named', () => {
  const wrong = patchFromPairs(['detector.minFacePx=big', 'source.loop=maybe', 'detector.maxFaces=2.5', 'detector.minFacePxx=3', 'detector=1', 'novalue']);
  assert.deepEqual(
    wrong.errors.map((e) => e.path),
    ['detector.minFacePx', 'source.loop', 'detector.maxFaces', 'detector.minFacePxx', 'detector', 'novalue'],
  );
  assert.match(wrong.errors[0]!.message, /must be a number, got "big"/);
  assert.match(wrong.errors[3]!.message, /unknown key/);
  const bounds = patchFromPairs(['detector.scoreThreshold=1.5', 'log.level=loud']);
  assert.deepEqual(bounds.errors.map((e) => e.path).sort(), ['detector.scoreThreshold', 'log.level']);
});

test('config set: the device answer decides the exit code and what is printed', () => {
  const lines: string[] = [];
  const print = (l: string) => lines.push(l);
  assert.equal(describeResult({ requestId: 'r', ok: true, errors: [], applied: ['detector.minFacePx'], restartRequired: ['mqtt.url'] }, print, print), 0);
  assert.deepEqual(lines, ['applied now: detector.minFacePx', 'needs a restart to take effect: mqtt.url (e.g. systemctl restart percept)']);
  lines.length = 0;
  assert.equal(
    describeResult(
      { requestId: 'r', ok: false, errors: [{ path: 'mqtt.url', message: 'not settable remotely' }], applied: [], restartRequired: [] },
      print,
      print,
    ),
    1,
  );
  assert.deepEqual(lines, ['refused by the device, nothing changed:', '  mqtt.url: not settable remotely']);
});

test('config diff: leaf paths old → new, secrets left out', () => {
  const device = { ...defaults(), mqtt: { ...defaults().mqtt, password: '***' } };
  const wanted = validateConfig({ detector: { minFacePx: 32 }, classifier: { models: ['/opt/m'] }, mqtt: { password: 'secret' } }, 'f');
  assert.deepEqual(diffLines(device, wanted), ['detector.minFacePx: 20 → 32', 'classifier.models: [] → ["/opt/m"]']);
});

const ev = (seq: number, type: EventPayload['type'], person: string, ts: string): EventPayload =>
  ({
    schema: 1,
    seq,
    type,
    ts,
    device: 'kiosk',
    person,
    firstSeen: ts,
    dwellMs: type === 'left' ? 12_400 : 0,
    box: { x: 0.1, y: 0.1, w: 0.2, h: 0.3 },
    gender: { label: 'female', p: 0.9, probs: {} },
    age: { label: '60-69', p: 0.5, probs: {} },
    emotion: { label: 'happy', p: 0.7, probs: {} },
    samples: 3,
    model: 'face-api',
  }) as EventPayload;

test('watch: the screen fits 80 columns and shows status, stats, people with dwell and the last events', () => {
  const t0 = Date.parse('2026-11-28T10:00:00Z');
  let s = emptyState('kiosk-lobby', 'mqtt://127.0.0.1:1883');
  const empty = render(s, t0);
  assert.match(empty.join('\n'), /no status yet/);
  assert.match(empty.join('\n'), /broker {3}connecting/);
  s = { ...s, broker: 'connected' };
  s = reduce(
    s,
    'status',
    {
      state: 'online',
      version: '0.3.0',
      model: 'face-api-ssd-mobilenetv1 + face-api-age-gender + face-api-expression',
      startedAt: '2026-11-28T09:00:00Z',
      camera: 'ok',
    },
    t0,
  );
  s = reduce(
    s,
    'stats',
    {
      fps: 9.84,
      stages: {
        detect: { meanMs: 41, p50Ms: 40.2 },
        classify: { meanMs: 120, p50Ms: 118 },
        track: { meanMs: 0.3, p50Ms: 0.25 },
        publish: { meanMs: 1, p50Ms: 0.9 },
      },
    },
    t0 - 3000,
  );
  const person = '3f2a91c0-1111-4222-8333-444455556666';
  s = reduce(
    s,
    'audience',
    {
      schema: 1,
      ts: '2026-11-28T09:59:58Z',
      device: 'kiosk',
      count: 1,
      histograms: { age: {}, gender: {}, emotion: {} },
      people: [
        {
          person,
          firstSeen: '2026-11-28T09:59:50Z',
          dwellMs: 8000,
          gender: 'female',
          age: '60-69',
          emotion: 'happy',
          confidence: { gender: 0.91, age: 0.47, emotion: 0.72 },
        },
      ],
    },
    t0 - 2000,
  );
  for (let i = 1; i <= 10; i++)
    s = reduce(s, 'event', ev(i, i % 2 ? 'entered' : 'left', `${i}0000000-aaaa-4bbb-8ccc-dddddddddddd`, '2026-11-28T09:59:5' + (i % 10) + 'Z'), t0);
  s = reduce(s, 'event', ev(10, 'left', 'dup', '2026-11-28T09:59:59Z'), t0); // a QoS 1 duplicate
  const lines = render(s, t0, 80);
  for (const l of lines) assert.ok(l.length <= 80, `${l.length} columns: ${l}`);
  const screen = lines.join('\n');
  assert.match(screen, /status {3}online {2}v0\.3\.0 {2}camera ok/);
  assert.match(screen, /fps {2}9\.8 {2}detect 40 {2}classify 118 {2}track 0\.3 {2}publish 0\.9 ms p50 {2}\(3s ago\)/);
  assert.match(screen, /people {3}1\n {2}3f2a91c0 {2}10s {5}female 0\.91 {2}60-69 0\.47 {2}happy 0\.72/);
  const events = lines.filter((l) => /^ {2}\d\d:\d\d:\d\d #/.test(l));
  assert.equal(events.length, 8, 'the last 8 events');
  assert.match(events[0]!, /#10 {4}left {4}10000000 {2}female 60-69 happy/);
  assert.match(events[0]!, /after 12s$/);
  assert.doesNotMatch(screen, /dup|broker/);
  assert.equal(
    render(reduce(s, 'status', { state: 'offline' }, t0), t0).some((l) => l.startsWith('status   OFFLINE')),
    true,
  );
  const ansi = frame(lines);
  assert.ok(ansi.startsWith('\x1b[H') && ansi.endsWith('\x1b[J'), 'redrawn in place: cursor home, clear to the end');
  assert.equal(formatDwell(3_725_000), '1h02m');
});

test('watch prints forged control characters from the broker as escapes, never raw', () => {
  const t0 = Date.parse('2026-11-28T10:00:00Z');
  let s = emptyState('kiosk-1', 'mqtt://localhost');
  s = reduce(s, 'status', { state: 'offline', reason: 'gone\x1b[2J\x1b[Hstatus   online' }, t0);
  s = reduce(s, 'event', { seq: 1, type: 'entered', person: 'p\r\x9bX', ts: '2026-11-28T09:59:59Z', gender: { label: 'male\u2028' } }, t0);
  const screen = render(s, t0, 120).join('\n');
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(screen, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]/, 'no control character reaches the terminal');
  assert.match(screen, /OFFLINE \(gone\\x1b\[2J\\x1b\[Hstatus {3}online\)/);
});

test('unknown PERCEPT_* variables are warned about, with the likely key', () => {
  const env = {
    PERCEPT_DETECTOR_MIN_FACEPX: '3',
    PERCEPT_DETECTOR_MIN_FACE_PX: '3',
    PERCEPT_MODEL_MIRROR: '/m',
    PERCEPT_WHATEVER: 'x',
    HOME: '/root',
  };
  assert.deepEqual(unknownEnvVars(env), [{ name: 'PERCEPT_DETECTOR_MIN_FACEPX', suggestion: 'PERCEPT_DETECTOR_MIN_FACE_PX' }, { name: 'PERCEPT_WHATEVER' }]);
  assert.match(envWarnings(env)[0]!, /PERCEPT_DETECTOR_MIN_FACEPX names no config key.*did you mean PERCEPT_DETECTOR_MIN_FACE_PX/);
});

test('preview: a non-loopback host is a config error naming the fix, unless explicitly allowed', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '192.168.1.5', '::', 'kiosk.lan']) assert.ok(!isLoopback(h), h);
  const c = validateConfig({ preview: { enabled: true, host: '0.0.0.0' } }, 't');
  assert.throws(
    () => checkPreviewConfig(c),
    (err: unknown) => err instanceof ConfigError && err.issues[0]!.path === 'preview.host' && /allowNonLoopback: true/.test(err.message),
  );
  checkPreviewConfig(validateConfig({ preview: { enabled: true, host: '0.0.0.0', allowNonLoopback: true } }, 't'));
  checkPreviewConfig(validateConfig({ preview: { enabled: false, host: '0.0.0.0' } }, 't'));
});

test('audience: each person carries the fused probability of each published label, when known', () => {
  const box = { x: 0, y: 0, w: 10, h: 10 };
  const people = [
    { person: 'a', firstSeen: 0, box, labels: { gender: 'female', age: '30-39' }, confidence: { gender: 0.9123, age: 0.41, emotion: 0.5 } },
    { person: 'b', firstSeen: 0, box, labels: {} },
  ];
  const p = audiencePayload(people, 1000, 'kiosk');
  assert.deepEqual(p.people[0]!.confidence, { gender: 0.912, age: 0.41 }, 'only for labels it publishes');
  assert.equal(p.people[1]!.confidence, undefined);
});

test('install.sh and package-deb.sh --help print their usage text, not the script', () => {
  for (const script of ['systemd/install.sh', 'scripts/package-deb.sh']) {
    const out = execFileSync('bash', [join(PACKAGE_ROOT, script), '--help'], { encoding: 'utf8' });
    assert.match(out, new RegExp(script.replace('.', '\\.')));
    assert.doesNotMatch(out, /set -euo|^#/m, `${script} --help`);
  }
});
