// The daily summary names its time zone and never mixes two (issue 25: after a zone change one payload
// held hour 16 UTC and hour 17 Berlin), and Home Assistant's sensors have the state class of what they
// count. The feature runs in process with its real store on a temporary state directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { DailySummaryFeature } from '../../agent/features/daily-summary.js';
import { createBus } from '../../agent/features/events.js';
import { defaults } from '../../agent/config/load.js';
import { deviceTopics, type OutPayloads } from '../../agent/contract/topics.js';
import { DailySummarySchema, DiscoverySchema } from '../../agent/contract/payloads.js';
import { discoveryMessages } from '../../agent/publish/homeassistant.js';
import type { FeatureContext } from '../../agent/features/feature.js';
import type { Publisher } from '../../agent/publish/publisher.js';
import { silentLogger } from '../../agent/lib/logging.js';
import { tempDir } from '../helpers/temp.js';
// The formats (date-time) the contract check registers, as at publish.
import '../../agent/publish/contract-check.js';

type Summary = OutPayloads['dailySummary'];
const log = silentLogger;

test('the daily summary names its time zone; a day saved in another zone is finished in it, not continued', async () => {
  const stateDir = tempDir('percept-summary-');
  // Saved under Europe/Berlin, hour 17 local; the agent now runs in UTC on the same date.
  const byHour = [{ hour: 17, visits: 1, age: {}, gender: {}, emotion: {} }];
  writeFileSync(join(stateDir, 'summary.json'), JSON.stringify({ date: '2026-12-07', timeZone: 'Europe/Berlin', visits: 1, byHour, impressions: 2 }));
  const config = defaults();
  config.schedule.timezone = 'UTC';
  const records: Summary[] = [];
  const published: Summary[] = [];
  const ctx: FeatureContext = {
    bus: createBus((name, err) => {
      throw new Error(`${name}: ${err.message}`);
    }),
    publisher: {
      publish: (_name: string, payload: Summary) => {
        published.push(payload);
        return Promise.resolve();
      },
    } as unknown as Publisher,
    config,
    topics: deviceTopics('percept', 'tz'),
    device: 'tz',
    stateDir,
    version: 't',
    model: 'm',
    log: () => log,
    records: { publish: (_topic, payload) => records.push(payload as Summary) },
  };
  const now = new Date('2026-12-07T16:30:00Z');
  const feature = new DailySummaryFeature(ctx, () => now);
  feature.start();
  ctx.bus.emit('visit', { event: { type: 'left', attributes: {} } as never, payload: {} as never });
  feature.flush();
  await feature.stop();

  const valid = (s: Summary) => assert.deepEqual([...Value.Errors(DailySummarySchema, s)].slice(0, 3), [], 'matches the contract');
  assert.equal(records.length, 1, 'the Berlin day went out as final through the outbox');
  valid(records[0]!);
  assert.equal(records[0]!.timeZone, 'Europe/Berlin');
  assert.equal(records[0]!.final, true);
  assert.equal(records[0]!.plays, 2, 'a file of the previous contract: its `impressions` are plays');
  assert.deepEqual(
    records[0]!.byHour.map((h) => h.hour),
    [17],
  );
  const running = published.at(-1)!;
  valid(running);
  assert.equal(running.timeZone, 'UTC');
  assert.deepEqual(
    running.byHour.map((h) => [h.hour, h.visits]),
    [[16, 1]],
    'the new day holds UTC hours only',
  );
  assert.equal(running.visits, 1);
  assert.equal(running.device, 'tz');
  assert.equal(running.ts, now.toISOString());
});

test('Home Assistant: counts now are measurements, the day’s counts total_increasing, text states none; current discovery fields', () => {
  const msgs = discoveryMessages({ prefix: 'homeassistant', root: 'percept/k', device: 'k', version: '1.2.3', model: 'm' }, true);
  const bySensor = new Map(msgs.map((m) => [m.params.sensor, m.payload]));
  for (const m of msgs) if (m.payload) assert.deepEqual([...Value.Errors(DiscoverySchema, m.payload)].slice(0, 3), []);
  assert.equal(bySensor.get('people')!.state_class, 'measurement');
  assert.equal(bySensor.get('gender_female')!.state_class, 'measurement');
  assert.equal(bySensor.get('plays_today')!.state_class, 'total_increasing');
  assert.equal(bySensor.get('plays_today')!.value_template, '{{ value_json.plays | default(0) }}');
  assert.equal(bySensor.get('attention_today')!.state_class, 'total_increasing');
  assert.equal(bySensor.get('dominant_emotion')!.state_class, undefined);
  assert.equal(bySensor.get('camera')!.entity_category, 'diagnostic');
  assert.equal(bySensor.get('camera')!.state_topic, 'percept/k/status');
  const people = bySensor.get('people')!;
  assert.deepEqual(people.origin, { name: 'percept', sw_version: '1.2.3' });
  assert.equal(people.default_entity_id, 'sensor.percept_k_people');
  assert.equal(people.unique_id, 'percept_k_people');
  assert.deepEqual(people.device.identifiers, ['percept_k']);
  assert.ok(!('object_id' in people), 'object_id is deprecated in favour of default_entity_id');
  assert.ok(bySensor.has('impressions_today') && bySensor.get('impressions_today') === null, 'the old sensor is removed');
});
