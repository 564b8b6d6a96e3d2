// The embedder adapter: one embedding model (a manifest directory of kind "embedding"), every face of a
// frame in one batch, the session in a worker thread.
import type { CV } from '../capture/opencv.js';
import { requireFullPixels, type Frame } from '../capture/frame.js';
import { inputSize, ModelError, type OutputSpec } from '../inference/manifest.js';
import { openModel, type AdapterRegistry, type ModelAdapter } from '../inference/model-adapter.js';
import { writeFaceInput } from '../inference/preprocess.js';
import type { WorkerSession, SessionOptions } from '../inference/worker-session.js';
import type { FaceRegion } from './classifier.js';
import type { Embedder, EmbeddingMetric } from './embedder.js';
import { must } from '../lib/must.js';
import type { Logger } from '../lib/logging.js';

export class OnnxEmbedder implements Embedder {
  private constructor(
    private readonly cv: CV,
    private readonly session: WorkerSession,
    private readonly output: OutputSpec,
  ) {}

  get name(): string {
    return this.session.loaded.manifest.name;
  }
  get dims(): number {
    return Number(this.output.shape[this.output.shape.length - 1]);
  }
  get metric(): EmbeddingMetric {
    return this.output.metric!;
  }
  get sameBelow(): number {
    return this.output.sameBelow!;
  }

  /** Embedding manifests (one vector per face, compared by the output's metric); EMBEDDERS lists it. */
  static readonly adapter: ModelAdapter<OnnxEmbedder, { cv: CV }> = {
    name: 'embedding reader',
    kind: 'embedding',
    outputTypes: ['embedding'],
    prepare(loaded, { cv }) {
      const output = loaded.manifest.outputs.find((o) => o.type === 'embedding' && o.metric && o.sameBelow);
      if (!output) throw new ModelError(loaded.dir, ['an embedding manifest needs an output of type "embedding" with "metric" and "sameBelow"']);
      if (typeof output.shape[output.shape.length - 1] !== 'number')
        throw new ModelError(loaded.dir, [`output ${output.name}: its last dimension (the embedding size) must be a number`]);
      return (session) => new OnnxEmbedder(cv, session, output);
    },
  };

  static open(cv: CV, dir: string, session: SessionOptions, log?: Logger): Promise<OnnxEmbedder> {
    return openModel(EMBEDDERS, dir, { cv }, session, log);
  }

  async embed(frame: Frame, faces: FaceRegion[]): Promise<Float32Array[]> {
    if (!faces.length) return [];
    const m = this.session.loaded.manifest;
    const { width, height } = inputSize(m);
    const mat = await requireFullPixels(frame);
    const tensor = new Float32Array(faces.length * 3 * width * height);
    faces.forEach((face, i) => writeFaceInput(this.cv, mat, face, m, m.input.cropMargin ?? 0, tensor, i));
    const { outputs } = await this.session.run({
      [m.input.name]: { data: tensor, dims: [faces.length, 3, height, width] },
    });
    const data = must(outputs[this.output.name], `${m.name}: output "${this.output.name}" of a run`).data;
    const d = this.dims;
    return faces.map((_, i) => data.slice(i * d, (i + 1) * d));
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/** Every embedding adapter, in order of preference when a manifest would suit several. */
export const EMBEDDERS: AdapterRegistry<OnnxEmbedder, { cv: CV }> = [OnnxEmbedder.adapter];
