// A model switch that never finishes opening (issue 20, item 7: a model file on a stalled volume) gets a
// deadline: it is refused when the deadline passes, so the next switch is not queued behind it for ever,
// and a stop does not wait for it. The opener is a stand-in that never answers: a read that truly hangs
// cannot be made on demand (a FIFO is refused before it is read, see switch-stop.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelSwitchFeature } from '../../agent/features/model-switch.js';
import { createBus } from '../../agent/features/events.js';
import { defaults } from '../../agent/config/load.js';
import { deviceTopics } from '../../agent/contract/topics.js';
import { SwitchableClassifier } from '../../agent/classify/switchable-classifier.js';
import type { Classifier } from '../../agent/classify/classifier.js';
import type { FeatureContext } from '../../agent/features/feature.js';
import type { Publisher } from '../../agent/publish/publisher.js';
import { logLines } from '../helpers/log-lines.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

const fake = (name: string, closed: string[]): Classifier => ({
  name,
  tasks: ['age'],
  classify: () => Promise.resolve({ faces: [] }),
  close: () => {
    closed.push(name);
    return Promise.resolve();
  },
});

function harness() {
  const { log, lines } = logLines();
  const config = defaults();
  config.inference.timeoutMs = 50; // the switch deadline: 4 × 50 ms
  const bus = createBus((name, err) => {
    throw new Error(`${name}: ${err.message}`);
  });
  const ctx: FeatureContext = {
    bus,
    publisher: { publish: () => Promise.resolve() } as unknown as Publisher,
    config,
    topics: deviceTopics('percept', 'kiosk'),
    device: 'kiosk',
    stateDir: tempDir('percept-switch-'),
    version: 'test',
    model: 'old',
    log: () => log,
    records: { publish: () => undefined },
  };
  const closed: string[] = [];
  const classifier = new SwitchableClassifier(fake('old', closed));
  let late: ((c: Classifier) => void) | null = null;
  const feature = new ModelSwitchFeature(ctx, {
    classifier,
    open: (models) => (models[0] === '/hung' ? new Promise<Classifier>((res) => (late = res)) : Promise.resolve(fake(models[0]!, closed))),
  });
  feature.start();
  const ask = (models: string[]) => {
    const next = defaults();
    next.classifier.models = models;
    bus.emit('config', { requestId: null, ok: true, errors: [], applied: [], restartRequired: [], next, removed: [] } as never);
  };
  return { feature, classifier, lines, closed, ask, finishLate: (c: Classifier) => late?.(c) };
}

test('a switch that never finishes opening is refused at its deadline; the next switch goes through', { timeout: 10_000 }, async () => {
  const h = harness();
  h.ask(['/hung']);
  while (!h.lines.some((l) => l.includes('opening and verifying /hung'))) await new Promise((r) => setImmediate(r));
  h.ask(['/good']);
  await h.feature.settled();
  assert.match(
    h.lines.join('\n'),
    /model switch to \/hung refused: opening and verifying took longer than 0\.2 s \(4 × inference\.timeoutMs\): abandoned; still running old/,
  );
  assert.equal(h.classifier.name, '/good');
  assert.deepEqual(h.feature.outcome()?.models, ['/good']);
  // The hung open finishing later is closed, never switched to.
  h.finishLate(fake('/hung', h.closed));
  await new Promise((r) => setImmediate(r));
  assert.ok(h.closed.includes('/hung'));
  assert.equal(h.classifier.name, '/good');
  await h.feature.stop();
});

test('a stop does not wait for a switch that is still opening', { timeout: 10_000 }, async () => {
  const h = harness();
  h.ask(['/hung']);
  await new Promise((r) => setImmediate(r));
  await h.feature.stop();
  h.finishLate(fake('/hung', h.closed));
  await waitFor(() => h.closed.includes('/hung'), 5000, 'the late model closed unused');
  assert.equal(h.classifier.name, 'old', 'a model opened after the stop is not switched to');
});
