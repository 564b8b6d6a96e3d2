// The classifier adapter: one or more attribute models (each a manifest directory), every face of a
// frame in one batch per model, sessions in worker threads. Each model gets the crop its manifest asks
// for: aligned on the 5 landmarks (input.crop "aligned-5pt") when the face has them, else the box.
import type { CV } from '../capture/opencv.js';
import { requireFullPixels, type Frame } from '../capture/frame.js';
import { inputSize, ModelError } from '../inference/manifest.js';
import { openModel } from '../inference/model-adapter.js';
import { writeFaceInput } from '../inference/preprocess.js';
import type { SessionOptions } from '../inference/worker-session.js';
import type { Classifier, ClassifyResult, FaceAttributes, FaceRegion } from './classifier.js';
import { TASKS, type Task } from '../contract/labels.js';
import { ATTRIBUTE_MODELS, type AttributeModel } from './attribute-model.js';
import { decodeOutput } from './outputs.js';
import { zeroBatch, zeroBatchProblems } from '../inference/zero-batch.js';
import { must } from '../lib/must.js';
import type { Logger } from '../lib/logging.js';

export class OnnxClassifier implements Classifier {
  private constructor(
    private readonly cv: CV,
    private readonly models: AttributeModel[],
  ) {}

  get name(): string {
    return this.models.map((m) => m.session.loaded.manifest.name).join('+');
  }

  get tasks(): Task[] {
    return [...new Set(this.models.flatMap((m) => m.outputs.map((o) => o.task as Task)))];
  }

  /** `tasks`: the tasks to read (classifier.emotion: false leaves emotion out); outputs of others are never decoded. */
  static async open(
    cv: CV,
    dirs: string[],
    defaultMargin: number,
    session: SessionOptions,
    log?: Logger,
    tasks: readonly Task[] = TASKS,
  ): Promise<OnnxClassifier> {
    const models: AttributeModel[] = [];
    // A task turned off counts as answered already: no model is asked for it.
    const covered = new Set<Task>(TASKS.filter((t) => !tasks.includes(t)));
    try {
      for (const dir of dirs) {
        // A task already answered by an earlier model is not asked again.
        const model = await openModel(ATTRIBUTE_MODELS, dir, { covered, defaultMargin }, session, log);
        model.outputs.forEach((o) => covered.add(o.task as Task));
        models.push(model);
      }
    } catch (err) {
      await Promise.all(models.map((m) => m.session.close()));
      throw err;
    }
    return new OnnxClassifier(cv, models);
  }

  async classify(frame: Frame, boxes: FaceRegion[]): Promise<ClassifyResult> {
    const faces: FaceAttributes[] = boxes.map(() => ({}));
    if (!boxes.length) return { faces };
    const mat = await requireFullPixels(frame);
    const runs = this.models.map(async (model) => {
      const m = model.session.loaded.manifest;
      const { width, height } = inputSize(m);
      const tensor = new Float32Array(boxes.length * 3 * width * height);
      boxes.forEach((face, i) => writeFaceInput(this.cv, mat, face, m, model.margin, tensor, i));
      const { outputs } = await model.session.run({ [m.input.name]: { data: tensor, dims: [boxes.length, 3, height, width] } });
      for (const spec of model.outputs) {
        const out = must(outputs[spec.name], `${m.name}: output "${spec.name}" of a run`);
        const width = out.data.length / boxes.length;
        faces.forEach((face, i) => {
          face[spec.task as Task] = decodeOutput(spec, out.data.subarray(i * width, (i + 1) * width));
        });
      }
    });
    await Promise.all(runs);
    return { faces };
  }

  /** One inference per model on a zero batch, in its worker: throws a ModelError naming what is wrong. */
  async verify(): Promise<void> {
    for (const { session } of this.models) {
      const { manifest, dir } = session.loaded;
      const { outputs } = await session.run(zeroBatch(manifest));
      const problems = zeroBatchProblems(manifest, outputs);
      if (problems.length) throw new ModelError(dir, problems);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.session.close()));
  }
}
