// `percept config validate FILE` reports what `percept run -c FILE` would refuse — the same exit code and
// every key — in one pass: schema errors and run-time checks together, the preview's loopback rule and
// the model manifests included. Each case runs both commands on the same file.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODELS, PACKAGE_ROOT } from '../helpers/models.js';
import { runPercept } from '../helpers/agent-process.js';

const work = mkdtempSync(join(tmpdir(), 'percept-validate-run-'));
after(() => rmSync(work, { recursive: true, force: true }));
const clip = join(PACKAGE_ROOT, '.cache/demo/demo-clip.avi');

interface Case {
  name: string;
  yaml: string;
  code: number;
  /** Keys both commands must name. */
  keys: string[];
}

const brokenModel = join(work, 'broken-model');
mkdirSync(brokenModel);
writeFileSync(join(brokenModel, 'model.json'), '{ "schema": 1, "name": ');
const wrongKind = join(work, 'wrong-kind');
cpSync(DEFAULT_MODELS.ageGender, wrongKind, { recursive: true, dereference: true });

const cases: Case[] = [
  { name: 'preview on a wildcard address', yaml: `source: {uri: ${clip}}\npreview: {enabled: true, host: 0.0.0.0}\n`, code: 78, keys: ['preview.host'] },
  {
    name: 'a schema error beside run-time errors (all in one pass)',
    yaml: `source: {uri: ${clip}}\ndetector: {scoreThreshold: 7}\nschedule: {timezone: Mars/Olympus}\nmqtt: {url: "htp://broker"}\n`,
    code: 78,
    keys: ['detector.scoreThreshold', 'schedule.timezone', 'mqtt.url'],
  },
  {
    name: 'a section of the wrong type beside a bad day list and a non-loopback preview name',
    yaml: `source: {uri: ${clip}}\nschedule: {timezone: Mars/Olympus, openingHours: [{days: monkey, from: "08:00", to: "20:00"}]}\naudience: 5\npreview: {enabled: true, host: kiosk.lan}\n`,
    code: 78,
    keys: ['audience', 'schedule.timezone', 'schedule.openingHours.0.days', 'preview.host'],
  },
  {
    name: 'reconnect bounds the wrong way round and a missing password file',
    yaml: `source: {uri: ${clip}, reconnectMinMs: 9000, reconnectMaxMs: 1000}\nmqtt: {url: "mqtt://127.0.0.1:1", passwordFile: ${work}/nope}\n`,
    code: 78,
    keys: ['source.reconnectMinMs', 'mqtt.passwordFile'],
  },
  {
    name: 'a detector directory whose model.json is not JSON',
    yaml: `source: {uri: ${clip}}\ndetector: {model: ${brokenModel}}\n`,
    code: 65,
    keys: ['model.json is not valid JSON'],
  },
  {
    name: 'an attributes model where the detector goes',
    yaml: `source: {uri: ${clip}}\ndetector: {model: ${wrongKind}}\n`,
    code: 65,
    keys: ['wrong-kind'],
  },
];

for (const [i, c] of cases.entries()) {
  test(`validate says what run refuses: ${c.name}`, async () => {
    const file = join(work, `case-${i}.yaml`);
    writeFileSync(file, c.yaml);
    const validate = await runPercept(['config', 'validate', file]);
    const run = await runPercept(['run', '-c', file, '--state-dir', join(work, `state-${i}`), '--exit-on-eof'], {}, 120_000);
    assert.equal(validate.code, c.code, `validate: ${validate.stdout}${validate.stderr}`);
    assert.equal(run.code, c.code, `run: ${run.stderr.slice(-2000)}`);
    for (const key of c.keys) {
      const pattern = new RegExp(key.replaceAll('.', '\\.'));
      assert.match(validate.stderr, pattern, `validate names ${key}`);
      assert.match(run.stderr + run.stdout, pattern, `run names ${key}`);
    }
  });
}
