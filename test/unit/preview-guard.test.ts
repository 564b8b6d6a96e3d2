// Which Host headers the preview answers: loopback names always (any port: an ssh -L tunnel's local port
// differs), the configured host and the arrival address only with allowNonLoopback on a non-loopback
// bind, and never a name a web page could own (DNS rebinding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, hostOf, isLoopbackHost } from '../../agent/features/preview-guard.js';

const loopbackBind = { bindHost: '127.0.0.1', allowNonLoopback: false };

test('loopback Host values are answered, with or without a port, in any case', () => {
  for (const h of [
    '127.0.0.1',
    '127.0.0.1:8089',
    'localhost',
    'localhost:9000',
    'LocalHost:8089',
    '[::1]',
    '[::1]:8089',
    '127.1.2.3:80',
    '[0:0:0:0:0:0:0:1]:1',
  ]) {
    assert.ok(hostAllowed(h, loopbackBind, '127.0.0.1'), h);
  }
});

test('any other name, a malformed Host or none is refused', () => {
  for (const h of [
    'evil.example.com',
    'evil.example.com:8089',
    '127.0.0.1.evil.example.com',
    'localhost.evil.example',
    'localhost.',
    '[::1].evil',
    '[::2]:8089',
    '128.0.0.1',
    '0.0.0.0:8089',
    'localhost:8089@evil.example',
    'localhost:99999999',
    '',
    undefined,
  ]) {
    assert.ok(!hostAllowed(h, loopbackBind, '127.0.0.1'), String(h));
  }
});

test('allowNonLoopback on a LAN bind: the configured host and the address connected to; never another name', () => {
  const lan = { bindHost: '192.168.1.10', allowNonLoopback: true };
  assert.ok(hostAllowed('192.168.1.10:8089', lan, '192.168.1.10'));
  assert.ok(hostAllowed('localhost:8089', lan, '127.0.0.1'), 'a browser on the device itself');
  assert.ok(!hostAllowed('evil.example.com:8089', lan, '192.168.1.10'));
  const wildcard = { bindHost: '0.0.0.0', allowNonLoopback: true };
  assert.ok(hostAllowed('10.0.0.7:8089', wildcard, '10.0.0.7'), 'the address this connection arrived at');
  assert.ok(hostAllowed('10.0.0.7', wildcard, '::ffff:10.0.0.7'), 'an IPv4 client on a dual-stack socket');
  assert.ok(!hostAllowed('10.0.0.8', wildcard, '10.0.0.7'), 'another address');
  assert.ok(!hostAllowed('kiosk.lan', wildcard, '10.0.0.7'), 'a name that was not configured');
  assert.ok(hostAllowed('kiosk.lan:8089', { bindHost: 'kiosk.lan', allowNonLoopback: true }, '10.0.0.7'), 'a configured name');
  // Without allowNonLoopback nothing but loopback, whatever the bind.
  assert.ok(!hostAllowed('10.0.0.7', { bindHost: '0.0.0.0', allowNonLoopback: false }, '10.0.0.7'));
  assert.ok(!hostAllowed('10.0.0.7', { bindHost: '127.0.0.1', allowNonLoopback: true }, '10.0.0.7'), 'a loopback bind stays loopback');
});

test('hostOf and isLoopbackHost', () => {
  assert.equal(hostOf('[::1]:80'), '::1');
  assert.equal(hostOf('Example.COM:1'), 'example.com');
  assert.equal(hostOf('a b'), null);
  for (const h of ['::1', '127.0.0.1', 'localhost', '::ffff:127.0.0.1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['::', '0.0.0.0', '::10', 'fe80::1', 'localhost.com']) assert.ok(!isLoopbackHost(h), h);
});
