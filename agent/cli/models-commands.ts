// percept models list | verify NAME|DIR
import * as ort from 'onnxruntime-node';
import { loadManifest, ModelError, precisionOf, verifyFiles, verifyGraph, type LoadedManifest } from '../inference/manifest.js';
import { findModelDirs, modelDirOf, MODELS_ROOT } from './model-names.js';
import { EXIT_MODEL } from '../lib/exit-codes.js';

export { findModelDirs };

export async function modelsList(): Promise<number> {
  const dirs = findModelDirs();
  if (!dirs.length) {
    process.stdout.write(`no models under ${MODELS_ROOT}; "npm run setup" converts the default ones\n`);
    return 0;
  }
  for (const dir of dirs) {
    try {
      const { manifest: m } = loadManifest(dir);
      const tasks = m.outputs.map((o) => o.task).join(', ');
      process.stdout.write(`${m.name.padEnd(28)} ${m.kind.padEnd(10)} ${precisionOf(m).padEnd(5)} ${tasks.padEnd(26)} ${dir}\n`);
    } catch (err) {
      process.stdout.write(`${'(invalid)'.padEnd(28)} ${''.padEnd(10)} ${''.padEnd(5)} ${(err as Error).message}\n`);
    }
  }
  return 0;
}

function resolveTarget(target: string): string {
  const dir = modelDirOf(target);
  if (!dir) throw new ModelError(target, ['no such directory, and no model of that name under models/ ("percept models list" shows them)']);
  return dir;
}

export async function verifyModelDir(dir: string): Promise<LoadedManifest> {
  const loaded = loadManifest(dir);
  await verifyFiles(loaded);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(loaded.modelPath);
  } catch (err) {
    throw new ModelError(loaded.dir, [`onnxruntime cannot load ${loaded.manifest.model}: ${(err as Error).message.split('\n')[0]}`]);
  }
  const meta = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map((v) => ({ name: v.name, shape: v.isTensor ? v.shape : [] }));
  try {
    verifyGraph(loaded, meta(session.inputMetadata), meta(session.outputMetadata));
  } finally {
    await session.release();
  }
  return loaded;
}

export async function modelsVerify(target: string | undefined): Promise<number> {
  if (!target) {
    process.stderr.write('percept models verify: name a model directory or a model name (see "percept models list")\n');
    return 64;
  }
  try {
    const loaded = await verifyModelDir(resolveTarget(target));
    const m = loaded.manifest;
    process.stdout.write(
      `${m.name}: OK (${precisionOf(m)}; ${m.files.length} files, sha256 match; input ${m.input.name} [${m.input.shape}]; outputs ${m.outputs.map((o) => `${o.name}→${o.task}`).join(', ')})\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    process.stderr.write(`percept models verify: ${err.message}\n`);
    return EXIT_MODEL;
  }
}
