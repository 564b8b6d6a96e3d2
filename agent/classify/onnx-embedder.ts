// The embedder adapter: one embedding model (a manifest directory of kind "embedding"), every face of a
// frame in one batch, the session in a worker thread.
import type { CV } from '../capture/opencv.js';
import type { Frame } from '../capture/frame.js';
import { inputSize, loadManifest, ModelError, type OutputSpec } from '../inference/manifest.js';
import { writeFaceInput } from '../inference/preprocess.js';
import { WorkerSession, type SessionOptions } from '../inference/worker-session.js';
import type { FaceRegion } from './classifier.js';
import type { Embedder, EmbeddingMetric } from './embedder.js';

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

  static async open(cv: CV, dir: string, session: SessionOptions, log?: (m: string) => void): Promise<OnnxEmbedder> {
    const loaded = loadManifest(dir);
    if (loaded.manifest.kind !== 'embedding') throw new ModelError(loaded.dir, [`kind is "${loaded.manifest.kind}", an embedding model is needed here`]);
    const output = loaded.manifest.outputs.find((o) => o.type === 'embedding')!;
    if (typeof output.shape[output.shape.length - 1] !== 'number')
      throw new ModelError(loaded.dir, [`output ${output.name}: its last dimension (the embedding size) must be a number`]);
    return new OnnxEmbedder(cv, await WorkerSession.open(loaded, session, log), output);
  }

  async embed(frame: Frame, faces: FaceRegion[]): Promise<Float32Array[]> {
    if (!faces.length) return [];
    const m = this.session.loaded.manifest;
    const { width, height } = inputSize(m);
    const tensor = new Float32Array(faces.length * 3 * width * height);
    faces.forEach((face, i) => writeFaceInput(this.cv, frame.mat, face, m, m.input.cropMargin ?? 0, tensor, i));
    const { outputs } = await this.session.run({
      [m.input.name]: { data: tensor, dims: [faces.length, 3, height, width] },
    });
    const data = outputs[this.output.name]!.data;
    const d = this.dims;
    return faces.map((_, i) => data.slice(i * d, (i + 1) * d));
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
