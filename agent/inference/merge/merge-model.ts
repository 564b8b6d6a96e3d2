// `percept models merge`: a base model directory + a PEFT LoRA/DoRA adapter → a new model directory.
// Bounded memory: the base files are copied by the kernel, then each adapted weight is read from the copy,
// merged and written back at the same byte offset (same size, so the protobuf around it is untouched).
// Only one weight and its adapter factors are in memory at a time, whatever the model's size.
// Nothing is half-applied: everything is checked before the copy, the result is verified (sha256, graph,
// one inference) in a hidden sibling directory, and only then renamed to --out.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { loadManifest, ModelError, sha256File, verifyFiles, type ModelManifest } from '../manifest.js';
import { ONNX_FLOAT, scanInitializers, type InitializerLocation } from './onnx-initializers.js';
import { AdapterMismatch, planAdapter, type AdaptableLayer, type AdapterPlan, type LayerPlan } from './peft-adapter.js';
import { SafetensorsError } from './safetensors.js';
import { mergeLinearWeight } from './merge-weights.js';
import { verifyModelWithInference } from './verify-model.js';

/** model.json of a model that adapters can be merged into (written by models/pe-core/export.py). */
export interface MergeableManifest extends ModelManifest {
  variant?: string;
  adaptable?: Record<string, AdaptableLayer>;
  merged?: unknown;
}

export interface MergeOptions {
  base: string;
  adapter: string;
  out: string;
  /** Model name in the new manifest (default: base name + adapter directory name). */
  name?: string;
  onProgress?: (done: number, total: number, module: string) => void;
}

export interface MergeResult {
  dir: string;
  manifest: MergeableManifest;
  layers: number;
  kind: 'LoRA' | 'DoRA';
}

interface Target {
  plan: LayerPlan;
  init: InitializerLocation & {
    data: { kind: 'inline' | 'external'; offset: number; length: number };
  };
}

export async function mergeAdapter(opts: MergeOptions): Promise<MergeResult> {
  if (endianness() !== 'LE') throw new Error('merge reads ONNX and safetensors bytes as little-endian floats; this machine is big-endian');
  const out = resolve(opts.out);
  if (existsSync(out)) throw new ModelError(out, ['--out already exists; name a new directory (a merge never overwrites a model)']);
  const loaded = loadManifest(opts.base);
  const base = loaded.manifest as MergeableManifest;
  if (!base.adaptable || !Object.keys(base.adaptable).length) {
    throw new ModelError(loaded.dir, [
      'model.json records no "adaptable" layers (the ONNX initializer of each linear weight); ' +
        're-export the base with models/pe-core/export.py (e.g. --mode base) to merge adapters into it',
    ]);
  }
  await verifyFiles(loaded);
  let plan: AdapterPlan;
  try {
    plan = planAdapter(resolve(opts.adapter), base.adaptable);
  } catch (err) {
    if (err instanceof AdapterMismatch || err instanceof SafetensorsError) throw new ModelError(resolve(opts.adapter), [err.message]);
    throw err;
  }
  try {
    const targets = locateTargets(loaded.dir, loaded.modelPath, plan);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = mkdtempSync(join(dirname(out), `.merge-${basename(out)}-`));
    try {
      for (const f of base.files) {
        mkdirSync(dirname(join(tmp, f.path)), { recursive: true });
        copyFileSync(join(loaded.dir, f.path), join(tmp, f.path));
      }
      targets.forEach((t, i) => {
        opts.onProgress?.(i, targets.length, t.plan.module);
        patchWeight(t.init.data.kind === 'inline' ? join(tmp, base.model) : join(tmp, (t.init.data as { file: string }).file), t, plan);
      });
      opts.onProgress?.(targets.length, targets.length, '');
      const manifest = await newManifest(tmp, loaded.dir, base, plan, opts);
      writeFileSync(join(tmp, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      worldReadable(tmp);
      await verifyModelWithInference(tmp);
      renameSync(tmp, out);
      return { dir: out, manifest, layers: targets.length, kind: plan.kind };
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  } finally {
    plan.file.close();
  }
}

/** Every planned layer has its initializer in the ONNX, fp32, of the recorded shape and layout. */
function locateTargets(dir: string, modelPath: string, plan: AdapterPlan): Target[] {
  let inits: Map<string, InitializerLocation>;
  try {
    inits = new Map(scanInitializers(modelPath).map((i) => [i.name, i]));
  } catch (err) {
    throw new ModelError(dir, [`cannot read the initializers of ${basename(modelPath)}: ${(err as Error).message}`]);
  }
  return plan.layers.map((p) => {
    const {
      initializer,
      layout,
      shape: [o, i],
    } = p.layer;
    const init = inits.get(initializer);
    const problem = !init
      ? `has no initializer ${initializer} (model.json says it holds ${p.module}'s weight)`
      : init.dataType !== ONNX_FLOAT
        ? `initializer ${initializer} is not float32 (ONNX type ${init.dataType}); merge into the fp32 export and convert afterwards`
        : init.dims.join(',') !== (layout === 'out-in' ? [o, i] : [i, o]).join(',')
          ? `initializer ${initializer} has dims [${init.dims}], model.json says ${layout} [${o}, ${i}]`
          : init.data.kind === 'unsupported'
            ? `initializer ${initializer} cannot be patched (${init.data.why})`
            : undefined;
    if (problem) throw new ModelError(dir, [`${basename(modelPath)} ${problem}`]);
    return { plan: p, init: init as Target['init'] };
  });
}

function patchWeight(file: string, t: Target, plan: AdapterPlan): void {
  const { offset, length } = t.init.data;
  const fd = openSync(file, 'r+');
  try {
    const bytes = Buffer.alloc(length);
    if (readSync(fd, bytes, 0, length, offset) !== length) throw new Error(`${basename(file)} ended inside ${t.init.name}`);
    const weight = new Float32Array(bytes.buffer, bytes.byteOffset, length / 4);
    const [o, i] = t.plan.layer.shape;
    mergeLinearWeight(weight, t.plan.layer.layout, o, i, {
      a: plan.file.read(t.plan.keyA),
      b: plan.file.read(t.plan.keyB),
      rank: t.plan.rank,
      scale: t.plan.scale,
      ...(t.plan.keyMagnitude ? { magnitude: plan.file.read(t.plan.keyMagnitude) } : {}),
    });
    writeSync(fd, bytes, 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

async function newManifest(tmp: string, baseDir: string, base: MergeableManifest, plan: AdapterPlan, opts: MergeOptions): Promise<MergeableManifest> {
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  const adapterSha = await sha256File(plan.weightsPath);
  const configSha = sha(plan.configPath);
  const baseModelSha = base.files.find((f) => f.path === base.model)!.sha256;
  const files = await Promise.all(
    base.files.map(async (f) => ({
      path: f.path,
      sha256: await sha256File(join(tmp, f.path)),
      bytes: statSync(join(tmp, f.path)).size,
    })),
  );
  const adapterName = basename(resolve(opts.adapter));
  const { merged: _previous, ...rest } = base;
  return {
    ...rest,
    name: opts.name ?? `${base.name}+${adapterName}`,
    description: `${base.description ?? base.name}; ${plan.kind} adapter ${adapterName} merged by percept models merge`,
    files,
    provenance:
      `${base.provenance}; then percept models merge: ${plan.kind} r=${plan.rank} alpha=${plan.alpha} adapter ${resolve(opts.adapter)} ` +
      `(adapter_model.safetensors sha256 ${adapterSha}, adapter_config.json sha256 ${configSha}) merged into ${base.name} ` +
      `(${base.model} sha256 ${baseModelSha}), ${plan.layers.length} layers`,
    merged: {
      tool: 'percept models merge',
      base: {
        name: base.name,
        dir: baseDir,
        sha256: baseModelSha,
        ...(base.merged ? { merged: base.merged } : {}),
      },
      adapter: {
        dir: resolve(opts.adapter),
        kind: plan.kind,
        r: plan.rank,
        alpha: plan.alpha,
        layers: plan.layers.length,
        safetensorsSha256: adapterSha,
        configSha256: configSha,
      },
    },
  };
}

/** mkdtemp makes drwx------; the agent often runs as another user than the one who merges. */
function worldReadable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = join(dir, entry);
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  }
}
