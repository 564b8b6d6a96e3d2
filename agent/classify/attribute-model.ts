// Attribute models (kind "attributes"): which outputs of a model the classifier reads. A model answers
// only the tasks no earlier model of the list answered; its crop margin comes from its manifest.
import { ModelError, TASK_OUTPUT_TYPES, type OutputSpec } from '../inference/manifest.js';
import type { AdapterRegistry, ModelAdapter } from '../inference/model-adapter.js';
import type { WorkerSession } from '../inference/worker-session.js';
import { TASKS, type Task } from '../contract/labels.js';

export interface AttributeModel {
  session: WorkerSession;
  outputs: OutputSpec[];
  margin: number;
}

export interface AttributeContext {
  /** Tasks an earlier model of the list already answers. */
  covered: ReadonlySet<Task>;
  /** classifier.cropMargin, for a manifest without input.cropMargin. */
  defaultMargin: number;
}

/** Class scores (softmax logits or probabilities) and age regression, decoded by classify/outputs.ts. */
export const ATTRIBUTE_DECODER: ModelAdapter<AttributeModel, AttributeContext> = {
  name: 'attribute decoder',
  kind: 'attributes',
  outputTypes: TASK_OUTPUT_TYPES,
  prepare(loaded, { covered, defaultMargin }) {
    const outputs = loaded.manifest.outputs.filter((o) => (TASKS as readonly string[]).includes(o.task) && !covered.has(o.task as Task));
    if (!outputs.length) {
      const off = loaded.manifest.outputs.some((o) => o.task === 'emotion') && covered.has('emotion');
      const hint = off ? ' (its emotion output is turned off by classifier.emotion: false; remove it from classifier.models)' : '';
      throw new ModelError(loaded.dir, [`it provides no age, gender or emotion output that an earlier model does not${hint}`]);
    }
    const margin = loaded.manifest.input.cropMargin ?? defaultMargin;
    return (session) => ({ session, outputs, margin });
  },
};

/** Every attribute adapter, in order of preference when a manifest would suit several. */
export const ATTRIBUTE_MODELS: AdapterRegistry<AttributeModel, AttributeContext> = [ATTRIBUTE_DECODER];
