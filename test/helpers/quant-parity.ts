// int8 against fp32 on nets with real weights: the converted face-api attribute nets, quantized by
// models/pe-core/quantize.py, run by the agent's own worker sessions on face crops from the parity photos
// (the ones test/integration/face-api-parity uses), decoded as the agent publishes them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { SsdDetector } from '../../agent/detect/ssd-detector.js';
import { inputSize, loadManifest, type LoadedManifest } from '../../agent/inference/manifest.js';
import { faceCrop, writeInput, type Region } from '../../agent/inference/preprocess.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { decodeOutput } from '../../agent/classify/outputs.js';
import type { Task } from '../../agent/contract/labels.js';
import { exportPython } from './pe-core.js';
import { DEFAULT_MODELS, PACKAGE_ROOT } from './models.js';
import { FACE_API_SAMPLES, GRACE_HOPPER, MESSI, requireImage } from './images.js';

const SESSION = { providers: ['cpu'], intraOpThreads: 2, verifySha256: true };

/** Runs quantize.py: an int8 copy of the model directory `src` at `out`; returns its log. */
export function quantizeDir(src: string, out: string, ops: string[], perChannel = false): string {
  const args = [join(PACKAGE_ROOT, 'models/pe-core/quantize.py'), src, out, '--ops', ops.join(','), ...(perChannel ? ['--per-channel'] : [])];
  const r = spawnSync(exportPython(), args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`quantize.py ${src} failed (${r.status}): ${r.stderr}`);
  return r.stderr;
}

/** Operator type → count in an ONNX graph, read with the onnx package of the export tool's venv. */
export function onnxOpCounts(path: string): Record<string, number> {
  const code = 'import collections,json,onnx,sys; print(json.dumps(collections.Counter(n.op_type for n in onnx.load(sys.argv[1]).graph.node)))';
  const r = spawnSync(exportPython(), ['-c', code, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reading ${path}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

export interface FaceSample {
  image: Mat;
  box: Region;
}

/**
 * Every face SSD finds on the parity photos, each in several crops (margins 0–0.3, the box shifted by 5 %):
 * the 24 faces alone would make one disagreement worth 4 %.
 */
export async function parityFaces(cv: CV): Promise<FaceSample[]> {
  const detector = await SsdDetector.open(cv, DEFAULT_MODELS.detector, { scoreThreshold: 0.5, iouThreshold: 0.5, minFacePx: 1, maxFaces: 100 }, SESSION);
  const out: FaceSample[] = [];
  try {
    for (const path of [GRACE_HOPPER, MESSI, ...FACE_API_SAMPLES]) {
      const image = cv.imread(requireImage(path));
      for (const d of await detector.detect({ mat: image, width: image.cols, height: image.rows, index: 0, ts: 0 })) {
        for (const margin of [0, 0.1, 0.2, 0.3]) {
          for (const [sx, sy] of [
            [0, 0],
            [0.05, 0],
            [0, 0.05],
            [-0.05, -0.05],
          ] as const) {
            const g = faceCrop(d.box, margin);
            out.push({ image, box: { x: g.x + sx * d.box.w, y: g.y + sy * d.box.h, w: g.w, h: g.h } });
          }
        }
      }
    }
  } finally {
    await detector.close();
  }
  return out;
}

export interface TaskParity {
  task: Task;
  n: number;
  /** Faces whose published label is the same, over n. */
  agreement: number;
  /** Largest |p_int8 − p_fp32| over every label of every face. */
  maxProbDiff: number;
  /** Regression outputs only: largest difference in years. */
  maxYearsDiff?: number;
}

async function predictions(cv: CV, loaded: LoadedManifest, faces: FaceSample[]) {
  const m = loaded.manifest;
  const { width, height } = inputSize(m);
  const session = await WorkerSession.open(loaded, SESSION);
  const rows: Record<string, ReturnType<typeof decodeOutput>[]> = {};
  try {
    for (const f of faces) {
      const data = new Float32Array(3 * width * height);
      // The boxes are final crops already (margin applied above): no second margin here.
      writeInput(cv, f.image, f.box, m, data, 0);
      const { outputs } = await session.run({ [m.input.name]: { data, dims: [1, 3, height, width] } });
      for (const spec of m.outputs) (rows[spec.task] ??= []).push(decodeOutput(spec, outputs[spec.name]!.data));
    }
  } finally {
    await session.close();
  }
  return rows;
}

/** The int8 model in `int8Dir` against the fp32 one in `fp32Dir`, per task, on `faces`. */
export async function compareOnFaces(fp32Dir: string, int8Dir: string, faces: FaceSample[]): Promise<TaskParity[]> {
  const cv = await loadOpenCV();
  const ref = await predictions(cv, loadManifest(fp32Dir), faces);
  const got = await predictions(cv, loadManifest(int8Dir), faces);
  return Object.keys(ref).map((task) => {
    const a = ref[task]!;
    const b = got[task]!;
    let same = 0;
    let maxProbDiff = 0;
    let maxYearsDiff: number | undefined;
    a.forEach((r, i) => {
      if (r.label === b[i]!.label) same++;
      for (const [label, p] of Object.entries(r.probs)) maxProbDiff = Math.max(maxProbDiff, Math.abs(p - b[i]!.probs[label]!));
      if (r.years !== undefined) maxYearsDiff = Math.max(maxYearsDiff ?? 0, Math.abs(r.years - b[i]!.years!));
    });
    return { task: task as Task, n: a.length, agreement: same / a.length, maxProbDiff, ...(maxYearsDiff === undefined ? {} : { maxYearsDiff }) };
  });
}

export const REAL_WEIGHT_NETS = { ageGender: DEFAULT_MODELS.ageGender, expression: DEFAULT_MODELS.expression };

export function formatParity(net: string, recipe: string, rows: TaskParity[]): string[] {
  return rows.map(
    (r) =>
      `${net.padEnd(16)} ${recipe.padEnd(24)} ${r.task.padEnd(8)} n ${String(r.n).padStart(4)}  top-1 agreement ${(r.agreement * 100).toFixed(1).padStart(5)} %  ` +
      `max |Δp| ${r.maxProbDiff.toFixed(4)}${r.maxYearsDiff === undefined ? '' : `  max |Δyears| ${r.maxYearsDiff.toFixed(2)}`}`,
  );
}
