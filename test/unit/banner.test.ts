import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectProviders, startBanner } from '../../agent/service/banner.js';
import { logLines } from '../helpers/log-lines.js';

test('the banner redacts credentials in the source and broker URLs and lists the providers the workers reported', () => {
  const providers = new Set<string>();
  const { log: inner, lines } = logLines();
  const log = collectProviders(inner, providers);
  log.info('yunet-n: running on cuda (fp16)');
  log.info('face-api-age-gender: running on cpu (fp32)');
  log.warn('face-api-age-gender: requested execution provider tensorrt; falling back');
  assert.deepEqual(
    lines,
    [
      'info: yunet-n: running on cuda (fp16)',
      'info: face-api-age-gender: running on cpu (fp32)',
      'warn: face-api-age-gender: requested execution provider tensorrt; falling back',
    ],
    'every line still reaches the log, at its level',
  );
  const banner = startBanner({
    version: '1.2.3',
    configFile: '/etc/percept/percept.yaml',
    device: 'kiosk-7',
    source: 'rtsp://admin:hunter2@10.0.0.5/stream',
    camera: 'ok',
    detector: 'yunet-n',
    classifier: 'face-api-age-gender',
    embedder: null,
    providers,
    broker: 'mqtts://user:secret@broker.lan:8883',
  });
  assert.doesNotMatch(banner, /hunter2|secret/);
  assert.match(banner, /^percept 1\.2\.3 running: config \/etc\/percept\/percept\.yaml; device kiosk-7; source rtsp:\/\/.*10\.0\.0\.5\/stream \(ok\)/);
  assert.match(banner, /no embedder \(re-identification\) on cuda, cpu; broker mqtts:\/\/.*broker\.lan:8883$/);
});
