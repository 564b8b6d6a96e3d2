// model.json: what a model directory promises (design §1). The agent reads everything it needs to run a
// model from here and checks the promise against the files and the ONNX graph before it runs anything.
// Its shape is contract/manifest.ts (TypeBox); the rules that span fields are checked here.
import { EXIT_MODEL } from '../lib/exit-codes.js';
import { openRegular } from './model-bytes.js';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { CONTRACT_LABELS, TASKS, type Task } from '../contract/labels.js';
import { GRID_OUTPUT_TYPES, ManifestSchema, TASK_OUTPUT_TYPES, type ModelManifest, type Precision } from '../contract/manifest.js';

export {
  GRID_OUTPUT_TYPES,
  TASK_OUTPUT_TYPES,
  type CropMode,
  type GridOutputType,
  type ModelKind,
  type ModelManifest,
  type OutputSpec,
  type OutputType,
  type Precision,
  type ResizeMode,
} from '../contract/manifest.js';

export class ModelError extends Error {
  readonly exitCode = EXIT_MODEL;
  constructor(
    readonly dir: string,
    readonly problems: string[],
  ) {
    super(`model ${dir}: ${problems.join('; ')}`);
    this.name = 'ModelError';
  }
}

const validateShape = new Ajv({ allErrors: true, verbose: true }).compile<ModelManifest>(ManifestSchema);

/**
 * One line per wrong field, naming it and, for a closed set, what it may be. A union (anyOf) reports
 * each failed branch at the same path: those fold into the union's own description.
 */
function schemaProblems(errors: ErrorObject[]): string[] {
  const unions = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors
    .filter((e) => e.keyword === 'anyOf' || !unions.has(e.instancePath))
    .map((e) => {
      const at = `model.json${e.instancePath}`;
      const params = e.params as { allowedValues?: unknown[]; missingProperty?: string };
      const described = (e.parentSchema as { description?: string } | undefined)?.description;
      if (e.keyword === 'enum' && params.allowedValues) return `${at} must be one of ${params.allowedValues.join(', ')}`;
      if (e.keyword === 'required') return `${at} needs "${params.missingProperty}"`;
      if (e.keyword === 'anyOf' && described) return `${at} must be ${described}`;
      return `${at} ${e.message}`;
    });
}

export interface LoadedManifest {
  dir: string;
  manifest: ModelManifest;
  modelPath: string;
}

/** Reads and checks model.json itself (structure, label sets). Files and graph are checked separately. */
export function loadManifest(dirArg: string): LoadedManifest {
  const dir = resolve(dirArg);
  const path = join(dir, 'model.json');
  if (!existsSync(path)) throw new ModelError(dir, [`no model.json in ${dir} (is this a model directory? for the default models run "npm run setup")`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelError(dir, [`model.json is not valid JSON: ${(err as Error).message}`]);
  }
  if (!validateShape(raw)) {
    throw new ModelError(dir, schemaProblems(validateShape.errors ?? []));
  }
  const manifest = raw;
  const problems = checkLabels(manifest);
  if (!manifest.files.some((f) => f.path === manifest.model)) problems.push(`"model" (${manifest.model}) is not listed in "files" with a sha256`);
  const types = manifest.outputs.map((o) => o.type);
  if (manifest.kind === 'detector' && !types.includes('ssd-box-encodings') && !types.includes('grid-box-offsets')) {
    problems.push('a detector manifest needs box outputs (ssd-box-encodings, or grid-box-offsets per stride)');
  }
  if (types.includes('ssd-box-encodings') && !manifest.priors) problems.push('an SSD detector manifest (ssd-box-encodings) needs "priors"');
  for (const o of manifest.outputs) {
    if ((GRID_OUTPUT_TYPES as readonly string[]).includes(o.type) && !o.stride) problems.push(`output ${o.name}: a ${o.type} output needs "stride"`);
  }
  if (manifest.kind === 'embedding' && !manifest.outputs.some((o) => o.type === 'embedding' && o.metric && o.sameBelow)) {
    problems.push('an embedding manifest needs an output of type "embedding" with "metric" and "sameBelow"');
  }
  problems.push(...runProblems(dir, manifest));
  if (problems.length) throw new ModelError(dir, problems);
  return { dir, manifest, modelPath: join(dir, manifest.model) };
}

/**
 * What the adapters need at run time, checked here so that `percept models verify` refuses exactly what
 * `percept run` would: a fixed input size where the crop or canvas is resized to it, an attribute output
 * in an attributes model, the SSD's priors file with the count the manifest states.
 */
function runProblems(dir: string, m: ModelManifest): string[] {
  const problems: string[] = [];
  const [, , h, w] = m.input.shape;
  const grid = m.outputs.some((o) => (GRID_OUTPUT_TYPES as readonly string[]).includes(o.type));
  if (!grid && (typeof h !== 'number' || typeof w !== 'number')) {
    problems.push(
      `input ${m.input.name}: height and width must be fixed numbers for this ${m.kind} model (crops are resized to them; the manifest says [${m.input.shape}])`,
    );
  }
  if (m.kind === 'attributes' && !m.outputs.some((o) => (TASKS as readonly string[]).includes(o.task))) {
    problems.push(`no output gives ${TASKS.join(', ')}: an attributes model needs at least one`);
  }
  if (m.priors) {
    const path = join(dir, m.priors.file);
    const bytes = existsSync(path) ? statSync(path).size : -1;
    if (bytes < 0) problems.push(`priors file ${m.priors.file} is missing`);
    else if (bytes !== m.priors.count * 16) problems.push(`priors file ${m.priors.file} holds ${bytes / 16} boxes, the manifest says ${m.priors.count}`);
  }
  return problems;
}

function checkLabels(m: ModelManifest): string[] {
  const problems: string[] = [];
  for (const out of m.outputs) {
    if (!(TASKS as readonly string[]).includes(out.task)) continue;
    const task = out.task as Task;
    const width = out.shape[out.shape.length - 1];
    if (!(TASK_OUTPUT_TYPES as readonly string[]).includes(out.type)) {
      problems.push(`output ${out.name}: a ${task} output is decoded from ${TASK_OUTPUT_TYPES.join(', ')}, not ${out.type}`);
      continue;
    }
    if (out.type === 'regression-years') {
      if (task !== 'age') problems.push(`output ${out.name}: regression-years only makes sense for age`);
      if (width !== 1) problems.push(`output ${out.name}: a regression output has width 1, the manifest says ${width}`);
      if (!out.sigmaYears) problems.push(`output ${out.name}: regression-years needs sigmaYears (the spread used to bin ages into groups)`);
      continue;
    }
    const labels = out.labels ?? [];
    const expected = CONTRACT_LABELS[task];
    if (labels.length !== expected.length) {
      problems.push(`output ${out.name}: ${labels.length} labels listed, the ${task} contract has ${expected.length} (${expected.join(', ')})`);
    } else {
      const unknown = labels.filter((l) => !expected.includes(l));
      if (unknown.length) problems.push(`output ${out.name}: labels ${unknown.join(', ')} are not in the ${task} contract (${expected.join(', ')})`);
      if (new Set(labels).size !== labels.length) problems.push(`output ${out.name}: duplicate labels`);
    }
    if (typeof width === 'number' && width !== labels.length) {
      problems.push(`output ${out.name}: shape says ${width} classes but ${labels.length} labels are listed`);
    }
  }
  return problems;
}

/** The sha256 of a regular file (a FIFO or device is refused at once: reading it could block for ever), bounded by `bytes` when known. */
export async function sha256File(path: string, bytes: number | null = null): Promise<string> {
  const hash = createHash('sha256');
  const { fd } = openRegular(path, bytes, Number.MAX_SAFE_INTEGER);
  for await (const chunk of createReadStream('', { fd })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every listed file (but `skip`, which the inference worker hashes as it loads it) exists and has its sha256. */
export async function verifyFiles(loaded: LoadedManifest, skip?: string): Promise<void> {
  const problems: string[] = [];
  for (const f of loaded.manifest.files) {
    const p = join(loaded.dir, f.path);
    if (!existsSync(p)) {
      problems.push(`file ${f.path} is missing`);
      continue;
    }
    if (f.path === skip) continue;
    let actual: string;
    try {
      actual = await sha256File(p, f.bytes ?? null);
    } catch (err) {
      problems.push(`file ${f.path}: ${(err as Error).message}`);
      continue;
    }
    if (actual !== f.sha256)
      problems.push(`file ${f.path} has sha256 ${actual}, the manifest says ${f.sha256} (corrupt or replaced; re-run the converter or export)`);
  }
  if (problems.length) throw new ModelError(loaded.dir, problems);
}

export interface GraphValue {
  name: string;
  shape: readonly (number | string)[];
}

/** The ONNX graph's inputs and outputs agree with the manifest (names, ranks, fixed dimensions). */
export function verifyGraph(loaded: LoadedManifest, inputs: GraphValue[], outputs: GraphValue[]): void {
  const m = loaded.manifest;
  const problems: string[] = [];
  const compare = (what: string, spec: { name: string; shape: (number | string)[] }, actual: GraphValue | undefined, names: string[]) => {
    if (!actual) {
      problems.push(`${what} "${spec.name}" is not in the ONNX graph (it has ${names.join(', ') || 'none'})`);
      return;
    }
    if (actual.shape.length && actual.shape.length !== spec.shape.length) {
      problems.push(`${what} "${spec.name}" has rank ${actual.shape.length} in the graph, the manifest says [${spec.shape}]`);
      return;
    }
    actual.shape.forEach((d, i) => {
      const want = spec.shape[i];
      if (typeof d === 'number' && typeof want === 'number' && d !== want && d > 0) {
        problems.push(`${what} "${spec.name}" dimension ${i} is ${d} in the graph, the manifest says ${want}`);
      }
    });
  };
  compare(
    'input',
    m.input,
    inputs.find((v) => v.name === m.input.name),
    inputs.map((v) => v.name),
  );
  for (const out of m.outputs)
    compare(
      'output',
      out,
      outputs.find((v) => v.name === out.name),
      outputs.map((v) => v.name),
    );
  if (problems.length) throw new ModelError(loaded.dir, problems);
}

export const precisionOf = (m: ModelManifest): Precision => m.precision ?? 'fp32';

export function inputSize(m: ModelManifest): { width: number; height: number } {
  const [, , h, w] = m.input.shape;
  if (typeof h !== 'number' || typeof w !== 'number') throw new Error(`model ${m.name}: input height and width must be fixed numbers`);
  return { width: w, height: h };
}
