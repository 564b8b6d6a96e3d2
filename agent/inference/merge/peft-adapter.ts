// A PEFT LoRA/DoRA adapter directory read against a base model's adaptable layers: every tensor must have a
// place of the right shape and rank before anything is merged. Keys and scaling follow peft
// (tuners/lora: `base_model.model.<path>.lora_A.weight` (r, in), `.lora_B.weight` (out, r),
// `.lora_magnitude_vector` (out,); s = lora_alpha / r, or lora_alpha / √r with use_rslora).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from './safetensors.js';
import { compilePatterns, PatternOrderError, patternValue, type PatternTable } from './peft-patterns.js';

/** One linear layer of the base that an adapter may change, as the export recorded it in model.json. */
export interface AdaptableLayer {
  /** The ONNX initializer holding the weight. */
  initializer: string;
  /** 'out-in': stored as the Linear's (out, in) weight; 'in-out': transposed, as MatMul consumes it. */
  layout: 'out-in' | 'in-out';
  /** [out, in] of the Linear, whatever the layout. */
  shape: [number, number];
}

export interface LayerPlan {
  module: string;
  layer: AdaptableLayer;
  rank: number;
  scale: number;
  keyA: string;
  keyB: string;
  keyMagnitude?: string;
}

export interface AdapterPlan {
  kind: 'LoRA' | 'DoRA';
  rank: number;
  alpha: number;
  layers: LayerPlan[];
  file: SafetensorsFile;
  configPath: string;
  weightsPath: string;
}

/** An adapter that does not fit the base; the message names the tensor or setting. */
export class AdapterMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterMismatch';
  }
}

interface PeftConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  use_dora?: boolean;
  use_rslora?: boolean;
  fan_in_fan_out?: boolean;
  bias?: string;
  modules_to_save?: string[] | null;
  rank_pattern?: unknown;
  alpha_pattern?: unknown;
}

/** adapter_config.json checked, with its pattern tables compiled. */
export interface AdapterConfig {
  config: PeftConfig;
  rankPattern: PatternTable;
  alphaPattern: PatternTable;
  configPath: string;
  weightsPath: string;
}

const PREFIX = 'base_model.model.';
const SUFFIXES = {
  A: '.lora_A.weight',
  B: '.lora_B.weight',
  M: '.lora_magnitude_vector',
} as const;

export function readAdapterConfig(dir: string): AdapterConfig {
  const configPath = join(dir, 'adapter_config.json');
  const weightsPath = join(dir, 'adapter_model.safetensors');
  if (!existsSync(configPath))
    throw new AdapterMismatch(`${dir} has no adapter_config.json (a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors)`);
  if (!existsSync(weightsPath)) {
    const bin = existsSync(join(dir, 'adapter_model.bin')) ? ' (it has adapter_model.bin: save with safe_serialization=True, pickles are not read)' : '';
    throw new AdapterMismatch(`${dir} has no adapter_model.safetensors${bin}`);
  }
  let config: PeftConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as PeftConfig;
  } catch (err) {
    throw new AdapterMismatch(`adapter_config.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new AdapterMismatch('adapter_config.json must hold a JSON object');
  const problems: string[] = [];
  if (config.peft_type !== 'LORA') problems.push(`peft_type is ${config.peft_type}, only LORA (LoRA or DoRA) adapters can be merged`);
  if (!Number.isInteger(config.r) || config.r! < 1) problems.push(`r is ${JSON.stringify(config.r)}, needs a positive integer`);
  // peft declares both integers; a zero or negative one would divide by zero or flip the update.
  if (!Number.isInteger(config.lora_alpha) || config.lora_alpha! < 1)
    problems.push(`lora_alpha is ${JSON.stringify(config.lora_alpha)}, needs a positive integer`);
  if (config.fan_in_fan_out) problems.push('fan_in_fan_out is true (Conv1D-style layers); PE-Core has nn.Linear layers only');
  if (config.bias && config.bias !== 'none') problems.push(`bias is "${config.bias}": trained biases are not merged; train with bias="none"`);
  if (config.modules_to_save?.length)
    problems.push(`modules_to_save ${JSON.stringify(config.modules_to_save)}: whole replaced modules cannot be merged into a percept model`);
  const rankPattern = compilePatterns('rank_pattern', config.rank_pattern, problems);
  const alphaPattern = compilePatterns('alpha_pattern', config.alpha_pattern, problems);
  if (problems.length) throw new AdapterMismatch(`adapter_config.json: ${problems.join('; ')}`);
  return { config, rankPattern, alphaPattern, configPath, weightsPath };
}

function patterned(table: PatternTable, module: string): number | undefined {
  try {
    return patternValue(table, module);
  } catch (err) {
    if (err instanceof PatternOrderError) throw new AdapterMismatch(`adapter_config.json: ${err.message}`);
    throw err;
  }
}

/** Checks the adapter against the base's adaptable layers and returns what to merge, layer by layer. */
export function planAdapter(dir: string, adaptable: Record<string, AdaptableLayer>): AdapterPlan {
  const { config, rankPattern, alphaPattern, configPath, weightsPath } = readAdapterConfig(dir);
  const file = SafetensorsFile.open(weightsPath);
  try {
    const dora = Boolean(config.use_dora);
    const modules = new Map<string, Partial<Record<'A' | 'B' | 'M', string>>>();
    for (const key of file.entries.keys()) {
      const part = (Object.keys(SUFFIXES) as ('A' | 'B' | 'M')[]).find((p) => key.endsWith(SUFFIXES[p]));
      if (!key.startsWith(PREFIX) || !part) {
        throw new AdapterMismatch(`adapter tensor ${key} is not a PEFT LoRA tensor (${PREFIX}<module>${SUFFIXES.A} / ${SUFFIXES.B} / ${SUFFIXES.M})`);
      }
      const module = key.slice(PREFIX.length, key.length - SUFFIXES[part].length);
      if (!adaptable[module]) {
        const known = Object.keys(adaptable);
        throw new AdapterMismatch(
          `adapter tensor ${key}: the base model has no adaptable layer ${module} ` +
            `(it has ${known.length}, e.g. ${known.slice(0, 3).join(', ')}); an adapter for another model?`,
        );
      }
      modules.set(module, { ...modules.get(module), [part]: key });
    }
    if (!modules.size) throw new AdapterMismatch(`${weightsPath} holds no adapter tensors`);
    const layers: LayerPlan[] = [];
    for (const [module, keys] of modules) {
      const layer = adaptable[module]!;
      const [out, inp] = layer.shape;
      if (!keys.A || !keys.B)
        throw new AdapterMismatch(`adapter tensor ${keys.A ?? keys.B ?? keys.M} has no partner ${keys.A ? 'lora_B' : 'lora_A'} for ${module}`);
      if (dora !== Boolean(keys.M)) {
        throw new AdapterMismatch(
          dora
            ? `adapter tensor ${keys.A}: use_dora is true but ${module} has no lora_magnitude_vector`
            : `adapter tensor ${keys.M}: a DoRA magnitude, but adapter_config.json says use_dora false`,
        );
      }
      const patternRank = patterned(rankPattern, module);
      const rank = patternRank ?? config.r!;
      const alpha = patterned(alphaPattern, module) ?? config.lora_alpha!;
      const a = file.entries.get(keys.A)!.shape;
      const b = file.entries.get(keys.B)!.shape;
      if (a.length !== 2 || b.length !== 2) throw new AdapterMismatch(`adapter tensor ${a.length !== 2 ? keys.A : keys.B} is not a matrix`);
      if (a[1] !== inp || b[0] !== out) {
        const bad =
          a[1] !== inp ? `${keys.A} has shape [${a.join(', ')}], needs [${rank}, ${inp}]` : `${keys.B} has shape [${b.join(', ')}], needs [${out}, ${rank}]`;
        throw new AdapterMismatch(`adapter tensor ${bad} for the base layer ${module} (weight [${out}, ${inp}]); an adapter for another backbone?`);
      }
      if (a[0] !== rank || b[1] !== rank) {
        throw new AdapterMismatch(
          `adapter tensor ${a[0] !== rank ? keys.A : keys.B} has rank ${a[0] !== rank ? a[0] : b[1]}, ` +
            `adapter_config.json says ${patternRank === undefined ? 'r' : 'rank_pattern'}=${rank} for ${module}`,
        );
      }
      if (keys.M) {
        const m = file.entries.get(keys.M)!.shape;
        if (m.length !== 1 || m[0] !== out)
          throw new AdapterMismatch(`adapter tensor ${keys.M} has shape [${m.join(', ')}], the base layer ${module} has ${out} outputs`);
      }
      const scale = config.use_rslora ? alpha / Math.sqrt(rank) : alpha / rank;
      layers.push({
        module,
        layer,
        rank,
        scale,
        keyA: keys.A,
        keyB: keys.B,
        ...(keys.M ? { keyMagnitude: keys.M } : {}),
      });
    }
    return {
      kind: dora ? 'DoRA' : 'LoRA',
      rank: config.r!,
      alpha: config.lora_alpha!,
      layers,
      file,
      configPath,
      weightsPath,
    };
  } catch (err) {
    file.close();
    throw err;
  }
}
