// Stop paths and a camera that hangs in native code: the agent keeps running and answers signals.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startPercept } from '../helpers/agent-process.js';

const work = mkdtempSync(join(tmpdir(), 'percept-stop-'));
let port = 0;

before(async () => {
  // A free UDP-ish port number: nothing ever sends to it, so the pipeline never prerolls.
  port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
});

// A live udpsrc with no sender: cv::VideoCapture::open waits on a GStreamer condition forever (checked on
// this machine: without the capture process the agent never logs a reconnect and ignores SIGINT).
const hanging = () => `gst:udpsrc port=${port} ! application/x-rtp ! rtpjpegdepay ! jpegdec ! videoconvert ! appsink`;
const env = { PERCEPT_MQTT_EMBEDDED_PORT: '0', PERCEPT_LOG_FORMAT: 'pretty', PERCEPT_SOURCE_OPEN_TIMEOUT_MS: '3000', PERCEPT_SOURCE_RECONNECT_MIN_MS: '100', PERCEPT_SOURCE_RECONNECT_MAX_MS: '400' };

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`a camera that hangs in open: reconnect attempts go on and ${sig} exits 0 within seconds`, async () => {
    const agent = startPercept(['run', '--source', hanging(), '--state-dir', join(work, `hang-${sig}`)], env);
    try {
      await agent.waitFor(/lost: .*did not answer within 3000 ms.*reconnecting in \d+ ms \(attempt 2\)/, 90_000);
      assert.equal(agent.child.exitCode, null, 'still running');
    } finally {
      agent.child.kill(sig);
    }
    const t0 = Date.now();
    const code = await agent.exited;
    assert.equal(code, 0, agent.stderr());
    assert.ok(Date.now() - t0 < 10_000, `exited after ${Date.now() - t0} ms`);
    assert.match(agent.stderr(), /done: \{/);
  });
}
