// The shared command rules (features/command-gate.ts): a token bucket on a fake monotonic clock, retained
// commands ignored and logged, request ids read without acting, answers bounded, refusal logs bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerQueue, CommandGate, requestIdOf, TokenBucket } from '../../agent/features/command-gate.js';
import type { Logger } from '../../agent/lib/logging.js';
import type { InboundHandler, Publisher } from '../../agent/publish/publisher.js';

function quietLog() {
  const lines: string[] = [];
  const log: Logger = { info: () => undefined, warn: (m: string) => lines.push(m), error: () => undefined, debug: () => undefined };
  return { log, lines };
}

test('token bucket: a burst at once, then the sustained rate; a hot change of the limit applies at once', () => {
  let t = 0;
  const limit = { perSecond: 2, burst: 5 };
  const b = new TokenBucket(
    () => limit,
    () => t,
  );
  let taken = 0;
  for (let i = 0; i < 100; i++) if (b.take()) taken++;
  assert.equal(taken, 5, 'the burst');
  assert.equal(b.wait(), 500, 'one token every 500 ms');
  t += 499;
  assert.equal(b.take(), false);
  t += 1;
  assert.equal(b.take(), true);
  t += 10_000;
  taken = 0;
  for (let i = 0; i < 100; i++) if (b.take()) taken++;
  assert.equal(taken, 5, 'a quiet spell refills only up to the burst');
  limit.perSecond = 100;
  t += 100;
  taken = 0;
  for (let i = 0; i < 100; i++) if (b.take()) taken++;
  assert.equal(taken, 5, 'new rate: 10 tokens in 100 ms, capped by the burst');
});

test('gate: retained commands are ignored, logged and counted; beyond the rate counted as limited', () => {
  let t = 0;
  const { log, lines } = quietLog();
  const gate = new CommandGate({ name: 'x/set', limit: () => ({ perSecond: 1, burst: 2 }), log, now: () => t });
  assert.equal(gate.admit(true), 'retained');
  assert.match(lines[0]!, /x\/set: a retained message is ignored/);
  assert.equal(gate.admit(false), 'accepted');
  assert.equal(gate.admit(false), 'accepted');
  assert.equal(gate.admit(false), 'limited');
  t += 1000;
  assert.equal(gate.admit(false), 'accepted');
  assert.deepEqual(gate.counts, { received: 5, accepted: 3, retainedIgnored: 1, limited: 1 });
  const state = new CommandGate({ name: 'ha/status', limit: () => ({ perSecond: 1, burst: 1 }), log, allowRetained: true, now: () => t });
  assert.equal(state.admit(true), 'accepted', 'a state topic takes its retained value');
});

test('gate.listen: the handler sees only accepted messages; limited ones go to onLimited', () => {
  let handler: InboundHandler | null = null;
  const publisher = { subscribe: (_t: string, h: InboundHandler) => (handler = h) } as unknown as Publisher;
  const { log } = quietLog();
  const gate = new CommandGate({ name: 'c/set', limit: () => ({ perSecond: 1, burst: 3 }), log, now: () => 0 });
  const got: string[] = [];
  const limited: string[] = [];
  gate.listen(
    publisher,
    'p/d/c/set',
    (p) => got.push(String(p)),
    (p) => limited.push(String(p)),
  );
  for (let i = 0; i < 10; i++) handler!('p/d/c/set', Buffer.from(String(i)), i === 0);
  assert.deepEqual(got, ['1', '2', '3']);
  assert.deepEqual(limited, ['4', '5', '6', '7', '8', '9']);
});

test('refusal log lines are bounded: 10 a minute, then one line counting the rest', () => {
  let t = 0;
  const { log, lines } = quietLog();
  const gate = new CommandGate({ name: 'c/set', limit: () => ({ perSecond: 1, burst: 1 }), log, now: () => t });
  for (let i = 0; i < 1000; i++) gate.warn(`line ${i}`);
  assert.equal(lines.length, 10);
  t += 60_000;
  gate.warn('next minute');
  assert.deepEqual(lines.slice(10), ['c/set: 990 similar line(s) not logged in the last minute', 'next minute']);
});

test('requestIdOf reads the id without acting, and never throws', () => {
  assert.equal(requestIdOf(Buffer.from('{"requestId":"r-1","detector":{}}'), 1000), 'r-1');
  assert.equal(requestIdOf(Buffer.from('{"detector":{}}'), 1000), null);
  assert.equal(requestIdOf(Buffer.from('{"requestId":5}'), 1000), null);
  assert.equal(requestIdOf(Buffer.from(`{"requestId":"${'x'.repeat(129)}"}`), 1000), null);
  assert.equal(requestIdOf(Buffer.from('{"requestId":"r"'), 1000), null);
  assert.equal(requestIdOf(Buffer.from('[1]'), 1000), null);
  assert.equal(requestIdOf(Buffer.from('{"__proto__":{"requestId":"p"}}'), 1000), null);
  assert.equal(requestIdOf(Buffer.from('{"requestId":"r-2"}'), 10), null, 'too large: not parsed');
});

test('answers: at most maxInFlight unacknowledged, the rest queued in order, beyond maxQueued dropped and counted', async () => {
  const pending: { payload: string; ack: () => void }[] = [];
  const sent: string[] = [];
  const q = new AnswerQueue(
    (payload) =>
      new Promise<void>((ack) => {
        sent.push(payload);
        pending.push({ payload, ack });
      }),
    () => undefined,
    4,
    10,
  );
  const pushed = Array.from({ length: 20 }, (_, i) => q.push(`a${i}`));
  assert.equal(pushed.filter(Boolean).length, 14, '4 in flight + 10 queued');
  assert.equal(q.dropped, 6);
  assert.equal(sent.length, 4);
  const drained = q.drained();
  while (pending.length) {
    pending.shift()!.ack();
    await new Promise((r) => setImmediate(r));
    assert.ok(pending.length <= 4);
  }
  await drained;
  assert.deepEqual(
    sent,
    Array.from({ length: 14 }, (_, i) => `a${i}`),
  );
});
