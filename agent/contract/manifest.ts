// The shape of model.json (design §1) in TypeBox, beside the payload schemas: the ModelManifest type is
// derived from it, inference/manifest.ts checks files against it (then the semantic rules), and
// `npm run gen` writes it to schemas/model.schema.json for editors and model exporters.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { TASKS } from './labels.js';

/**
 * A string enum as a JSON Schema `enum` (Type.Union of literals would be an anyOf, whose Ajv errors
 * list every failed branch instead of one "must be one of" line).
 */
function OneOf<const T extends readonly string[]>(values: T, description?: string): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
}

/** Per-stride outputs of an anchor-free grid detector (YuNet): one row per grid cell, row-major; see detect/grid-decode.ts. */
export const GRID_OUTPUT_TYPES = ['grid-class-probability', 'grid-objectness', 'grid-box-offsets', 'grid-landmark-offsets'] as const;
/** What an age, gender or emotion output may be: classify/outputs.ts decodes these (anything else would be misread). */
export const TASK_OUTPUT_TYPES = ['softmax-logits', 'probabilities', 'regression-years'] as const;
export const OUTPUT_TYPES = [
  'softmax-logits',
  'probabilities',
  'regression-years',
  'ssd-box-encodings',
  'sigmoid-logits',
  'embedding',
  ...GRID_OUTPUT_TYPES,
] as const;
export const MODEL_KINDS = ['detector', 'attributes', 'embedding'] as const;
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export const RESIZE_MODES = ['squash', 'pad-centre', 'pad-bottom-right'] as const;
/** Face crops: the (grown) detector box, or a similarity warp of the 5 landmarks onto a template (agent/lib/align.ts). */
export const CROP_MODES = ['box', 'aligned-5pt'] as const;
export const OUTPUT_TASKS = [...TASKS, 'boxes', 'face-score', 'landmarks', 'embedding'] as const;

const Dim = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], {
  description: 'a fixed size (an integer from 1) or the name of a dynamic dimension (e.g. "batch")',
});
const Optional = <T extends TSchema>(schema: T) => Type.Optional(schema);

export const OutputSpecSchema = Type.Object({
  name: Type.String({ description: 'The output name in the ONNX graph.' }),
  shape: Type.Array(Dim),
  task: OneOf(OUTPUT_TASKS),
  type: OneOf(OUTPUT_TYPES, 'How to decode the output; it picks the adapter that runs the model.'),
  labels: Optional(Type.Array(Type.String())),
  sigmaYears: Optional(
    Type.Number({ exclusiveMinimum: 0, description: 'regression-years only: spread of the Gaussian used to turn one age into group probabilities.' }),
  ),
  classIndex: Optional(Type.Integer({ minimum: 0, description: 'sigmoid-logits only: which class column is the face score.' })),
  stride: Optional(Type.Integer({ minimum: 1, description: 'Grid outputs: input pixels per grid cell.' })),
  metric: Optional(OneOf(['euclidean', 'cosine'] as const, 'embedding only: how to compare two vectors.')),
  sameBelow: Optional(Type.Number({ exclusiveMinimum: 0, description: 'embedding only: the distance under which two vectors are the same person.' })),
});

export const ManifestSchema = Type.Object(
  {
    schema: Type.Literal(1),
    name: Type.String({ minLength: 1 }),
    kind: OneOf(MODEL_KINDS),
    description: Optional(Type.String()),
    precision: Optional(OneOf(PRECISIONS, 'Number format of the weights (absent: fp32). int8: MatMul/Gemm weights int8, LayerNorm and softmax fp32.')),
    model: Type.String({ minLength: 1, description: 'The ONNX file; it must be listed in "files".' }),
    files: Type.Array(
      Type.Object({
        path: Type.String(),
        sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        bytes: Optional(Type.Integer()),
      }),
      { minItems: 1 },
    ),
    input: Type.Object({
      name: Type.String(),
      shape: Type.Array(Dim, { minItems: 4, maxItems: 4 }),
      layout: Type.Literal('NCHW'),
      colour: OneOf(['RGB', 'BGR'] as const),
      resize: OneOf(RESIZE_MODES),
      cropMargin: Optional(
        Type.Number({ minimum: 0, maximum: 1, description: 'Face crops: grow the detector box by this × its larger side on every side before resizing.' }),
      ),
      sizeMultiple: Optional(Type.Integer({ minimum: 1, description: 'Dynamic height and width (named dimensions): both must be multiples of this.' })),
      crop: Optional(OneOf(CROP_MODES, "Default 'box'; 'aligned-5pt' is used when the detector gave landmarks (cropMargin then pads the template).")),
      normalise: Type.Object({
        mean: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
        std: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 3, maxItems: 3 }),
      }),
    }),
    outputs: Type.Array(OutputSpecSchema, { minItems: 1 }),
    priors: Optional(
      Type.Object({
        file: Type.String(),
        count: Type.Integer(),
        variances: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
      }),
    ),
    provenance: Type.String(),
    licence: Type.String(),
  },
  { title: 'model.json', description: 'What a model directory promises: files with their sha256, input preprocessing, and how to decode each output.' },
);

export type ModelManifest = Static<typeof ManifestSchema>;
export type OutputSpec = Static<typeof OutputSpecSchema>;
export type OutputType = (typeof OUTPUT_TYPES)[number];
export type GridOutputType = (typeof GRID_OUTPUT_TYPES)[number];
export type ModelKind = (typeof MODEL_KINDS)[number];
export type Precision = (typeof PRECISIONS)[number];
export type ResizeMode = (typeof RESIZE_MODES)[number];
export type CropMode = (typeof CROP_MODES)[number];
