// The check that proves a model runs before the agent switches to it: one inference on a zero batch of
// one, every output of the manifest produced with its shape and finite (merged weights that overflow
// give NaN here). Run through the model's own worker session, never on the main event loop.
import type { ModelManifest as Manifest } from './manifest.js';
import type { TensorData } from './worker-protocol.js';

/** A zero batch of one in the manifest's input shape (symbolic dimensions become 1). */
export function zeroBatch(m: Manifest): Record<string, TensorData> {
  const dims = m.input.shape.map((d) => (typeof d === 'number' ? d : 1));
  return { [m.input.name]: { data: new Float32Array(dims.reduce((n, d) => n * d, 1)), dims } };
}

/** What is wrong with the outputs of zeroBatch(m); empty when they are as the manifest says. */
export function zeroBatchProblems(m: Manifest, outputs: Record<string, TensorData>): string[] {
  const problems: string[] = [];
  for (const spec of m.outputs) {
    const t = outputs[spec.name];
    if (!t) {
      problems.push(`output ${spec.name} was not produced`);
      continue;
    }
    const want = spec.shape.map((d) => (typeof d === 'number' ? d : 1));
    if (t.dims.join(',') !== want.join(',')) problems.push(`output ${spec.name} has shape [${t.dims}] on a batch of 1, the manifest says [${spec.shape}]`);
    if (!t.data.every(Number.isFinite)) problems.push(`output ${spec.name} is not finite on a zero input`);
  }
  return problems;
}
