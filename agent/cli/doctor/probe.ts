// Child-process entry of doctor's risky checks (exec.ts runProbe): loading OpenCV's addon, an execution
// provider's native libraries or a model can crash or hang a process, and it must be this one. The answer
// is one marked JSON line on stdout; onnxruntime's own error log stays on stderr for the parent to read
// (it names the library that failed to load, which the thrown error does not).
import { PROBE_MARK, type ProbeAnswer } from './exec.js';
import { TINY_INPUT, TINY_OUTPUT, tinyModel } from './tiny-model.js';
import { must } from '../../lib/must.js';

function answer(a: ProbeAnswer): void {
  process.stdout.write(`\n${PROBE_MARK}${JSON.stringify(a)}\n`);
}

async function opencv(): Promise<ProbeAnswer> {
  const { loadOpenCV } = await import('../../capture/opencv.js');
  const cv = await loadOpenCV();
  const v = cv.version;
  return { ok: true, version: `${v.major}.${v.minor}.${v.revision}`, info: cv.getBuildInformation() };
}

async function provider(name: string): Promise<ProbeAnswer> {
  const ort = await import('onnxruntime-node');
  const inBuild = ort.listSupportedBackends().some((b) => b.name === name);
  const runtime = ort.env.versions.common ?? '';
  if (!inBuild) return { ok: false, inBuild, runtime, error: `not in this onnxruntime-node build (it has ${ort.listSupportedBackends().map((b) => b.name)})` };
  try {
    // Errors only: the loader's line naming the missing library is what the parent reads.
    const session = await ort.InferenceSession.create(tinyModel(), { executionProviders: [name], logSeverityLevel: 3 });
    try {
      const out = await session.run({ [TINY_INPUT]: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 4]) });
      const y = [...(must(out[TINY_OUTPUT], `output "${TINY_OUTPUT}" of the probe model`).data as Float32Array)];
      if (y.join() !== '2,4,6,8') return { ok: false, inBuild, runtime, error: `loads but computes x + x wrongly ([${y}] for [1,2,3,4])` };
    } finally {
      await session.release();
    }
    return { ok: true, inBuild, runtime };
  } catch (err) {
    return { ok: false, inBuild, runtime, error: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

async function model(dir: string): Promise<ProbeAnswer> {
  const { verifyModelDir } = await import('../models-commands.js');
  const { ModelError } = await import('../../inference/manifest.js');
  try {
    const { manifest } = await verifyModelDir(dir);
    return { ok: true, name: manifest.name, files: manifest.files.length };
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    return { ok: false, error: err.problems.join('; ') };
  }
}

const [what, arg = ''] = process.argv.slice(2);
try {
  if (what === 'opencv') answer(await opencv());
  else if (what === 'provider') answer(await provider(arg));
  else if (what === 'model') answer(await model(arg));
  else answer({ ok: false, error: `unknown probe "${what}"` });
} catch (err) {
  answer({ ok: false, error: (err as Error).message.split('\n')[0] ?? String(err) });
}
// The answer is written (stdout to a pipe is synchronous on Linux); a native library's threads or its
// teardown must not hold the parent's deadline.
process.exit(0);
