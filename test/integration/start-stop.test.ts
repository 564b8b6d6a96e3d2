// A stop asked while the agent is still starting (Ctrl-C while the models load) ends it with exit 0 and
// never announces it: no retained "online" (nor anything else) is left on the broker for a device that
// never ran. Two moments: while the first model loads, and while the later ones do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { PACKAGE_ROOT } from '../helpers/models.js';
import { startPercept } from '../helpers/agent-process.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { flush } from '../helpers/mqtt-flush.js';

const work = mkdtempSync(join(tmpdir(), 'percept-start-stop-'));
const clip = join(PACKAGE_ROOT, '.cache/demo/demo-clip.avi');
let broker: Broker;

before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Every retained message under the device's root. */
async function retainedOf(device: string): Promise<string[]> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const seen: string[] = [];
  client.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length) seen.push(`${topic} ${String(payload)}`);
  });
  await client.subscribeAsync(`percept/${device}/#`, { qos: 1 });
  await flush(client);
  await client.endAsync();
  return seen;
}

for (const [when, line] of [
  ['the first model loads', /"ns":"models"/],
  ['the attribute models load', /face-api-age-gender[^"]*: running on/],
] as const) {
  test(`SIGINT while ${when}: exit 0, nothing retained for the device`, async () => {
    const device = `start-stop-${when.split(' ')[1]}`;
    const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--state-dir', join(work, device), '--device-id', device]);
    await agent.waitFor(line, 120_000);
    agent.child.kill('SIGINT');
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.doesNotMatch(agent.stderr(), /connected to mqtt/, 'the publisher never started');
    assert.deepEqual(await retainedOf(device), []);
  });
}
