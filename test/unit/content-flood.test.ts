// content/set through the impressions feature and the daily summary, in process with a fake clock for the
// rate limit: hostile ids ("__proto__", "constructor", …) are contents like any other and never reach
// Object.prototype (also after the summary's round trip through the disk); a flood merges plays and
// counts every one; byContent stays bounded with the rest in otherContent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { ImpressionsFeature } from '../../agent/features/impressions.js';
import { CommandGate, type CommandLimit } from '../../agent/features/command-gate.js';
import { createBus } from '../../agent/features/events.js';
import { SummaryBook } from '../../agent/features/schedule.js';
import { MAX_CONTENT_IDS } from '../../agent/features/content-totals.js';
import { SummaryStore } from '../../agent/publish/summary-store.js';
import { defaults } from '../../agent/config/load.js';
import { deviceTopics } from '../../agent/contract/topics.js';
import { DailySummarySchema, type ImpressionPayload } from '../../agent/contract/payloads.js';
import type { FeatureContext } from '../../agent/features/feature.js';
import type { Publisher } from '../../agent/publish/publisher.js';
import type { Logger } from '../../agent/lib/logging.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';
// The formats (date-time) the contract check registers, as at publish.
import '../../agent/publish/contract-check.js';

const HOSTILE = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const DAY = new Date('2026-12-06T10:00:00Z');

function harness(limit: CommandLimit) {
  const clock = { t: 0 };
  const warnings: string[] = [];
  const log: Logger = { info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined, debug: () => undefined };
  const records: ImpressionPayload[] = [];
  const bus = createBus((name, err) => {
    throw new Error(`${name}: ${err.message}`);
  });
  const ctx: FeatureContext = {
    bus,
    publisher: { subscribe: () => () => undefined } as unknown as Publisher,
    config: defaults(),
    topics: deviceTopics('percept', 'flood'),
    device: 'flood',
    stateDir: '/nonexistent',
    version: 't',
    model: 'm',
    log: () => log,
    records: { publish: (_topic, payload) => records.push(payload as ImpressionPayload) },
  };
  const gate = new CommandGate({ name: 'content/set', limit: () => limit, log, now: () => clock.t });
  const feature = new ImpressionsFeature(ctx, () => new Date(DAY.getTime() + clock.t), gate);
  const book = new SummaryBook('UTC', DAY);
  bus.on('impression', (r) => book.addImpression(r));
  feature.start();
  const send = (id: string | null) => feature.onContentSet(Buffer.from(JSON.stringify({ id })), false);
  return { clock, feature, gate, book, records, warnings, send };
}

function assertPrototypeClean() {
  const probe = {} as Record<string, unknown>;
  for (const k of ['plays', 'ots', 'viewers', 'watchers', 'attentionMs', 'last']) assert.equal(probe[k], undefined, `Object.prototype.${k}`);
  assert.equal(typeof probe.toString, 'function');
  assert.equal(typeof probe.hasOwnProperty, 'function');
}

/** The day as published: the book's day in the contract's envelope. */
const valid = (day: object) => {
  const s = { schema: 1, device: 'd', ts: new Date().toISOString(), timeZone: 'UTC', ...day };
  const ok = Value.Check(DailySummarySchema, s);
  return ok ? '' : JSON.stringify([...Value.Errors(DailySummarySchema, s)].slice(0, 3));
};

test('content ids "__proto__", "constructor", "prototype", "toString", "hasOwnProperty"… are counted as contents; Object.prototype is untouched', () => {
  const h = harness({ perSecond: 1, burst: 1 });
  for (const id of [...HOSTILE, ...HOSTILE]) {
    h.clock.t += 10_000;
    h.send(id);
  }
  h.feature.stop();
  assertPrototypeClean();
  assert.equal(h.records.length, HOSTILE.length * 2);
  const day = h.book.current();
  assert.equal(valid({ ...day, final: false }), '');
  assert.equal(day.plays, HOSTILE.length * 2);
  for (const id of HOSTILE) {
    assert.ok(Object.hasOwn(day.byContent!, id), id);
    assert.equal(day.byContent![id]!.plays, 2, id);
  }
  assert.equal(Object.getPrototypeOf(day.byContent), Object.prototype, 'a plain object whose "__proto__" is an own key');
  assert.equal(typeof day.attentionMs === 'number' || day.attentionMs === undefined, true);
});

test('the summary with hostile ids survives its round trip through summary.json: loaded, counted on, still schema-valid', () => {
  const h = harness({ perSecond: 1, burst: 1 });
  for (const id of HOSTILE) {
    h.clock.t += 10_000;
    h.send(id);
  }
  h.feature.stop();
  const dir = tempDir('percept-summary-');
  const store = new SummaryStore(dir);
  assert.ok(store.save(h.book.current()));
  assert.match(readFileSync(store.path, 'utf8'), /"__proto__":\{"plays":1/);
  const loaded = new SummaryStore(dir).load();
  assert.ok(loaded, 'the saved day loads');
  const again = new SummaryBook('UTC', DAY, loaded);
  for (const id of HOSTILE) again.addImpression({ contentId: id, ots: 1, viewers: 1, watchers: 0, attentionMs: 5 });
  assertPrototypeClean();
  const day = again.current();
  assert.equal(valid(day), '');
  for (const id of HOSTILE) assert.equal(day.byContent![id]!.plays, 2, id);
  assert.equal(day.byContent!.__proto__!.attentionMs, 5);
  // A file from a polluted process (attentionMs null, NaN written as null) is not republished: moved aside.
  writeFileSync(store.path, JSON.stringify({ ...day, attentionMs: null }));
  const { log, lines } = logLines();
  assert.equal(new SummaryStore(dir, log).load(), null);
  assert.match(lines.join(), /warn: .*unreadable; moved to/);
});

test('a content/set flood (5,000 at 1,000/s on the injected clock): plays beyond the rate are merged, every one counted', () => {
  const h = harness({ perSecond: 2, burst: 10 });
  const N = 5000;
  for (let i = 0; i < N; i++) {
    h.clock.t += 1;
    h.send(`ad-${i}`);
  }
  h.feature.stop();
  const merged = h.records.reduce((a, r) => a + (r.mergedPlays ?? 0), 0);
  assert.equal(h.gate.counts.received, N);
  assert.ok(Math.abs(h.gate.counts.accepted - 20) <= 1, `the burst, then 2 a second for 5 s: ${h.gate.counts.accepted}`);
  assert.equal(h.gate.counts.merged, merged);
  assert.equal(h.records.length + merged, N, 'every play is a record or merged into one');
  const day = h.book.current();
  assert.equal(day.mergedPlays, merged);
  assert.equal(day.plays, h.records.length);
  assert.equal(valid(day), '');
  assert.ok(h.warnings.length <= 11, `refusals are not a log flood: ${h.warnings.length} lines`);
});

test(`byContent is bounded: 3,000 distinct ids keep ${MAX_CONTENT_IDS} entries, the rest counted in otherContent`, () => {
  const book = new SummaryBook('UTC', DAY);
  for (let i = 0; i < 5; i++) book.addImpression({ contentId: 'popular', ots: 2, viewers: 1, watchers: 1, attentionMs: 100 });
  for (let i = 0; i < 3000; i++) book.addImpression({ contentId: `id-${i}`, ots: 1, viewers: 1, watchers: 0, attentionMs: 10 });
  const day = book.current();
  assert.equal(valid(day), '');
  const ids = Object.keys(day.byContent!);
  assert.equal(ids.length, MAX_CONTENT_IDS);
  assert.equal(day.byContent!.popular!.plays, 5, 'the most played id keeps its entry');
  assert.ok(ids.includes('id-2999'), 'the latest id has its entry');
  assert.equal(day.otherContent!.contents, 3001 - MAX_CONTENT_IDS);
  const plays = Object.values(day.byContent!).reduce((a, t) => a + t.plays, 0) + day.otherContent!.plays;
  assert.equal(plays, 3005, 'no play lost from the totals');
  assert.equal(day.plays, 3005);
  const bytes = Buffer.byteLength(JSON.stringify(day));
  assert.ok(bytes < 25_000, `summary ${bytes} bytes`);
  // A file written before the bound, with thousands of ids, is folded down when loaded.
  const huge = {
    date: day.date,
    visits: 0,
    byHour: [],
    byContent: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`old-${i}`, day.byContent!.popular!])),
  };
  const folded = new SummaryBook('UTC', DAY, huge).current();
  assert.equal(Object.keys(folded.byContent!).length, MAX_CONTENT_IDS);
  assert.equal(folded.otherContent!.plays + Object.values(folded.byContent!).reduce((a, t) => a + t.plays, 0), 15_000);
});
