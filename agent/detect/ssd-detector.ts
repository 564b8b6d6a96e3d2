// The SSD face detector adapter: manifest-driven preprocessing, inference in a worker, decoding + NMS here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CV } from '../capture/opencv.js';
import { detectionPixels, type Frame } from '../capture/frame.js';
import { inputSize, ModelError, type LoadedManifest, type OutputSpec } from '../inference/manifest.js';
import { openModel, type ModelAdapter } from '../inference/model-adapter.js';
import { padPlacement, writeInput } from '../inference/preprocess.js';
import type { WorkerSession, SessionOptions } from '../inference/worker-session.js';
import { decodeCandidates, type Candidate } from './ssd-decode.js';
import { nonMaxSuppression } from './nms.js';
import type { Detection, FaceDetector } from './detector.js';
import { must } from '../lib/must.js';
import type { Logger } from '../lib/logging.js';

export interface SsdOptions {
  scoreThreshold: number;
  iouThreshold: number;
  minFacePx: number;
  maxFaces: number;
}

/** The anchor boxes an SSD manifest names (4 floats each), as the detector decodes with them; parity tests read them too. */
export function readPriors(loaded: LoadedManifest): Float32Array {
  const m = loaded.manifest;
  if (!m.priors) throw new ModelError(loaded.dir, ['an SSD detector manifest (ssd-box-encodings) needs "priors"']);
  const { file, count } = m.priors;
  const raw = readFileSync(join(loaded.dir, file));
  const priors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  // loadManifest checked the size; the file may have changed since.
  if (priors.length !== count * 4) throw new ModelError(loaded.dir, [`priors file holds ${priors.length / 4} boxes, the manifest says ${count}`]);
  return priors;
}

export class SsdDetector implements FaceDetector {
  private constructor(
    private readonly cv: CV,
    private readonly session: WorkerSession,
    private readonly priors: Float32Array,
    private readonly boxOut: OutputSpec,
    private readonly scoreOut: OutputSpec,
    private readonly opts: SsdOptions,
  ) {}

  get name(): string {
    return this.session.loaded.manifest.name;
  }
  get loaded(): LoadedManifest {
    return this.session.loaded;
  }

  /** Detector manifests with SSD box encodings (face-api's SSD MobileNet v1); open-detector.ts lists it. */
  static readonly adapter: ModelAdapter<SsdDetector, { cv: CV; options: SsdOptions }> = {
    name: 'SSD decoder',
    kind: 'detector',
    outputTypes: ['ssd-box-encodings'],
    prepare(loaded, { cv, options }) {
      const m = loaded.manifest;
      const boxOut = m.outputs.find((o) => o.type === 'ssd-box-encodings');
      const scoreOut = m.outputs.find((o) => o.type === 'sigmoid-logits');
      if (!boxOut || !scoreOut) throw new ModelError(loaded.dir, ['an SSD detector needs an ssd-box-encodings and a sigmoid-logits output']);
      const priors = readPriors(loaded);
      return (session) => new SsdDetector(cv, session, priors, boxOut, scoreOut, options);
    },
  };

  /** Opens with this adapter alone (benchmarks and parity tests use the SSD by name); the agent opens through openDetector. */
  static open(cv: CV, dir: string, opts: SsdOptions, session: SessionOptions, log?: Logger): Promise<SsdDetector> {
    return openModel([SsdDetector.adapter], dir, { cv, options: opts }, session, log);
  }

  /** Raw network outputs for a frame (parity tests and benchmarks use this). */
  async infer(frame: Frame): Promise<{ boxEncodings: Float32Array; classLogits: Float32Array; runMs: number }> {
    const m = this.session.loaded.manifest;
    const { width, height } = inputSize(m);
    const tensor = new Float32Array(3 * width * height);
    // The whole frame, or its detection-size copy: the network sees it at its own fixed size either way.
    const { mat } = detectionPixels(frame);
    writeInput(this.cv, mat, { x: 0, y: 0, w: mat.cols, h: mat.rows }, m, tensor, 0);
    const { outputs, runMs } = await this.session.run({ [m.input.name]: { data: tensor, dims: [1, 3, height, width] } });
    const output = (name: string) => must(outputs[name], `${this.name}: output "${name}" of a run`).data;
    return { boxEncodings: output(this.boxOut.name), classLogits: output(this.scoreOut.name), runMs };
  }

  candidates(boxEncodings: Float32Array, classLogits: Float32Array): Candidate[] {
    const p = this.session.loaded.manifest.priors!;
    const classes = classLogits.length / p.count;
    const found = decodeCandidates(
      boxEncodings,
      classLogits,
      this.priors,
      p.count,
      classes,
      this.scoreOut.classIndex ?? 1,
      p.variances,
      this.opts.scoreThreshold,
    );
    return nonMaxSuppression(found, this.opts.iouThreshold, this.opts.maxFaces);
  }

  async detect(frame: Frame): Promise<Detection[]> {
    const { boxEncodings, classLogits } = await this.infer(frame);
    // Boxes are relative to the canvas the detector saw: map them back through the manifest's resize mode.
    const mode = this.session.loaded.manifest.input.resize;
    const pad = mode === 'squash' ? null : padPlacement(frame.width, frame.height, mode);
    const sx = pad ? pad.side : frame.width;
    const sy = pad ? pad.side : frame.height;
    const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
    const out: Detection[] = [];
    for (const c of this.candidates(boxEncodings, classLogits)) {
      const x0 = Math.max(0, clamp01(c.box[1]) * sx - (pad?.dx ?? 0));
      const y0 = Math.max(0, clamp01(c.box[0]) * sy - (pad?.dy ?? 0));
      const x1 = Math.min(clamp01(c.box[3]) * sx - (pad?.dx ?? 0), frame.width);
      const y1 = Math.min(clamp01(c.box[2]) * sy - (pad?.dy ?? 0), frame.height);
      const box = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
      if (box.w >= this.opts.minFacePx && box.h >= this.opts.minFacePx) out.push({ box, score: c.score });
    }
    return out;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
