// Checks a model directory before anything runs it: manifest, sha256 of every file, the ONNX graph's inputs
// and outputs against the manifest, and one inference on a zero batch whose outputs must have the manifest's
// shapes and be finite. A merged model is switched to only after this passes.
import * as ort from 'onnxruntime-node';
import { loadManifest, ModelError, verifyFiles, verifyGraph, type LoadedManifest } from '../manifest.js';

export async function verifyModelWithInference(dir: string): Promise<LoadedManifest> {
  const loaded = loadManifest(dir);
  await verifyFiles(loaded);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(loaded.modelPath, {
      intraOpNumThreads: 1,
    });
  } catch (err) {
    throw new ModelError(loaded.dir, [`onnxruntime cannot load ${loaded.manifest.model}: ${(err as Error).message.split('\n')[0]}`]);
  }
  try {
    const meta = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map((v) => ({ name: v.name, shape: v.isTensor ? v.shape : [] }));
    verifyGraph(loaded, meta(session.inputMetadata), meta(session.outputMetadata));
    const m = loaded.manifest;
    const dims = m.input.shape.map((d) => (typeof d === 'number' ? d : 1));
    const input = new ort.Tensor('float32', new Float32Array(dims.reduce((n, d) => n * d, 1)), dims);
    const outputs = await session.run({ [m.input.name]: input });
    const problems: string[] = [];
    for (const spec of m.outputs) {
      const t = outputs[spec.name];
      if (!t) {
        problems.push(`output ${spec.name} was not produced`);
        continue;
      }
      const want = spec.shape.map((d) => (typeof d === 'number' ? d : 1));
      if (t.dims.join(',') !== want.join(',')) problems.push(`output ${spec.name} has shape [${t.dims}] on a batch of 1, the manifest says [${spec.shape}]`);
      if (!(t.data as Float32Array).every(Number.isFinite)) problems.push(`output ${spec.name} is not finite on a zero input (merged weights overflow?)`);
    }
    if (problems.length) throw new ModelError(loaded.dir, problems);
  } finally {
    await session.release();
  }
  return loaded;
}
