// percept models fetch: the mirror, the pinned download (from a local HTTP server standing in for GitHub),
// a wrong sha256 refused with nothing installed, and setup's one line when neither source works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fetchModel, FetchError, loadCatalog } from '../../agent/cli/models-fetch.js';
import { verifyModelDir } from '../../agent/cli/models-commands.js';
import { chooseDetectorDir } from '../../agent/detect/open-detector.js';
import { runPercept } from '../helpers/agent-process.js';
import { DEFAULT_MODELS, PACKAGE_ROOT } from '../helpers/models.js';
import { yunetModelDir } from '../helpers/yunet.js';
import { tempDir } from '../helpers/temp.js';

const entry = loadCatalog()['yunet-n']!;
const MODEL_FILE = 'yunet_n_dynamic.onnx';

/** A mirror directory laid out as PERCEPT_MODEL_MIRROR expects, from the real files. */
async function makeMirror(corrupt = false): Promise<string> {
  const real = await yunetModelDir();
  const mirror = tempDir('percept-mirror-');
  mkdirSync(join(mirror, 'yunet'));
  copyFileSync(join(real, 'LICENSE'), join(mirror, 'yunet/LICENSE'));
  const bytes = readFileSync(join(real, MODEL_FILE));
  if (corrupt) bytes[bytes.length - 100]! ^= 0xff;
  writeFileSync(join(mirror, 'yunet', MODEL_FILE), bytes);
  return mirror;
}

const workDir = () => tempDir('percept-fetch-');

function listen(server: Server): Promise<number> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)));
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((res) => s.close(res));
  return port;
}

test('the catalog pins yunet-n to the upstream commit, with sha256, size, licence and a valid manifest', () => {
  assert.match(entry.upstream.baseUrl, /^https:\/\/raw\.githubusercontent\.com\/ShiqiYu\/libfacedetection\.train\/0047ac24afb1a50a0c6105001c89d1b5b805dbf1\/$/);
  const model = entry.files.find((f) => f.path === MODEL_FILE)!;
  assert.equal(model.upstreamPath, `onnx/${MODEL_FILE}`);
  assert.equal(model.sha256, '104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12');
  assert.equal(model.bytes, 322906);
  assert.ok(entry.files.some((f) => f.path === 'LICENSE'));
  assert.match(entry.manifest.licence, /^Apache-2\.0/);
  assert.equal(join(PACKAGE_ROOT, entry.installDir), DEFAULT_MODELS.yunet, 'installed where the agent looks for it');
});

test('fetch from a mirror installs a verified model directory with its licence', async () => {
  const dest = join(workDir(), 'yunet-n');
  const r = await fetchModel('yunet-n', {
    dest,
    mirror: await makeMirror(),
    baseUrl: `http://127.0.0.1:${await closedPort()}/`,
  });
  assert.match(r.from, /^mirror /);
  const loaded = await verifyModelDir(dest);
  assert.equal(loaded.manifest.name, 'yunet-n');
  assert.deepEqual(loaded.manifest.files.map((f) => f.path).sort(), ['LICENSE', MODEL_FILE]);
  assert.match(readFileSync(join(dest, 'LICENSE'), 'utf8'), /Apache License/);
  // Again: nothing to do.
  assert.equal((await fetchModel('yunet-n', { dest, mirror: '/nonexistent' })).from, 'already installed');
});

test('without the file in the mirror, fetch downloads the pinned URL (a local server standing in for GitHub)', async () => {
  const mirror = await makeMirror();
  const requested: string[] = [];
  const server = createServer((req, res) => {
    requested.push(req.url!);
    const file = {
      [`/pinned/onnx/${MODEL_FILE}`]: join(mirror, 'yunet', MODEL_FILE),
      '/pinned/LICENSE': join(mirror, 'yunet/LICENSE'),
    }[req.url!];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(file));
  });
  const port = await listen(server);
  try {
    const dest = join(workDir(), 'yunet-n');
    const empty = tempDir('percept-empty-mirror-');
    const r = await fetchModel('yunet-n', {
      dest,
      mirror: empty,
      baseUrl: `http://127.0.0.1:${port}/pinned/`,
    });
    assert.equal(r.from, `http://127.0.0.1:${port}/pinned/`);
    assert.deepEqual(requested.sort(), ['/pinned/LICENSE', `/pinned/onnx/${MODEL_FILE}`]);
    await verifyModelDir(dest);
  } finally {
    server.close();
  }
});

test('a wrong sha256 is refused: the message names both hashes, nothing is installed, no temp files stay', async () => {
  const parent = workDir();
  const dest = join(parent, 'yunet-n');
  const mirror = await makeMirror(true);
  await assert.rejects(fetchModel('yunet-n', { dest, mirror }), (err: unknown) => {
    assert.ok(err instanceof FetchError);
    assert.equal(err.reason, 'checksum');
    assert.match(
      err.message,
      new RegExp(
        `${MODEL_FILE} from .*/yunet/${MODEL_FILE} has sha256 [0-9a-f]{64}, the catalog pins 104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12: refused, nothing installed`,
      ),
    );
    assert.doesNotMatch(err.message, /has sha256 104ee26c/);
    return true;
  });
  assert.deepEqual(readdirSync(parent), [], 'no destination, no staging directory');
  // The command says the same and exits 65.
  const res = await runPercept(['models', 'fetch', 'yunet-n', '--dest', dest], { PERCEPT_MODEL_MIRROR: mirror }, 60_000);
  assert.equal(res.code, 65, res.stderr);
  assert.match(res.stderr, /percept models fetch: yunet-n: .* has sha256 [0-9a-f]{64}, the catalog pins 104ee26c.*refused, nothing installed/);
  assert.equal(existsSync(dest), false);
});

test('setup with no mirror and no network: one clear line, exit 0, nothing installed, and the SSD is the detector', async () => {
  const parent = workDir();
  const dest = join(parent, 'yunet-n');
  const empty = tempDir('percept-empty-mirror-');
  const script = join(PACKAGE_ROOT, 'dist/agent/cli/models-fetch.js');
  const env = {
    ...process.env,
    PERCEPT_MODEL_MIRROR: empty,
    PERCEPT_MODEL_BASE_URL: `http://127.0.0.1:${await closedPort()}/`,
  };
  const out = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((res) => {
    const child = spawn(process.execPath, [script, 'yunet-n', '--dest', dest], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.once('exit', (code) => res({ code, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr, '');
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, out.stdout);
  assert.match(
    lines[0]!,
    new RegExp(
      `^\\[setup\\] model yunet-n not installed — the mirror ${empty} has no yunet/${MODEL_FILE}, and cannot download http://127\\.0\\.0\\.1:\\d+/onnx/${MODEL_FILE}: ECONNREFUSED; the agent will use the converted SSD detector$`,
    ),
  );
  assert.deepEqual(readdirSync(parent), []);
  assert.deepEqual(chooseDetectorDir('', { yunet: dest, ssd: DEFAULT_MODELS.detector }).dir, DEFAULT_MODELS.detector);
});
