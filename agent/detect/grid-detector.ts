// The grid face detector adapter (YuNet): boxes and 5 landmarks, any input size. Everything the decoder
// needs (output roles, strides, landmark count, colour, normalisation, size multiple) comes from the
// manifest; inference runs in a worker; decoding + NMS here.
import type { CV, Mat } from '../capture/opencv.js';
import { detectionPixels, fullPixels, type Frame } from '../capture/frame.js';
import { ModelError, type LoadedManifest, type ModelManifest } from '../inference/manifest.js';
import { openModel, type ModelAdapter } from '../inference/model-adapter.js';
import { hwcToNchw } from '../inference/preprocess.js';
import type { WorkerSession, SessionOptions } from '../inference/worker-session.js';
import type { TensorData } from '../inference/worker-protocol.js';
import { decodeGrid, inputLimits, planInput, type GridCandidate, type GridHead, type InputPlan } from './grid-decode.js';
import { nonMaxSuppression } from './nms.js';
import type { Detection, FaceDetector } from './detector.js';
import { clampRegion, type Box } from '../lib/geometry.js';
import { tileFor, type Tile } from './region-tiles.js';
import { must } from '../lib/must.js';
import type { Logger } from '../lib/logging.js';

export interface GridOptions {
  scoreThreshold: number;
  iouThreshold: number;
  minFacePx: number;
  maxFaces: number;
  /** The frame is scaled down to fit inside this (0: no limit on that side), keeping its aspect ratio. */
  inputWidth: number;
  inputHeight: number;
}

interface HeadNames {
  stride: number;
  cls: string;
  obj: string;
  box: string;
  kps?: string;
}

/** The strides the manifest declares, each with its class, objectness, box and (optional) landmark outputs. */
export function gridHeads(loaded: LoadedManifest): {
  heads: HeadNames[];
  landmarks: number;
} {
  const m = loaded.manifest;
  const strides = [...new Set(m.outputs.filter((o) => o.type.startsWith('grid-')).map((o) => o.stride!))].sort((a, b) => a - b);
  const problems: string[] = [];
  const heads = strides.map((stride) => {
    const find = (type: string) => m.outputs.find((o) => o.type === type && o.stride === stride)?.name;
    const h = {
      stride,
      cls: find('grid-class-probability'),
      obj: find('grid-objectness'),
      box: find('grid-box-offsets'),
      kps: find('grid-landmark-offsets'),
    };
    if (!h.cls || !h.obj || !h.box) problems.push(`stride ${stride} needs grid-class-probability, grid-objectness and grid-box-offsets outputs`);
    return h as HeadNames;
  });
  if (!heads.length) problems.push('a grid detector needs grid-* outputs with a stride');
  const kpsOut = m.outputs.find((o) => o.type === 'grid-landmark-offsets');
  const width = kpsOut?.shape[kpsOut.shape.length - 1];
  if (kpsOut && (typeof width !== 'number' || width % 2))
    problems.push(`output ${kpsOut.name}: the last dimension must be a fixed even number (x, y per landmark)`);
  if (problems.length) throw new ModelError(loaded.dir, problems);
  return { heads, landmarks: kpsOut ? (width as number) / 2 : 0 };
}

function fixedSize(m: ModelManifest): { width: number; height: number } | undefined {
  const [, , h, w] = m.input.shape;
  return typeof h === 'number' && typeof w === 'number' ? { width: w, height: h } : undefined;
}

export class GridDetector implements FaceDetector {
  private constructor(
    private readonly cv: CV,
    private readonly session: WorkerSession,
    private readonly heads: HeadNames[],
    private readonly landmarks: number,
    private readonly opts: GridOptions,
  ) {}

  get name(): string {
    return this.session.loaded.manifest.name;
  }
  get loaded(): LoadedManifest {
    return this.session.loaded;
  }

  /** Detector manifests with grid outputs (YuNet); open-detector.ts lists it. */
  static readonly adapter: ModelAdapter<GridDetector, { cv: CV; options: GridOptions }> = {
    name: 'grid decoder',
    kind: 'detector',
    outputTypes: ['grid-box-offsets'],
    prepare(loaded, { cv, options }) {
      const { heads, landmarks } = gridHeads(loaded);
      return (session) => new GridDetector(cv, session, heads, landmarks, options);
    },
  };

  /** Opens with this adapter alone (benchmarks and tests compare detectors by name); the agent opens through openDetector. */
  static open(cv: CV, dir: string, opts: GridOptions, session: SessionOptions, log?: Logger): Promise<GridDetector> {
    return openModel([GridDetector.adapter], dir, { cv, options: opts }, session, log);
  }

  detectionFit(): { maxWidth: number; maxHeight: number } | null {
    const limits = inputLimits(this.opts.inputWidth, this.opts.inputHeight, fixedSize(this.session.loaded.manifest));
    return limits.maxWidth > 0 || limits.maxHeight > 0 ? limits : null;
  }

  /** Where a frame of this size goes in the network. */
  plan(frameWidth: number, frameHeight: number): InputPlan {
    const m = this.session.loaded.manifest;
    return planInput(frameWidth, frameHeight, this.opts.inputWidth, this.opts.inputHeight, m.input.sizeMultiple ?? 32, fixedSize(m));
  }

  /** Decoded candidates after NMS, in input pixels (tests and benchmarks use this). */
  async candidates(frame: Frame): Promise<{ plan: InputPlan; found: GridCandidate[]; runMs: number }> {
    const cv = this.cv;
    const m = this.session.loaded.manifest;
    const plan = this.plan(frame.width, frame.height);
    const { mat } = await this.pixels(frame, plan.width / frame.width);
    const resized = plan.width === mat.cols && plan.height === mat.rows ? mat : mat.resize(plan.height, plan.width, 0, 0, cv.INTER_LINEAR);
    const padB = plan.tensorHeight - plan.height;
    const padR = plan.tensorWidth - plan.width;
    // BORDER_ISOLATED as in preprocess.ts; the pad is black, as FaceDetectorYN pads.
    const canvas = padB || padR ? resized.copyMakeBorder(0, padB, 0, padR, cv.BORDER_CONSTANT | cv.BORDER_ISOLATED, new cv.Vec3(0, 0, 0)) : resized;
    const tensor = new Float32Array(3 * plan.tensorWidth * plan.tensorHeight);
    hwcToNchw(
      new Uint8Array(canvas.getData()),
      plan.tensorWidth,
      plan.tensorHeight,
      true,
      m.input.colour,
      m.input.normalise.mean,
      m.input.normalise.std,
      tensor,
    );
    const { outputs, runMs } = await this.session.run({
      [m.input.name]: {
        data: tensor,
        dims: [1, 3, plan.tensorHeight, plan.tensorWidth],
      },
    });
    const heads = this.headsOf(outputs);
    const found = decodeGrid(heads, plan.tensorWidth, plan.tensorHeight, this.opts.scoreThreshold);
    return {
      plan,
      found: nonMaxSuppression(found, this.opts.iouThreshold, this.opts.maxFaces),
      runMs,
    };
  }

  /**
   * The pixels to detect on: the detection-size copy when it is at least the pass's scale (the capture
   * process made it with the same fit, so it is usually exactly the network's size), else the full frame.
   */
  private async pixels(frame: Frame, passScale: number): Promise<{ mat: Mat; scale: number }> {
    const p = detectionPixels(frame);
    if (p.scale >= passScale - 1e-6) return p;
    const full = await fullPixels(frame);
    return full ? { mat: full, scale: 1 } : p;
  }

  /** The decoder's view of one run's outputs: each stride's class, objectness, box and landmark tensors. */
  private headsOf(outputs: Record<string, TensorData>): GridHead[] {
    const output = (name: string) => must(outputs[name], `${this.name}: output "${name}" of a run`).data;
    return this.heads.map((h) => ({
      stride: h.stride,
      cls: output(h.cls),
      obj: output(h.obj),
      box: output(h.box),
      kps: h.kps ? output(h.kps) : undefined,
      landmarks: this.landmarks,
    }));
  }

  async detect(frame: Frame): Promise<Detection[]> {
    const { plan, found } = await this.candidates(frame);
    // Back to frame pixels, per axis (the plan keeps the aspect ratio only up to rounding).
    const sx = frame.width / plan.width;
    const sy = frame.height / plan.height;
    const out: Detection[] = [];
    for (const c of found) {
      const x0 = Math.max(0, c.box[1] * sx);
      const y0 = Math.max(0, c.box[0] * sy);
      const x1 = Math.min(c.box[3] * sx, frame.width);
      const y1 = Math.min(c.box[2] * sy, frame.height);
      const box = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
      if (box.w < this.opts.minFacePx || box.h < this.opts.minFacePx) continue;
      out.push({
        box,
        score: c.score,
        landmarks: c.landmarks.map(([x, y]) => [x * sx, y * sy] as [number, number]),
      });
    }
    return out;
  }

  /**
   * Faces in these regions only, each cut as a square tile of a fixed size (region-tiles.ts), decoded in
   * frame pixels and merged across tiles by NMS. A region that does not fit a square tile, or a model
   * with a fixed input, means a full-frame pass.
   */
  async detectRegions(frame: Frame, regions: Box[]): Promise<Detection[]> {
    const plan = this.plan(frame.width, frame.height);
    const tiles = fixedSize(this.session.loaded.manifest) ? [null] : regions.map((r) => tileFor(r, frame, plan.width / frame.width));
    if (tiles.some((t) => t === null)) return this.detect(frame);
    const found: GridCandidate[] = [];
    const pixels = await this.pixels(frame, plan.width / frame.width);
    for (const tile of tiles as Tile[]) found.push(...(await this.detectTile(frame, pixels, tile)));
    const out: Detection[] = [];
    for (const c of nonMaxSuppression(found, this.opts.iouThreshold, this.opts.maxFaces)) {
      const box = { x: c.box[1], y: c.box[0], w: c.box[3] - c.box[1], h: c.box[2] - c.box[0] };
      if (box.w < this.opts.minFacePx || box.h < this.opts.minFacePx) continue;
      out.push({ box, score: c.score, landmarks: c.landmarks });
    }
    return out;
  }

  /** One tile through the network; candidates in frame pixels, clamped to the frame. */
  private async detectTile(frame: Frame, pixels: { mat: Mat; scale: number }, tile: Tile): Promise<GridCandidate[]> {
    const cv = this.cv;
    const m = this.session.loaded.manifest;
    const { src, side } = tile;
    // The tile's square in the pixels at hand (frame pixels × their scale), whole pixels inside the image.
    const { mat, scale } = pixels;
    const r = must(
      clampRegion({ x: src.x * scale, y: src.y * scale, w: src.w * scale, h: src.h * scale }, mat.cols, mat.rows),
      `tile ${JSON.stringify(src)} in the image`,
    );
    const cut = mat.getRegion(new cv.Rect(r.x, r.y, r.w, r.h)).resize(side, side, 0, 0, cv.INTER_LINEAR);
    const tensor = new Float32Array(3 * side * side);
    hwcToNchw(new Uint8Array(cut.getData()), side, side, true, m.input.colour, m.input.normalise.mean, m.input.normalise.std, tensor);
    const { outputs } = await this.session.run({ [m.input.name]: { data: tensor, dims: [1, 3, side, side] } });
    const heads = this.headsOf(outputs);
    const k = src.w / side;
    return decodeGrid(heads, side, side, this.opts.scoreThreshold).map((c) => ({
      ...c,
      box: [
        Math.max(0, src.y + c.box[0] * k),
        Math.max(0, src.x + c.box[1] * k),
        Math.min(frame.height, src.y + c.box[2] * k),
        Math.min(frame.width, src.x + c.box[3] * k),
      ],
      landmarks: c.landmarks.map(([x, y]) => [src.x + x * k, src.y + y * k] as [number, number]),
    }));
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
