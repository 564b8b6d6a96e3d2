// Why a source does not open is in the libraries' own output (FFmpeg: "Connection refused"; OpenCV's
// GStreamer backend: "unable to start pipeline"), written by the capture process with colour codes. It
// reaches the error and the log as plain lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { tidyOutput } from '../../agent/capture/capture-client.js';
import { logLines } from '../helpers/log-lines.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function openError(uri: string): Promise<{ message: string; warned: string[]; debugged: string[] }> {
  const { log, at } = logLines();
  const src = new OpenCvSource(await loadOpenCV(), uri, {
    loop: false,
    realtime: true,
    imageIntervalMs: 0,
    openTimeoutMs: 60_000,
    log,
  });
  try {
    await src.open();
  } catch (err) {
    return { message: (err as Error).message, warned: at('warn'), debugged: at('debug') };
  } finally {
    await src.close();
  }
  throw new Error(`${uri} opened`);
}

test('library output: colour codes, object addresses and OpenCV prefixes taken out', () => {
  assert.deepEqual(tidyOutput('\u001b[0;31m[tcp @ 0x55d0c3a1f2c0] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused\u001b[0m'), {
    text: '[tcp] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused',
    opencv: false,
  });
  assert.deepEqual(
    tidyOutput('[ WARN:0@0.349] global ./modules/videoio/src/cap_gstreamer.cpp (1356) open OpenCV | GStreamer warning: unable to start pipeline'),
    {
      text: 'GStreamer warning: unable to start pipeline',
      opencv: true,
    },
  );
  assert.equal(tidyOutput('  \u001b[0m  '), null);
});

for (const path of ['stream', 'live/ch1?subtype=0']) {
  test(`an RTSP camera that refuses the connection (${path}): the error says so, and so does a plain log line`, async () => {
    const { message, warned } = await openError(`rtsp://127.0.0.1:${await closedPort()}/${path}`);
    assert.match(message, /cannot be opened .*Connection refused/);
    const line = warned.find((w) => /Connection refused/.test(w));
    assert.ok(line, `warned: ${JSON.stringify(warned)}`);
    assert.ok(!line.includes('\u001b') && !line.includes('@ 0x'), line);
  });
}

for (const pipeline of ['videotestsrc ! nosuchelement ! appsink', 'filesrc location=/nonexistent.mp4 ! decodebin ! videoconvert ! appsink']) {
  test(`a GStreamer pipeline that cannot start (${pipeline.split(' ')[0]}): the backend's reason is in the error and a debug line`, async () => {
    const { message, debugged } = await openError(`gst:${pipeline}`);
    assert.match(message, /cannot be opened .*GStreamer warning/);
    assert.ok(
      debugged.some((d) => /^capture process: GStreamer warning/.test(d)),
      JSON.stringify(debugged),
    );
  });
}
