// TLS with certificates made by the test (openssl), a wrong CA refused, and a wrong password retried with
// backoff and one clear line per attempt — the agent never crashes for it. Each failure's line names the
// cause and the setting to fix, a port where no broker listens included.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeClip } from '../helpers/clips.js';
import { flush } from '../helpers/mqtt-flush.js';
import { freePort, startMosquitto } from '../helpers/mosquitto.js';
import { runPercept, startPercept } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-tls-');
let clip: string;
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });

function makeCa(name: string) {
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

function makeCert(name: string, ca: string, san: string) {
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  writeFileSync(join(work, `${name}.ext`), `subjectAltName=${san}\n`);
  ssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
}

before(async () => {
  clip = makeClip(await loadOpenCV(), join(work, 'clip.avi')).path;
  makeCa('ca');
  makeCa('other-ca');
  makeCert('server', 'ca', 'IP:127.0.0.1');
  makeCert('client', 'ca', 'DNS:percept-client');
});

test('mqtts with a client certificate: events delivered; the broker requires the certificate', async () => {
  const tls = `cafile ${work}/ca.crt\ncertfile ${work}/server.crt\nkeyfile ${work}/server.key\nrequire_certificate true\n`;
  const broker = await startMosquitto(tls);
  const url = `mqtts://127.0.0.1:${broker.port}`;
  const sub = await mqtt.connectAsync(url, { ca: [readPem('ca.crt')], cert: readPem('client.crt'), key: readPem('client.key'), reconnectPeriod: 0 });
  const events: string[] = [];
  sub.on('message', (t) => events.push(t));
  await sub.subscribeAsync('percept/tls/events/#', { qos: 1 });
  const res = await runPercept(['run', '--source', clip, '--mqtt-url', url, '--device-id', 'tls', '--state-dir', join(work, 'tls-state'), '--exit-on-eof'], {
    PERCEPT_MQTT_TLS_CA: join(work, 'ca.crt'),
    PERCEPT_MQTT_TLS_CERT: join(work, 'client.crt'),
    PERCEPT_MQTT_TLS_KEY: join(work, 'client.key'),
  });
  await flush(sub);
  await sub.endAsync();
  await broker.stop();
  assert.equal(res.code, 0, res.stderr);
  assert.equal(events.length, 4, `events over TLS: ${events}`);
  assert.equal(readdirSync(join(work, 'tls-state/outbox')).length, 0);
});

function readPem(f: string): Buffer {
  return execFileSync('cat', [join(work, f)]);
}

test('a broker whose certificate does not verify against mqtt.tls.ca is refused, with a clear line', async () => {
  const broker = await startMosquitto(`cafile ${work}/ca.crt\ncertfile ${work}/server.crt\nkeyfile ${work}/server.key\n`);
  const agent = startPercept(
    ['run', '--source', clip, '--mqtt-url', `mqtts://127.0.0.1:${broker.port}`, '--device-id', 'badca', '--state-dir', join(work, 'badca-state')],
    {
      PERCEPT_MQTT_TLS_CA: join(work, 'other-ca.crt'),
      PERCEPT_MQTT_RECONNECT_MIN_MS: '200',
      PERCEPT_MQTT_RECONNECT_MAX_MS: '400',
      PERCEPT_LOG_FORMAT: 'pretty',
    },
  );
  try {
    await agent.waitFor(/refused the connection: its TLS certificate does not verify .*check mqtt\.tls\.ca/, 30_000);
    await agent.waitFor(/\[publish\] .*refused[\s\S]*\[publish\] .*refused/, 30_000);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0, 'stops cleanly');
  await broker.stop();
  assert.doesNotMatch(agent.stderr(), /connected to mqtts/);
});

test('a wrong password: one clear line per attempt, retried with growing delays, never a crash, never the password', async () => {
  execFileSync('mosquitto_passwd', ['-c', '-b', join(work, 'passwd'), 'kiosk', 'right-password']);
  const broker = await startMosquitto('', { auth: `allow_anonymous false\npassword_file ${work}/passwd` });
  writeFileSync(join(work, 'pw'), 'wrong-password\n');
  const agent = startPercept(['run', '--source', clip, '--mqtt-url', broker.url, '--device-id', 'auth', '--state-dir', join(work, 'auth-state')], {
    PERCEPT_MQTT_USERNAME: 'kiosk',
    PERCEPT_MQTT_PASSWORD_FILE: join(work, 'pw'),
    PERCEPT_MQTT_RECONNECT_MIN_MS: '200',
    PERCEPT_MQTT_RECONNECT_MAX_MS: '3000',
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  try {
    await agent.waitFor(/(refused the connection: (bad user name or password|not authorised).*){4}/s, 30_000);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  await broker.stop();
  const delays = [...agent.stderr().matchAll(/refused the connection: .*retrying in (\d+) ms/g)].map((m) => Number(m[1]));
  assert.ok(delays.length >= 4);
  assert.ok(delays[delays.length - 1]! > delays[0]!, `delays grow: ${delays}`);
  assert.doesNotMatch(agent.stderr(), /wrong-password/);
  // Mosquitto says "not authorised" for a wrong password under MQTT 3.1.1: the line still names the password keys.
  assert.match(agent.stderr(), /refused the connection: .*check mqtt\.username and mqtt\.password/);
});

test('no broker on the port: the first line says connection refused, asks whether the broker runs there and names mqtt.url', async () => {
  const url = `mqtt://127.0.0.1:${await freePort()}`;
  const agent = startPercept(['run', '--source', clip, '--mqtt-url', url, '--device-id', 'down', '--state-dir', join(work, 'down-state')], {
    PERCEPT_LOG_FORMAT: 'pretty',
  });
  try {
    const line = await agent.waitFor(/unreachable \(attempt 1\).*/, 30_000);
    assert.match(line[0], new RegExp(`connection refused: is the broker running at ${url.replace(/[./]/g, '\\$&')}\\? \\(check mqtt\\.url`));
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
});
