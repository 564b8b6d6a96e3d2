// The shape of model.json as a JSON Schema, checked with Ajv before the semantic checks in manifest.ts.
import { TASKS } from '../contract/labels.js';

/** Per-stride outputs of an anchor-free grid detector (YuNet). */
export const GRID_OUTPUT_TYPES = ['grid-class-probability', 'grid-objectness', 'grid-box-offsets', 'grid-landmark-offsets'] as const;

const dim = {
  anyOf: [
    { type: 'integer', minimum: 1 },
    { type: 'string', minLength: 1 },
  ],
};
export const manifestSchema = {
  type: 'object',
  required: ['schema', 'name', 'kind', 'model', 'files', 'input', 'outputs', 'provenance', 'licence'],
  properties: {
    schema: { const: 1 },
    name: { type: 'string', minLength: 1 },
    kind: { enum: ['detector', 'attributes', 'embedding'] },
    description: { type: 'string' },
    /** Number format of the weights (absent: fp32). int8: MatMul/Gemm weights int8, LayerNorm and softmax fp32. */
    precision: { enum: ['fp32', 'fp16', 'int8'] },
    model: { type: 'string', minLength: 1 },
    files: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['path', 'sha256'],
        properties: { path: { type: 'string' }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, bytes: { type: 'integer' } },
      },
    },
    input: {
      type: 'object',
      required: ['name', 'shape', 'layout', 'colour', 'resize', 'normalise'],
      properties: {
        name: { type: 'string' },
        shape: { type: 'array', minItems: 4, maxItems: 4, items: dim },
        layout: { const: 'NCHW' },
        colour: { enum: ['RGB', 'BGR'] },
        resize: { enum: ['squash', 'pad-centre', 'pad-bottom-right'] },
        cropMargin: { type: 'number', minimum: 0, maximum: 1 },
        sizeMultiple: { type: 'integer', minimum: 1 },
        crop: { enum: ['box', 'aligned-5pt'] },
        normalise: {
          type: 'object',
          required: ['mean', 'std'],
          properties: {
            mean: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number' } },
            std: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number', exclusiveMinimum: 0 } },
          },
        },
      },
    },
    outputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'task', 'type'],
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: dim },
          task: { enum: [...TASKS, 'boxes', 'face-score', 'landmarks', 'embedding'] },
          type: { enum: ['softmax-logits', 'probabilities', 'regression-years', 'ssd-box-encodings', 'sigmoid-logits', 'embedding', ...GRID_OUTPUT_TYPES] },
          labels: { type: 'array', items: { type: 'string' } },
          sigmaYears: { type: 'number', exclusiveMinimum: 0 },
          classIndex: { type: 'integer', minimum: 0 },
          stride: { type: 'integer', minimum: 1 },
          metric: { enum: ['euclidean', 'cosine'] },
          sameBelow: { type: 'number', exclusiveMinimum: 0 },
        },
      },
    },
    priors: {
      type: 'object',
      required: ['file', 'count', 'variances'],
      properties: { file: { type: 'string' }, count: { type: 'integer' }, variances: { type: 'array', minItems: 4, maxItems: 4 } },
    },
    provenance: { type: 'string' },
    licence: { type: 'string' },
  },
} as const;
