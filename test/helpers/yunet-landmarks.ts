// 5-point landmarks for real test photos, from YuNet run directly with onnxruntime (decoding as design §7
// says). A test helper only: the agent's own YuNet detector is another piece of work; this gives the
// alignment and re-identification tests honest landmarks meanwhile. The weights come from the mirror
// (PERCEPT_MODEL_MIRROR or ../shared/models), never from the repository.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { CV, Mat } from '../../agent/capture/opencv.js';
import type { FiveLandmarks, Point } from '../../agent/lib/align.js';
import { PACKAGE_ROOT } from './models.js';

export interface YunetFace {
  box: { x: number; y: number; w: number; h: number };
  score: number;
  landmarks: FiveLandmarks;
}

export function yunetPath(): string {
  const dirs = [process.env.PERCEPT_MODEL_MIRROR, resolve(PACKAGE_ROOT, '../shared/models'), '/work/shared/models'].filter(Boolean) as string[];
  for (const d of dirs) {
    const p = join(d, 'yunet', 'yunet_n_dynamic.onnx');
    if (existsSync(p)) return p;
  }
  throw new Error(`yunet_n_dynamic.onnx not found under ${dirs.join(', ')}: set PERCEPT_MODEL_MIRROR to the model mirror`);
}

let session: Promise<ort.InferenceSession> | undefined;

const iou = (a: YunetFace['box'], b: YunetFace['box']) => {
  const w = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  return (w * h) / (a.w * a.h + b.w * b.h - w * h);
};

/** Faces with landmarks in `img`'s pixels; the image is resized to multiples of 32 (aspect kept roughly). */
export async function yunetFaces(cv: CV, img: Mat, scoreThreshold = 0.6, maxSide = 640): Promise<YunetFace[]> {
  session ??= ort.InferenceSession.create(yunetPath(), {
    intraOpNumThreads: 2,
  });
  const s = await session;
  const scale = Math.min(1, maxSide / Math.max(img.cols, img.rows));
  const W = Math.max(32, Math.round((img.cols * scale) / 32) * 32);
  const H = Math.max(32, Math.round((img.rows * scale) / 32) * 32);
  const resized = img.resize(H, W, 0, 0, cv.INTER_LINEAR);
  const hwc = new Uint8Array(resized.getData());
  const input = new Float32Array(3 * W * H);
  for (let c = 0; c < 3; c++) for (let i = 0; i < W * H; i++) input[c * W * H + i] = hwc[i * 3 + c]!; // BGR, 0–255
  const out = await s.run({
    input: new ort.Tensor('float32', input, [1, 3, H, W]),
  });
  const [sx, sy] = [img.cols / W, img.rows / H];
  const faces: YunetFace[] = [];
  for (const stride of [8, 16, 32]) {
    const cls = out[`cls_${stride}`]!.data as Float32Array;
    const obj = out[`obj_${stride}`]!.data as Float32Array;
    const bbox = out[`bbox_${stride}`]!.data as Float32Array;
    const kps = out[`kps_${stride}`]!.data as Float32Array;
    const cols = W / stride;
    for (let k = 0; k < cls.length; k++) {
      const clamp = (v: number) => Math.min(1, Math.max(0, v));
      const score = Math.sqrt(clamp(cls[k]!) * clamp(obj[k]!));
      if (score < scoreThreshold) continue;
      const col = k % cols;
      const row = Math.floor(k / cols);
      const cx = (col + bbox[k * 4]!) * stride;
      const cy = (row + bbox[k * 4 + 1]!) * stride;
      const w = Math.exp(bbox[k * 4 + 2]!) * stride;
      const h = Math.exp(bbox[k * 4 + 3]!) * stride;
      const landmarks = [0, 1, 2, 3, 4].map(
        (j) => [(col + kps[k * 10 + 2 * j]!) * stride * sx, (row + kps[k * 10 + 2 * j + 1]!) * stride * sy] as Point,
      ) as unknown as FiveLandmarks;
      faces.push({
        box: {
          x: (cx - w / 2) * sx,
          y: (cy - h / 2) * sy,
          w: w * sx,
          h: h * sy,
        },
        score,
        landmarks,
      });
    }
  }
  faces.sort((a, b) => b.score - a.score);
  const kept: YunetFace[] = [];
  for (const f of faces) if (kept.every((k) => iou(k.box, f.box) < 0.3)) kept.push(f);
  return kept;
}
