// The preview against a web page and a crowd, on a real agent: a request naming another host (what a
// DNS-rebinding page sends) gets no frame; loopback names do; 50 connections that never read are capped,
// the agent keeps at most the cap of them, its memory stays bounded, and the ones it serves are dropped
// once they stop reading. The clip is noise at 25 fps, so frames are large and socket buffers fill fast.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { freePort } from '../helpers/mosquitto.js';
import { startPercept, type Running } from '../helpers/agent-process.js';
import { MAX_CONNECTIONS } from '../../agent/features/preview-guard.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

const work = tempDir('percept-preview-guard-');
let agent: Running;
let port: number;

async function noiseClip(): Promise<string> {
  const cv = await loadOpenCV();
  const path = join(work, 'noise.avi');
  const W = 640;
  const H = 360;
  const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc('MJPG'), 25, new cv.Size(W, H), true);
  let s = 1;
  for (let f = 0; f < 25; f++) {
    const px = Buffer.alloc(W * H * 3);
    for (let i = 0; i < px.length; i++) px[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    writer.write(new cv.Mat(px, H, W, cv.CV_8UC3));
  }
  writer.release();
  return path;
}

before(async () => {
  port = await freePort();
  const config = join(work, 'percept.yaml');
  // Debug for the preview: each refusal and drop is a line the test can count.
  writeFileSync(config, `preview:\n  enabled: true\n  port: ${port}\n  maxFps: 30\ndetector:\n  intervalMs: 1000\nlog:\n  namespaces:\n    preview: debug\n`);
  agent = startPercept(['run', '-c', config, '-s', await noiseClip(), '--state-dir', join(work, 'state')], { PERCEPT_MQTT_EMBEDDED_PORT: '0' });
  await agent.waitFor(/preview on http/, 120_000);
});

after(async () => {
  agent?.child.kill('SIGTERM');
  await agent?.exited;
});

/** One request with a chosen Host header: its status and body. */
function request(path: string, host: string): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    // agent: false — no keep-alive socket left behind to take one of the preview's connections.
    const req = get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.once('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer to ${path} for Host ${host} within 60 s`)));
  });
}

const count = (re: RegExp) => (agent.stderr().match(new RegExp(re.source, 'g')) ?? []).length;

/** Sockets on the preview port that the agent holds open (its fds matched to /proc/net/tcp*). */
function agentSockets(): number {
  const pid = agent.child.pid!;
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while listed
    }
  }
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local address:port, state 0A = listening (not a connection)
      if (f.length > 9 && f[1]!.endsWith(`:${hex}`) && f[3] !== '0A' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

function rssKb(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))![1]);
}

const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

test('a request naming another host (a DNS-rebinding page) is refused without a frame; loopback names get one', async () => {
  for (const host of ['evil.example.com', `evil.example.com:${port}`, `127.0.0.1.evil.example.com:${port}`, `localhost.evil.example:${port}`]) {
    for (const path of ['/snapshot.jpg', '/stream.mjpg', '/']) {
      const r = await request(path, host);
      assert.equal(r.status, 403, `${host} ${path}`);
      assert.ok(!isJpeg(r.body) && !r.body.includes(Buffer.from([0xff, 0xd8, 0xff])), `${host} ${path}: no JPEG in the answer`);
    }
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, 'LOCALHOST:9000']) {
    const r = await request('/snapshot.jpg', host);
    assert.equal(r.status, 200, host);
    assert.ok(isJpeg(r.body), `${host}: a JPEG frame`);
    assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin', 'another site cannot even embed it');
  }
});

test('50 connections that never read: at most the cap are served, the agent holds no more, RSS stays bounded, stalled viewers are dropped', async () => {
  const refusedBefore = count(/refused a connection/);
  const droppedBefore = count(/dropped a viewer that stopped reading/);
  const rssBefore = rssKb();
  const clients: Socket[] = [];
  let most = 0;
  try {
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => {
              s.write(`GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
              s.pause(); // never read: the kernel buffers fill and stay full
              resolve();
            });
            s.once('error', reject);
            clients.push(s);
          }),
      ),
    );
    // Every one of the 50 is either refused or served, and every served one is dropped when it stalls.
    const refused = () => count(/refused a connection/) - refusedBefore;
    const dropped = () => count(/dropped a viewer that stopped reading/) - droppedBefore;
    await waitFor(
      () => {
        most = Math.max(most, agentSockets());
        assert.ok(most <= MAX_CONNECTIONS * 2, `the agent holds ${most} preview sockets: no cap`);
        return refused() + dropped() >= 50 && agentSockets() === 0;
      },
      120_000,
      'all 50 viewers refused or dropped',
      { detail: () => `${refused()} refused, ${dropped()} dropped, the agent holds ${agentSockets()} sockets`, every: 200 },
    );
    assert.equal(count(/refused a connection/) - refusedBefore, 50 - MAX_CONNECTIONS, 'the ones over the cap were refused');
    assert.equal(count(/dropped a viewer that stopped reading/) - droppedBefore, MAX_CONNECTIONS, 'the served ones were dropped once stalled');
    const grownMb = (rssKb() - rssBefore) / 1024;
    assert.ok(grownMb < 64, `agent RSS grew ${grownMb.toFixed(1)} MiB with 50 stalled viewers`);
  } finally {
    for (const s of clients) s.destroy();
  }
  // …and it still serves the next viewer.
  const r = await request('/snapshot.jpg', `127.0.0.1:${port}`);
  assert.equal(r.status, 200);
});

test('a viewer that stops reading mid-stream is disconnected by the server', async () => {
  const droppedBefore = count(/dropped a viewer that stopped reading/);
  const closed = await new Promise<string>((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/stream.mjpg', agent: false }, (res) => {
      assert.equal(res.statusCode, 200);
      res.once('data', () => {
        res.pause(); // took the first bytes of a frame, then stops reading
        agent.waitFor(new RegExp(`(dropped a viewer that stopped reading[\\s\\S]*){${droppedBefore + 1}}`), 120_000).then(() => {
          // The server has let go: reading again drains what the kernel still held, then the end.
          res.once('close', () => resolve('closed'));
          res.resume();
        }, reject);
      });
    });
    req.once('error', () => undefined); // a reset is the expected end of this stream
  });
  assert.equal(closed, 'closed');
  assert.equal(agentSockets(), 0, 'the agent holds no preview socket');
});
