// Checks a model directory before anything runs it: manifest, sha256 of every file, the ONNX graph's inputs
// and outputs against the manifest, and one inference on a zero batch whose outputs must have the manifest's
// shapes and be finite (merged weights that overflow give NaN). A merged model is switched to only after
// this passes. The inference runs in a worker, as everywhere else.
import { loadManifest, ModelError, type LoadedManifest } from '../manifest.js';
import { WorkerSession } from '../worker-session.js';
import { zeroBatch, zeroBatchProblems } from '../zero-batch.js';

export async function verifyModelWithInference(dir: string): Promise<LoadedManifest> {
  const loaded = loadManifest(dir);
  const session = await WorkerSession.open(loaded, { providers: ['cpu'], intraOpThreads: 1, verifySha256: true });
  try {
    const { outputs } = await session.run(zeroBatch(loaded.manifest));
    const problems = zeroBatchProblems(loaded.manifest, outputs);
    if (problems.length) throw new ModelError(loaded.dir, problems);
  } finally {
    await session.close();
  }
  return loaded;
}
