// Smaller findings of issue 20 (item 10b–d): files that are not what they claim. `models use` writes a
// symlinked config file where the link points (the link stays); `models fetch` refuses a mirror file or
// a download of the wrong size before copying it or reading it into memory; an outbox entry that is a
// symlink is quarantined without being followed, and the log never quotes an entry's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { replaceFile } from '../../agent/config/file-edit.js';
import { fetchModel, FetchError, type CatalogEntry } from '../../agent/cli/models-fetch.js';
import { Outbox } from '../../agent/publish/outbox.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';

const fresh = () => tempDir('percept-hostile-');

test('a symlinked config file is written through: the link stays a link, its target gets the text', () => {
  const dir = fresh();
  const target = join(dir, 'site', 'percept.yaml');
  mkdirSync(join(dir, 'site'));
  writeFileSync(target, 'classifier:\n  models: []\n', { mode: 0o640 });
  const link = join(dir, 'percept.yaml');
  symlinkSync(target, link);
  replaceFile(link, 'classifier:\n  models: ["/m"]\n');
  assert.ok(lstatSync(link).isSymbolicLink(), 'still a symlink');
  assert.equal(readFileSync(target, 'utf8'), 'classifier:\n  models: ["/m"]\n');
  assert.equal(lstatSync(target).mode & 0o777, 0o640, 'mode kept');
});

const CONTENT = Buffer.from('0123456789');
function catalog(): Record<string, CatalogEntry> {
  return {
    tiny: {
      description: 'test',
      upstream: { repo: 'x/y', commit: 'c', baseUrl: 'http://127.0.0.1:1/' },
      mirrorDir: 'tiny',
      installDir: 'models/tiny',
      files: [{ upstreamPath: 'm.onnx', path: 'm.onnx', sha256: createHash('sha256').update(CONTENT).digest('hex'), bytes: CONTENT.length }],
      manifest: {} as CatalogEntry['manifest'],
    },
  };
}

test('models fetch: a mirror file of the wrong size is refused before it is copied', async () => {
  const mirror = fresh();
  mkdirSync(join(mirror, 'tiny'));
  const big = join(mirror, 'tiny', 'm.onnx');
  writeFileSync(big, '');
  truncateSync(big, 2 * 1024 ** 3); // sparse: 2 GB that would take a while to copy
  const dest = join(fresh(), 'tiny');
  await assert.rejects(
    fetchModel('tiny', { dest, mirror, catalog: catalog() }),
    (err: unknown) =>
      err instanceof FetchError && err.reason === 'checksum' && /is 2147483648 bytes, the catalog pins 10: refused, nothing installed/.test(err.message),
  );
});

test('models fetch: a download larger than the catalog says is cut off while streaming, never held whole in memory', async () => {
  let sent = 0;
  const server = createServer((_req, res) => {
    // No Content-Length: chunked, so only counting while streaming can catch it.
    const chunk = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (sent < 256 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    await assert.rejects(
      fetchModel('tiny', { dest: join(fresh(), 'tiny'), mirror: '', baseUrl: `http://127.0.0.1:${port}/`, catalog: catalog() }),
      (err: unknown) => err instanceof FetchError && err.reason === 'checksum' && /sent more than the 10 bytes the catalog says: refused/.test(err.message),
    );
    assert.ok(sent < 256 * 1024 * 1024, `the download was cut off early (${sent} bytes sent)`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('an outbox entry that is a symlink is quarantined without being followed; no entry bytes reach the log', () => {
  const state = fresh();
  const dir = join(state, 'outbox');
  mkdirSync(dir);
  const secret = join(state, 'secret.txt');
  writeFileSync(secret, 'SECRET-BYTES\u001b[2J not json');
  symlinkSync(secret, join(dir, '00000000000000000001.json'));
  writeFileSync(join(dir, '00000000000000000002.json'), 'GARBAGE-BYTES\u001b[2J');
  writeFileSync(join(dir, '00000000000000000003.json'), JSON.stringify({ topic: 't', payload: 'p', createdAt: Date.now() }));
  const { log: outboxLog, lines } = logLines();
  const box = new Outbox(state, { maxEvents: 10, maxAgeMs: 3600_000 }, outboxLog);
  assert.deepEqual(box.pending(), [3]);
  assert.equal(box.quarantined, 2);
  const log = lines.join('\n');
  assert.match(log, /warn: .*00000000000000000001\.json \(a symbolic link, not an entry \(not followed\)\)/);
  assert.doesNotMatch(log, /SECRET|GARBAGE/);
  assert.ok(!log.includes('\u001b'), 'no escape character from an entry reaches the log');
  const moved = readdirSync(join(dir, 'quarantine'));
  assert.equal(moved.length, 2);
  const link = moved.find((n) => n.startsWith('00000000000000000001.json'))!;
  assert.ok(lstatSync(join(dir, 'quarantine', link)).isSymbolicLink(), 'the link itself moved aside, its target untouched');
  assert.equal(readFileSync(secret, 'utf8'), 'SECRET-BYTES\u001b[2J not json');
});
