// Turns one model output row into a contract prediction, as the manifest describes the output.
import type { OutputSpec } from '../inference/manifest.js';
import { AGE_GROUP_EDGES, CONTRACT_LABELS, toPrediction, type Prediction, type Task } from '../contract/labels.js';

export function softmax(row: ArrayLike<number>): Float64Array {
  const logits = Float64Array.from(row);
  const max = logits.reduce((m, v) => Math.max(m, v), -Infinity);
  const exp = logits.map((v) => Math.exp(v - max));
  const sum = exp.reduce((s, v) => s + v, 0);
  return exp.map((v) => v / sum);
}

// JavaScript has no erf; Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7) is plenty for binning ages.
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

const normalCdf = (x: number, mean: number, sigma: number) => 0.5 * (1 + erf((x - mean) / (sigma * Math.SQRT2)));

/** Probability of each contract age group under N(years, sigma²); the outer groups are open-ended. */
export function ageGroupProbs(years: number, sigma: number): Float64Array {
  const edges = AGE_GROUP_EDGES;
  const out = new Float64Array(edges.length);
  for (let i = 0; i < edges.length; i++) {
    const lo = i === 0 ? 0 : normalCdf(edges[i]!, years, sigma);
    const hi = i === edges.length - 1 ? 1 : normalCdf(edges[i + 1]!, years, sigma);
    out[i] = Math.max(0, hi - lo);
  }
  return out;
}

/** Reorders a model's label order into the contract's, by name. */
export function toContractOrder(task: Task, labels: readonly string[], probs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(CONTRACT_LABELS[task].length);
  labels.forEach((label, i) => {
    out[CONTRACT_LABELS[task].indexOf(label)] = probs[i]!;
  });
  return out;
}

export interface DecodedPrediction extends Prediction {
  years?: number;
}

/** A model output that is not a number (NaN, ±Infinity): the classification fails instead of publishing it. */
export class NonFiniteOutputError extends Error {}

function assertFinite(spec: OutputSpec, values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new NonFiniteOutputError(
        `model output "${spec.name}" (${spec.task}) ${what} ${values[i]} at index ${i}; this classification is dropped (check the model and its preprocessing)`,
      );
    }
  }
}

/** Decodes one row; throws NonFiniteOutputError for NaN/Infinity in the row or in what it decodes to. */
export function decodeOutput(spec: OutputSpec, row: ArrayLike<number>): DecodedPrediction {
  assertFinite(spec, row, 'has');
  const decoded = decodeFinite(spec, row);
  // Finite logits can still overflow (e.g. probabilities that sum to 0): check what would be published.
  assertFinite(spec, [decoded.p, ...Object.values(decoded.probs)], 'decodes to');
  return decoded;
}

function decodeFinite(spec: OutputSpec, row: ArrayLike<number>): DecodedPrediction {
  const task = spec.task as Task;
  if (spec.type === 'regression-years') {
    const years = row[0]!;
    return { ...toPrediction(task, ageGroupProbs(years, spec.sigmaYears!)), years: Math.round(years * 10) / 10 };
  }
  const probs = spec.type === 'softmax-logits' ? softmax(row) : row;
  return toPrediction(task, toContractOrder(task, spec.labels!, probs));
}
