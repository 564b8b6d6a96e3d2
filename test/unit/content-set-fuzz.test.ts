// Fuzzing the second command topic, {root}/content/set (config/set is in config-fuzz.test.ts): 1,500
// generated and byte-mutated payloads into the impressions feature. Each is either a valid play change
// (applied: the open play ends with one record) or refused with a log line; nothing throws, no record is
// ever malformed, and a retained message never changes anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ImpressionsFeature } from '../../agent/features/impressions.js';
import { CommandGate } from '../../agent/features/command-gate.js';
import { createBus } from '../../agent/features/events.js';
import { defaults } from '../../agent/config/load.js';
import { deviceTopics } from '../../agent/contract/topics.js';
import { ImpressionSchema } from '../../agent/contract/payloads.js';
import type { FeatureContext } from '../../agent/features/feature.js';
import type { Publisher } from '../../agent/publish/publisher.js';
import type { Logger } from '../../agent/lib/logging.js';
import { pick, rng } from '../helpers/rng.js';

FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)));

const SEEDS = ['{"id":"ad-1"}', '{"id":"ad-2","name":"Spring sale"}', '{"id":null}', '{"id":"x","name":""}'];
const ODD = [
  '',
  'null',
  '[]',
  '{}',
  '{"id":5}',
  '{"id":""}',
  '{"id":"a","extra":1}',
  '{"name":"n"}',
  `{"id":"${'x'.repeat(200)}"}`,
  '{"id":"a","name":7}',
  '{"__proto__":{"id":"p"}}',
  '"ad-1"',
  '{"id":"ad-1"',
  '\u0000',
  '{"id":"ad\u0000"}',
  '{"id":null,"name":"x"}',
];

function mutate(r: () => number, s: string): string {
  const chars = [...s];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    if (op < 0.33) chars.splice(at, 1);
    else if (op < 0.66) chars.splice(at, 0, String.fromCharCode(Math.floor(r() * 128)));
    else chars.splice(at, 1, pick(r, ['"', '{', '}', ':', ',', 'null', '1', ' ']));
  }
  return chars.join('');
}

test('content/set: 1,500 generated and mutated payloads — applied whole or refused with a reason, never a throw', () => {
  const warnings: string[] = [];
  const log: Logger = { info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined, debug: () => undefined };
  const records: object[] = [];
  const publisher = { subscribe: () => () => undefined } as unknown as Publisher;
  const bus = createBus((name, err) => {
    throw new Error(`${name}: ${err.message}`);
  });
  const ctx: FeatureContext = {
    bus,
    publisher,
    config: defaults(),
    topics: deviceTopics('percept', 'fuzz'),
    device: 'fuzz',
    stateDir: '/nonexistent',
    version: 't',
    model: 'm',
    log: () => log,
    records: { publish: (_topic, payload) => records.push(payload) },
  };
  // The rate limit is not what this test is about (content-flood.test.ts is): a fake clock gives every
  // message its token, and every refusal its log line.
  let t = 0;
  const gate = new CommandGate({ name: 'content/set', limit: () => ({ perSecond: 1, burst: 1 }), log, now: () => (t += 1000), logsPerMinute: Infinity });
  const feature = new ImpressionsFeature(ctx, () => new Date(), gate);
  feature.start();
  const r = rng(20261128);
  let applied = 0;
  let refused = 0;
  for (let i = 0; i < 1500; i++) {
    const text = i < 300 ? pick(r, [...SEEDS, ...ODD]) : mutate(r, pick(r, [...SEEDS, ...ODD]));
    const retained = r() < 0.05;
    const before = { warnings: warnings.length, records: records.length };
    assert.doesNotThrow(() => feature.onContentSet(Buffer.from(text), retained), `payload ${JSON.stringify(text)}`);
    let valid = false;
    try {
      const body = JSON.parse(text) as { id?: unknown };
      valid =
        typeof body === 'object' &&
        body !== null &&
        !Array.isArray(body) &&
        (body.id === null || (typeof body.id === 'string' && body.id.length > 0 && body.id.length <= 128)) &&
        Object.keys(body).every((k) => k === 'id' || k === 'name') &&
        (!('name' in body) || (typeof (body as { name?: unknown }).name === 'string' && (body as { name: string }).name.length <= 256));
    } catch {
      /* not JSON */
    }
    if (retained || !valid) {
      assert.equal(warnings.length, before.warnings + 1, `refused with one log line: ${JSON.stringify(text)} (retained ${retained})`);
      assert.equal(records.length, before.records, 'a refused message changes nothing');
      refused++;
    } else {
      assert.equal(warnings.length, before.warnings, `accepted without a warning: ${JSON.stringify(text)}`);
      applied++;
    }
  }
  feature.stop();
  assert.ok(applied > 100 && refused > 300, `applied ${applied}, refused ${refused}`);
  assert.ok(records.length > 50, `plays ended: ${records.length}`);
  for (const rec of records) assert.ok(Value.Check(ImpressionSchema, rec), `a record matches its schema: ${JSON.stringify(rec)}`);
});
