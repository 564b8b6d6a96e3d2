// Integrity after start (issue 20, item 8): a model file replaced on disk after the session opened (here
// by another valid model) is not picked up by a replacement worker. The worker hashes the very bytes it
// hands to onnxruntime; a replacement must load bytes with the hash of the first load, so it refuses the
// new file: calls fail (no labels from an unknown model), a clear line is logged, and it is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadManifest } from '../../agent/inference/manifest.js';
import { inferenceFaults, WorkerSession } from '../../agent/inference/worker-session.js';
import { DEFAULT_MODELS } from '../../agent/inference/default-models.js';
import { tempDir } from '../helpers/temp.js';
import { crashable } from '../helpers/worker-crash.js';
import { logLines } from '../helpers/log-lines.js';

/** A fresh batch per call: its buffer is transferred to the worker. */
const input = () => ({ input: { data: new Float32Array(3 * 112 * 112), dims: [1, 3, 112, 112] } });

/** Another valid model (same input) takes the file's place; or one byte changes in place (same size). */
const REPLACEMENTS = {
  'another model': (path: string) => copyFileSync(join(DEFAULT_MODELS.ageGender, loadManifest(DEFAULT_MODELS.ageGender).manifest.model), path),
  'one byte flipped': (path: string) => {
    const bytes = readFileSync(path);
    bytes[bytes.length - 1000]! ^= 0x01;
    writeFileSync(path, bytes);
  },
};

for (const [how, replace] of Object.entries(REPLACEMENTS))
  for (const verifySha256 of [true, false]) {
    test(`a model file replaced after start (${how}) is refused by the replacement worker (verifySha256: ${verifySha256})`, async () => {
      const dir = join(tempDir('percept-integrity-'), 'expression');
      cpSync(DEFAULT_MODELS.expression, dir, { recursive: true, dereference: true });
      const loaded = loadManifest(dir);
      const { log, lines } = logLines();
      const { opts, crash } = crashable({ providers: ['cpu'], intraOpThreads: 1, verifySha256 });
      const s = await WorkerSession.open(loaded, opts, log);
      const changedBefore = inferenceFaults.modelChanged;
      try {
        const first = await s.run(input());
        assert.ok(first.outputs.expression ?? Object.values(first.outputs)[0]);
        replace(loaded.modelPath);
        // The worker dies (as a crash would; a timeout replaces it the same way): its replacement reads the file again.
        await crash();
        await assert.rejects(
          s.run(input()),
          /(is \d+ bytes, the manifest says \d+ \(so its sha256 cannot match either\): refused|has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}) \(the file changed on disk since the model was loaded\)/,
        );
        assert.ok(
          lines.some((l) => /^warn: .*a new inference worker could not start: .*the file changed on disk since the model was loaded/.test(l)),
          lines.join('\n'),
        );
        assert.equal(inferenceFaults.modelChanged, changedBefore + 1);
      } finally {
        await s.close();
      }
    });
  }

test('a file beside the model (external data) replaced after start is refused by the replacement worker', async () => {
  const dir = join(tempDir('percept-integrity-'), 'expression');
  cpSync(DEFAULT_MODELS.expression, dir, { recursive: true, dereference: true });
  // onnxruntime reads a merged model's external data itself, from the model's folder: listed in the manifest like it.
  const data = join(dir, 'model.onnx.data');
  writeFileSync(data, Buffer.alloc(4096, 7));
  const manifestPath = join(dir, 'model.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: { path: string; sha256: string; bytes?: number }[] };
  manifest.files.push({ path: 'model.onnx.data', sha256: createHash('sha256').update(readFileSync(data)).digest('hex'), bytes: 4096 });
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const { log, lines } = logLines();
  const { opts, crash } = crashable({ providers: ['cpu'], intraOpThreads: 1, verifySha256: true });
  const s = await WorkerSession.open(loadManifest(dir), opts, log);
  const changedBefore = inferenceFaults.modelChanged;
  try {
    await s.run(input());
    appendFileSync(data, 'x');
    await crash();
    await assert.rejects(s.run(input()), /file model\.onnx\.data: .* is 4097 bytes, the manifest says 4096 .*changed on disk since the model was loaded/);
    assert.ok(
      lines.some((l) => /^warn: .*a new inference worker could not start: .*model\.onnx\.data/.test(l)),
      lines.join('\n'),
    );
    assert.equal(inferenceFaults.modelChanged, changedBefore + 1);
  } finally {
    await s.close();
  }
});
