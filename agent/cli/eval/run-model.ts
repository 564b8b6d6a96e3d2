// Runs attribute models on one image at a time through the agent's own classifier adapter
// (OnnxClassifier: the manifest's crop, margin, resize and normalisation, in worker sessions).
//
// An image that is already a face crop (FairFace, RAF-DB aligned, UTKFace crops) is given to the adapter
// as a face box inset by the model's crop margin, so that the agent's crop — the box grown by margin ×
// its larger side on every side — is exactly the whole image: the margin the agent would add around a
// detected face is the crop's own border. With --detect the agent's detector runs on the full image and
// the largest face is classified, as the agent would; an image with no face is a wrong answer.
import type { CV } from '../../capture/opencv.js';
import type { Frame } from '../../capture/frame.js';
import type { Config } from '../../config/schema.js';
import { OnnxClassifier } from '../../classify/onnx-classifier.js';
import type { FaceRegion } from '../../classify/classifier.js';
import { openDetector } from '../../detect/open-detector.js';
import type { FaceDetector } from '../../detect/detector.js';
import { loadManifest } from '../../inference/manifest.js';
import { CONTRACT_LABELS, TASKS, type Task } from '../../contract/labels.js';

/** The face box whose agent crop (box grown by margin × larger side, each side) is the whole w×h image. */
export function boxForCrop(w: number, h: number, margin: number): FaceRegion {
  const grow = (Math.max(w, h) / (1 + 2 * margin)) * margin;
  return { x: grow, y: grow, w: w - 2 * grow, h: h - 2 * grow };
}

export type Answers = Partial<Record<Task, number>>;

interface Member {
  classifier: OnnxClassifier;
  margin: number;
}

/** One model to evaluate: one or more attribute model directories, each with its own crop margin. */
export class EvalModel {
  private constructor(
    readonly name: string,
    private readonly members: Member[],
  ) {}

  get tasks(): Task[] {
    return TASKS.filter((t) => this.members.some((m) => m.classifier.tasks.includes(t)));
  }

  static async open(cv: CV, dirs: string[], config: Config): Promise<EvalModel> {
    const session = { providers: config.inference.providers, intraOpThreads: config.inference.threads, verifySha256: true };
    const members: Member[] = [];
    const covered = new Set<Task>();
    try {
      for (const dir of dirs) {
        const margin = loadManifest(dir).manifest.input.cropMargin ?? config.classifier.cropMargin;
        const classifier = await OnnxClassifier.open(cv, [dir], config.classifier.cropMargin, session);
        // As in the agent: a task an earlier model answers is not asked again.
        if (classifier.tasks.every((t) => covered.has(t))) {
          await classifier.close();
          continue;
        }
        classifier.tasks.forEach((t) => covered.add(t));
        members.push({ classifier, margin });
      }
    } catch (err) {
      await Promise.all(members.map((m) => m.classifier.close()));
      throw err;
    }
    return new EvalModel(members.map((m) => m.classifier.name).join('+'), members);
  }

  /** Contract label indices per task for one face; `face` undefined means the image is the crop. */
  async answer(frame: Frame, face?: FaceRegion): Promise<Answers> {
    const out: Answers = {};
    for (const { classifier, margin } of this.members) {
      const box = face ?? boxForCrop(frame.width, frame.height, margin);
      const [attrs] = (await classifier.classify(frame, [box])).faces;
      for (const task of classifier.tasks) {
        if (out[task] !== undefined) continue;
        const label = attrs?.[task]?.label;
        out[task] = label === undefined ? -1 : CONTRACT_LABELS[task].indexOf(label);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.classifier.close()));
  }
}

/** The agent's detector, keeping the largest face of a full image (with its landmarks, for aligned crops). */
export class LargestFace {
  private constructor(private readonly detector: FaceDetector) {}

  static async open(cv: CV, config: Config): Promise<LargestFace> {
    const session = { providers: config.inference.providers, intraOpThreads: config.inference.threads, verifySha256: true };
    return new LargestFace(await openDetector(cv, config.detector, session));
  }

  async find(frame: Frame): Promise<FaceRegion | undefined> {
    const found = await this.detector.detect(frame);
    let best: FaceRegion | undefined;
    for (const d of found) {
      if (!best || d.box.w * d.box.h > best.w * best.h) best = { ...d.box, ...(d.landmarks ? { landmarks: d.landmarks } : {}) };
    }
    return best;
  }

  close(): Promise<void> {
    return this.detector.close();
  }
}
