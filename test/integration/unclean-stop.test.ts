// After a SIGKILL no subscriber keeps a phantom visitor: the next start publishes a fresh (empty)
// audience and ends every visit the crash left open with a `left` marked recovered — seq contiguous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { runPercept, startPercept } from '../helpers/agent-process.js';
import { flush } from '../helpers/mqtt-flush.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

interface Ev {
  seq: number;
  type: string;
  person: string;
  recovered?: boolean;
  dwellMs: number;
  ts: string;
}

test('visits open at a SIGKILL end with a recovered "left" at the next start; the retained audience is fresh', async () => {
  const work = tempDir('percept-unclean-');
  const clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  const broker = await startMosquitto();
  const seen: { topic: string; payload: string }[] = [];
  const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  sub.on('message', (topic, p) => seen.push({ topic, payload: String(p) }));
  await sub.subscribeAsync('percept/unclean/#', { qos: 1 });
  const state = join(work, 'state');
  const args = ['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', 'unclean', '--state-dir', state];
  const events = () => seen.filter((m) => m.topic.startsWith('percept/unclean/events/')).map((m) => JSON.parse(m.payload) as Ev);
  const agent = startPercept(args);
  let killedAt: number;
  try {
    // Wait until someone is present (entered, not left) — then crash.
    const present = () => {
      const ev = events();
      return ev.some((e) => e.type === 'entered' && !ev.some((l) => l.type === 'left' && l.person === e.person));
    };
    await waitFor(present, 180_000, 'someone to enter', { detail: () => `stderr:\n${agent.stderr()}` });
  } finally {
    killedAt = Date.now();
    agent.child.kill('SIGKILL');
  }
  await agent.exited;
  await flush(sub);
  const before = events();
  const openAtKill = before.filter((e) => e.type === 'entered' && !before.some((l) => l.type === 'left' && l.person === e.person)).map((e) => e.person);
  assert.ok(openAtKill.length >= 1);
  const audienceBefore = seen.filter((m) => m.topic === 'percept/unclean/audience').length;

  const res = await runPercept([...args, '--exit-on-eof'], {});
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /visit\(s\) left open by an unclean stop ended now/);
  await flush(sub);
  await sub.endAsync();
  await broker.stop();

  const after = events().slice(before.length);
  const recovered = after.filter((e) => e.recovered);
  assert.deepEqual(recovered.map((e) => e.person).sort(), [...openAtKill].sort(), 'each visit open at the kill ends, recovered');
  assert.ok(recovered.every((e) => e.type === 'left' && e.dwellMs >= 0));
  // The recovered ends come before anything of the new run. (Events the crash left undelivered in the
  // outbox may arrive first: they are older, from before the kill.)
  const minRecovered = Math.min(...recovered.map((e) => e.seq));
  for (const e of after.filter((x) => !x.recovered)) {
    if (e.seq < minRecovered) assert.ok(Date.parse(e.ts) <= killedAt, `seq ${e.seq} before the recovered ends is from before the kill`);
    else assert.ok(Date.parse(e.ts) > killedAt, `seq ${e.seq} after the recovered ends is from the new run`);
  }
  const seqs = [...new Map(events().map((e) => [e.seq, e])).keys()].sort((a, b) => a - b);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i + 1),
    'seq contiguous across the crash',
  );
  // The first snapshot of the new run is empty: no phantom from the crash.
  const firstNew = JSON.parse(seen.filter((m) => m.topic === 'percept/unclean/audience')[audienceBefore]!.payload) as { count: number };
  assert.equal(firstNew.count, 0);
  const validate = wireValidator('percept');
  assert.deepEqual(
    seen.flatMap((m) => validate(m.topic, m.payload)),
    [],
  );
});
