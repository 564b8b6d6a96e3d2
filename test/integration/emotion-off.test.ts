// classifier.emotion: false, with the real agent on the demo clip against a real mosquitto: the expression
// model is never opened, and no payload about people — events, audience, nearest, the daily summary, Home
// Assistant discovery — carries emotion; age and gender still do. Every message is checked against the
// generated wire schemas, in which emotion is optional.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ensureDemoClip } from '../../agent/cli/demo.js';
import { flush } from '../helpers/mqtt-flush.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { runPercept } from '../helpers/agent-process.js';
import { wireValidator } from '../helpers/wire-schemas.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-emotion-off-');
let broker: Broker | undefined;
after(async () => {
  await broker?.stop();
});

test('with classifier.emotion false the expression model is not loaded and no payload about people names emotion', async () => {
  broker = await startMosquitto();
  const clip = await ensureDemoClip();
  const sub = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
  const seen: { topic: string; text: string }[] = [];
  sub.on('message', (topic, payload) => seen.push({ topic, text: String(payload) }));
  await sub.subscribeAsync(['percept/off/#', 'homeassistant/#'], { qos: 1 });
  const config = join(work, 'percept.yaml');
  writeFileSync(config, 'classifier:\n  emotion: false\nhomeassistant:\n  enabled: true\n');
  const res = await runPercept(
    ['run', '-c', config, '--source', clip, '--mqtt-url', broker.url, '--device-id', 'off', '--state-dir', join(work, 'state'), '--exit-on-eof'],
    { PERCEPT_LOG_FORMAT: 'pretty' },
  );
  await flush(sub);
  await sub.endAsync();
  assert.equal(res.code, 0, res.stderr);

  // The models log names every net it opens: age/gender yes, the expression net never.
  assert.match(res.stderr, /\[models\] face-api-age-gender: running on/);
  assert.doesNotMatch(res.stderr, /expression/i);

  const invalid = seen.flatMap((m) => wireValidator('percept')(m.topic, m.text).map((p) => `${m.topic}: ${p}`));
  assert.deepEqual(invalid, []);
  // The retained config names the switch itself (classifier.emotion): it is about the device, not people.
  const aboutPeople = seen.filter((m) => !m.topic.endsWith('/config') || m.topic.startsWith('homeassistant/'));
  const events = aboutPeople.filter((m) => m.topic.startsWith('percept/off/events/')).map((m) => JSON.parse(m.text) as Record<string, unknown>);
  assert.ok(events.length >= 4, `events: ${events.length}`);
  assert.ok(
    events.some((e) => e.age && e.gender),
    'age and gender are still reported',
  );
  for (const topic of ['percept/off/audience', 'percept/off/summary/daily'])
    assert.ok(
      aboutPeople.some((m) => m.topic === topic),
      `${topic} was published`,
    );
  const discovery = aboutPeople.filter((m) => m.topic.startsWith('homeassistant/sensor/'));
  assert.ok(
    discovery.some((m) => m.text.includes('Gender')),
    'Home Assistant sensors were announced',
  );
  // The emotion sensor is removed (an empty retained config), not announced.
  assert.deepEqual(
    discovery.filter((m) => m.topic.includes('emotion')).map((m) => m.text),
    [''],
  );
  const withEmotion = aboutPeople.filter((m) => /emotion/i.test(m.text));
  assert.deepEqual(
    withEmotion.map((m) => m.topic),
    [],
    withEmotion.map((m) => m.text.slice(0, 300)).join('\n'),
  );
});
