// The one redaction function: URL passwords, secret query parameters and secret keys never leave the agent,
// whatever shape they travel in (the retained config, status, stats, config print, log lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact, redactText } from '../../agent/lib/redact.js';
import { validateConfig } from '../../agent/config/load.js';

const SECRETS = ['s3cr3t', 'pa:ss', 'p@ss@word', 'camPW', 'tok123', 'keyfile-path', 'hunter2'];

test('URL userinfo: the password goes, the user and the rest stay', () => {
  assert.equal(redactText('mqtt://kiosk:s3cr3t@broker.local:1883'), 'mqtt://kiosk:***@broker.local:1883');
  assert.equal(redactText('rtsp://admin:camPW@10.0.0.5:554/stream1'), 'rtsp://admin:***@10.0.0.5:554/stream1');
  assert.equal(redactText('mqtts://u:p@ss@word@host/x'), 'mqtts://u:***@host/x', 'an unencoded @ in the password');
  assert.equal(redactText('wss://u:pa:ss@h'), 'wss://u:***@h', 'a colon in the password');
  assert.equal(redactText('camera rtsp://a:camPW@cam/1 lost; broker "mqtt://b:s3cr3t@x" down'), 'camera rtsp://a:***@cam/1 lost; broker "mqtt://b:***@x" down');
  assert.equal(redactText('rtsp://admin@cam/1'), 'rtsp://admin@cam/1', 'a user name alone is not a secret');
  assert.equal(redactText('rtsp://cam/1?user=admin&password=camPW&channel=1'), 'rtsp://cam/1?user=admin&password=***&channel=1');
  assert.equal(redactText('http://x/y?token=tok123'), 'http://x/y?token=***');
  assert.equal(redactText('no urls here: 3 people, 12:00'), 'no urls here: 3 people, 12:00');
  assert.equal(redactText('gst:rtspsrc location=rtsp://u:camPW@cam ! appsink'), 'gst:rtspsrc location=rtsp://u:***@cam ! appsink');
});

test('secret keys: password, passwordFile, TLS key paths, tokens; empty stays empty so "unset" shows', () => {
  const c = validateConfig(
    {
      source: { uri: 'rtsp://admin:camPW@cam/1' },
      mqtt: {
        url: 'mqtt://kiosk:hunter2@broker',
        password: 's3cr3t',
        passwordFile: '/etc/percept/keyfile-path',
        tls: { key: '/etc/keyfile-path', ca: '/etc/ca.pem' },
      },
    },
    't',
  );
  const r = redact(c);
  assert.equal(r.mqtt.password, '***');
  assert.equal(r.mqtt.passwordFile, '***');
  assert.equal(r.mqtt.tls.key, '***');
  assert.equal(r.mqtt.tls.ca, '/etc/ca.pem', 'a CA is public');
  assert.equal(r.mqtt.url, 'mqtt://kiosk:***@broker');
  assert.equal(r.source.uri, 'rtsp://admin:***@cam/1');
  assert.equal(r.mqtt.username, '', 'empty stays empty');
  assert.equal(c.mqtt.password, 's3cr3t', 'a copy: the config is untouched');
  for (const s of SECRETS) assert.ok(!JSON.stringify(r).includes(s), `${s} leaked`);
});

test('the shapes that leave the agent: status, stats, log lines, errors, arrays — nothing of the secret survives', () => {
  const status = { state: 'online', camera: 'lost', cameraDetail: 'rtsp://admin:camPW@cam/1: cannot be opened' };
  const stats = {
    camera: { lastError: new Error('connect rtsp://u:camPW@cam failed') },
    sources: ['rtsp://a:tok123@x', 'file.mp4'],
    nested: { deep: { token: 'tok123', apiKey: 'tok123' } },
  };
  const out = JSON.stringify([redact(status), redact(stats)]);
  for (const s of SECRETS) assert.ok(!out.includes(s), `${s} leaked in ${out}`);
  assert.match(out, /rtsp:\/\/admin:\*\*\*@cam\/1: cannot be opened/);
  assert.equal(redact(42), 42);
  assert.equal(redact(null), null);
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  assert.deepEqual(redact(loop), { a: 1, self: '[circular]' });
});
