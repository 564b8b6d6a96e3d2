// The event sink and the MQTT publisher against a real mosquitto when the state on disk is hostile: bad
// outbox entries (the send loop must quarantine them and keep awaiting) and a full disk (a 12 KiB tmpfs:
// events held in memory, degraded reported, delivered, written back when space returns, no duplicate seq).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { EventSink } from '../../agent/publish/event-sink.js';
import { onlineStatus } from '../../agent/publish/status.js';
import { MqttPublisher } from '../../agent/publish/mqtt-publisher.js';
import { topics } from '../../agent/publish/payloads.js';
import type { EventPayload } from '../../agent/contract/payloads.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { assertEveryVisitLeft, visitEvent } from '../helpers/visit-events.js';
import { startPercept } from '../helpers/agent-process.js';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../../agent/capture/demo-clip.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { logLines } from '../helpers/log-lines.js';

const { log, lines } = logLines();
const ev = (type: EventPayload['type'], person = 'x') => visitEvent(type, person, 'faults', new Date().toISOString());

function makeSink(stateDir: string) {
  return new EventSink({
    stateDir,
    eventTopic: topics('percept', 'faults').event,
    maxEvents: 1000,
    maxAgeMs: 3600_000,
    memoryMax: 500,
    log,
    retryEveryMs: 200,
  });
}

function makePublisher(broker: Broker, sink: EventSink) {
  return new MqttPublisher(
    {
      url: broker.url,
      clientId: `faults-${Math.random().toString(36).slice(2)}`,
      username: '',
      password: '',
      passwordFile: '',
      protocolVersion: 4,
      prefix: 'percept',
      device: 'faults',
      birth: onlineStatus({ device: 'd', model: 'm', version: '0' }),
      tls: { ca: '', cert: '', key: '', rejectUnauthorized: true },
      reconnectMinMs: 200,
      reconnectMaxMs: 500,
    },
    sink,
    log,
  );
}

async function subscriber(broker: Broker, seqs: number[]) {
  const client = await mqtt.connectAsync(broker.url, {
    clientId: `sub-${Math.random().toString(36).slice(2)}`,
    clean: false,
    reconnectPeriod: 200,
  });
  client.on('message', (_t, p) => seqs.push(JSON.parse(String(p)).seq as number));
  await client.subscribeAsync('percept/faults/events/#', { qos: 1 });
  return client;
}

test('bad outbox entries met while sending are quarantined, the rest delivered, and the event loop stays responsive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'percept-faults-'));
  const broker = await startMosquitto();
  const seen: number[] = [];
  const sub = await subscriber(broker, seen);
  const sink = makeSink(dir);
  for (let i = 0; i < 8; i++) sink.emit(ev('entered', `p${i}`));
  // They go bad after the sink loaded them: garbage, a directory in place of an entry, no topic.
  const ob = join(dir, 'outbox');
  const name = (seq: number) => join(ob, `${String(seq).padStart(20, '0')}.json`);
  writeFileSync(name(2), '\u0000\u0001garbage');
  unlinkSync(name(4));
  mkdirSync(name(4));
  writeFileSync(name(6), JSON.stringify({ payload: '{"seq":6}' }));
  let ticks = 0;
  const ticker = setInterval(() => {
    ticks++;
  }, 10);
  const pub = makePublisher(broker, sink);
  try {
    await pub.start();
    await waitFor(() => seen.length >= 5, 20_000, 'the good entries');
    assert.deepEqual(seen, [1, 3, 5, 7, 8]);
    assert.equal(sink.stats().quarantined, 3);
    assert.deepEqual(readdirSync(ob), ['quarantine']);
    assert.equal(readdirSync(join(ob, 'quarantine')).length, 3);
    assert.ok(ticks >= 3, `the event loop kept turning while sending (${ticks} ticks)`);
    assert.equal(sink.emit(ev('left', 'p9')).seq, 9, 'quarantined seqs are not reused');
    await waitFor(() => seen.includes(9), 10_000, 'a new event after the bad ones');
  } finally {
    clearInterval(ticker);
    await pub.stop('test');
    sink.close();
    await sub.endAsync();
    await broker.stop();
  }
});

test('disk full (12 KiB tmpfs): the sink keeps going, degraded is reported, events are delivered from memory and written back when space returns; no gap, no duplicate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'percept-enospc-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', dir]);
  } catch (err) {
    // Only where mounting is impossible (not root, no CAP_SYS_ADMIN); the unit tests cover ENOSPC with an fs facade.
    t.diagnostic(`cannot mount a tmpfs here: ${(err as Error).message}`);
    return;
  }
  let broker = await startMosquitto('', { persistence: true });
  const seen: number[] = [];
  const sub = await subscriber(broker, seen);
  let sink: EventSink | null = null;
  let pub: MqttPublisher | null = null;
  try {
    sink = makeSink(dir);
    sink.start();
    pub = makePublisher(broker, sink);
    await pub.start();
    await broker.stop(); // the broker is down while the disk fills
    let n = 0;
    while (!sink.degraded && n < 200) sink.emit(ev('entered', `p${n++}`));
    assert.match(sink.degraded ?? '', /ENOSPC/, 'degraded with the reason');
    for (let i = 0; i < 10; i++) sink.emit(ev('updated', `q${i}`));
    n += 10;
    assert.ok(sink.stats().inMemory >= 10, `held in memory: ${sink.stats().inMemory}`);
    broker = await startMosquitto('', { port: broker.port, dir: broker.dir, persistence: true });
    await waitFor(() => seen.length >= n, 30_000, `all ${n} events delivered, from disk and from memory`);
    // Delivered entries freed their blocks: fill the disk again, then more events with the broker up go straight from memory.
    try {
      for (;;) appendFileSync(join(dir, 'ballast'), Buffer.alloc(1024));
    } catch {
      /* ENOSPC: full */
    }
    for (let i = 0; i < 5; i++) sink.emit(ev('updated', `r${i}`));
    n += 5;
    assert.match(sink.degraded ?? '', /ENOSPC/, 'degraded again');
    await waitFor(() => seen.length >= n, 30_000, 'events emitted on a full disk');
    // Space returns: the retry timer writes what is held, and degraded clears.
    await pub.stop('test'); // broker gone for the next ones: they must be on disk
    pub = null;
    execFileSync('mount', ['-o', 'remount,size=1m', dir]);
    for (let i = 0; i < 5; i++) sink.emit(ev('left', `s${i}`));
    n += 5;
    await waitFor(() => sink!.degraded === null, 10_000, 'degraded to clear');
    assert.equal(sink.stats().inMemory, 0);
    assert.equal(readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.json')).length, 5, 'the last five on disk');
    pub = makePublisher(broker, sink);
    await pub.start();
    await waitFor(() => seen.length >= n, 30_000, 'the last events');
    await sleep(300);
    assert.equal(new Set(seen).size, seen.length, `no duplicate seq: ${seen}`);
    assert.deepEqual(
      seen,
      seen.map((_, i) => i + 1),
      'contiguous and in order',
    );
    assert.equal(sink.stats().dropped, 0, 'nothing that fits was lost');
    assert.match(lines.join('\n'), /^warn: .*cannot write the outbox .*ENOSPC/m);
    assert.match(lines.join('\n'), /^warn: .*writable again/m);
  } finally {
    await pub?.stop('test');
    sink?.close();
    await sub.endAsync();
    await broker.stop();
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('percept run with its state directory on a full disk (12 KiB tmpfs): exits 0 at the end of the clip, every visit entered and left, seqs contiguous', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'percept-enospc-run-'));
  const clip = makeClip(await loadOpenCV(), join(mkdtempSync(join(tmpdir(), 'percept-clip-')), 'clip.avi')).path;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', dir]);
  } catch (err) {
    t.diagnostic(`cannot mount a tmpfs here: ${(err as Error).message}`);
    return;
  }
  const broker = await startMosquitto();
  const client = await mqtt.connectAsync(broker.url, { clientId: `sub-${Math.random().toString(36).slice(2)}` });
  const events: { seq: number; type: string; person: string }[] = [];
  client.on('message', (_t, p) => events.push(JSON.parse(String(p))));
  await client.subscribeAsync('percept/full/events/#', { qos: 1 });
  try {
    const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', 'full', '--state-dir', dir, '--exit-on-eof'], {
      PERCEPT_LOG_FORMAT: 'pretty',
    });
    await agent.waitFor(/connected to/, 120_000);
    // The disk fills up under the running agent.
    let filled = 0;
    try {
      for (;;) {
        appendFileSync(join(dir, 'ballast'), Buffer.alloc(1024));
        filled++;
      }
    } catch {
      /* ENOSPC: full */
    }
    assert.ok(filled >= 1, 'some space was left to fill');
    const res = { code: await agent.exited, stderr: agent.stderr() };
    await sleep(300);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /ENOSPC/, 'the full disk is reported');
    assert.ok(events.length >= 4, `events: ${events.length}`);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'contiguous, in order, no duplicate',
    );
    assertEveryVisitLeft(events);
  } finally {
    await client.endAsync();
    await broker.stop();
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
