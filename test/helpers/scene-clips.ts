// Scene clips for the visit / re-identification tests, made at test time from real photos (never
// committed): portraits cut from Grace Hopper, Messi and face-api's demo photos move along paths over a
// background, pass behind or in front of each other, leave the frame and come back, hide behind a bar
// that passes in front of them, or dim with the light. Every case has variants (other faces, speeds,
// sizes, timings), all deterministic: the same variant number gives the same clip and the same truth.
import { paste } from '../../agent/capture/demo-clip.js';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CV, Mat } from '../../agent/capture/opencv.js';
import type { Box } from '../../agent/detect/detector.js';
import { FACE_API_SAMPLES, GRACE_HOPPER, MESSI, NO_FACE_BACKGROUND, requireImage } from './images.js';

export interface Portrait {
  name: string;
  image: string;
  /** The face in the photo, px (found once with the SSD at score ≥ 0.9; the photos are pinned files). */
  face: Box;
  gender?: 'female' | 'male';
}

const sample = (i: number) => FACE_API_SAMPLES[i - 1]!;
export const GRACE: Portrait = { name: 'grace', image: GRACE_HOPPER, face: { x: 176, y: 103, w: 172, h: 205 }, gender: 'female' };
export const LEO: Portrait = { name: 'messi', image: MESSI, face: { x: 225, y: 83, w: 32, h: 48 }, gender: 'male' };
/** Faces of the face-api demo photos, one per person. */
export const SAMPLE_PORTRAITS: Portrait[] = (
  [
    [1, 413, 353, 177, 240],
    [1, 839, 418, 187, 226],
    [1, 1473, 196, 204, 240],
    [2, 1446, 153, 195, 242],
    [3, 585, 327, 198, 271],
    [3, 1513, 288, 170, 283],
    [4, 663, 49, 185, 263],
    [4, 255, 181, 163, 250],
    [4, 988, 176, 171, 228],
    [5, 786, 108, 155, 212],
    [5, 1110, 194, 163, 241],
    [5, 596, 413, 168, 250],
    [5, 1403, 385, 170, 278],
    [6, 1180, 306, 188, 276],
    [6, 1486, 258, 210, 301],
  ] as const
).map(([s, x, y, w, h], i) => ({ name: `sample${s}-${i}`, image: sample(s), face: { x, y, w, h } }));

/** Face centre (px) at time t (s); null when the person is out of the scene. */
export type Path = (t: number) => { x: number; y: number } | null;

export interface Actor {
  portrait: Portrait;
  /** Face width in the clip, px. */
  size: number;
  path: Path;
  /** Opacity at time t (1 when absent): a person fading in shows no motion. */
  opacity?: (t: number) => number;
}

export interface SceneSpec {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** Painted in order: a later actor passes in front of an earlier one. */
  actors: Actor[];
  /** Bars painted over everyone (a person or a pillar in front), at time t; null when absent. */
  occluders?: ((t: number) => Box | null)[];
  /** Light level at time t (1: as photographed). */
  brightness?: (t: number) => number;
  /** Sensor noise: Gaussian, this standard deviation in grey levels, new in every frame. */
  noise?: number;
}

export interface SceneClip {
  name: string;
  spec: SceneSpec;
  /** Visits the agent should report, and per actor the side of the frame where it leaves (or is last seen). */
  expect: { visits: number; exits?: ('left' | 'right')[] };
}

export const ramp = (t: number, t0: number, t1: number, a: number, b: number) => (t <= t0 ? a : t >= t1 ? b : a + ((b - a) * (t - t0)) / (t1 - t0));

/** A deterministic stream of numbers in [0, 1) for a variant (mulberry32). */
function variantRng(variant: number, salt: number) {
  let a = (variant * 7919 + salt * 104729 + 1) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const W = 960;
const H = 540;
const FPS = 10;

/**
 * A vertical bar (someone passing in front) that slides in at `speed` px/s, covers a face centred at cx
 * (face width `size`) fully from t0 for `hide` s, and slides on.
 */
function passingBar(cx: number, size: number, t0: number, hide: number, speed: number): (t: number) => Box | null {
  const w = size * 1.5;
  const cover = cx - w / 2;
  return (t) => {
    const x = t < t0 ? cover - speed * (t0 - t) : t < t0 + hide ? cover : cover + speed * (t - t0 - hide);
    return x > W || x + w < 0 ? null : { x, y: 0, w, h: H };
  };
}

/** The scene cases of issue 10, variant `v` (0, 1, 2, …). */
export function sceneCases(v: number): SceneClip[] {
  const r = variantRng(v, 1);
  const pick = (k: number) => SAMPLE_PORTRAITS[(v * 5 + k * 3) % SAMPLE_PORTRAITS.length]!;
  const size = () => Math.round(130 + r() * 50);
  const y = () => Math.round(H * (0.4 + r() * 0.15));
  const cases: SceneClip[] = [];

  for (const [name, hide] of [
    ['hidden-0.3s', 0.3],
    ['hidden-2s', 2],
  ] as const) {
    const s = size();
    const cx = Math.round(W * (0.35 + r() * 0.3));
    const cy = y();
    const t0 = 3 + r();
    const drift = (r() - 0.5) * 20; // px/s: barely moving
    cases.push({
      name: `${name}-v${v}`,
      expect: { visits: 1 },
      spec: {
        width: W,
        height: H,
        fps: FPS,
        seconds: t0 + hide + 4,
        actors: [{ portrait: pick(0), size: s, path: (t) => ({ x: cx + drift * t, y: cy }) }],
        occluders: [passingBar(cx + drift * (t0 + hide / 2), s, t0, hide, 300 + r() * 300)],
      },
    });
  }

  for (const [name, away, visits] of [
    ['out-2s', 2, 1],
    ['out-8s', 8, 2],
  ] as const) {
    const s = size();
    const cy = y();
    const side = r() < 0.5 ? 'left' : 'right';
    const speed = 150 + r() * 150;
    const home = side === 'right' ? W * 0.7 : W * 0.3;
    // The face centre walks to 0.8 face widths beyond the edge (the face is out of view from 0.5 on) and
    // waits there so that the face is out of view for exactly `away` seconds.
    const out = side === 'right' ? W + s * 0.8 : -s * 0.8;
    const tOut = 3 + r();
    const walk = Math.abs(out - home) / speed;
    const tBack = tOut + walk + away - (2 * 0.3 * s) / speed;
    cases.push({
      name: `${name}-v${v}`,
      expect: { visits },
      spec: {
        width: W,
        height: H,
        fps: FPS,
        seconds: tBack + walk + 3,
        actors: [
          {
            portrait: pick(1),
            size: s,
            path: (t) => ({ x: t < tBack ? ramp(t, tOut, tOut + walk, home, out) : ramp(t, tBack, tBack + walk, out, home), y: cy }),
          },
        ],
      },
    });
  }

  {
    // Two people cross; the one walking right passes behind the other, whose face hides theirs.
    const pair: [Portrait, Portrait] = v === 0 ? [GRACE, LEO] : [pick(2), pick(4)];
    const s = size();
    const cy = y();
    const speed = 80 + r() * 60;
    cases.push(crossing(`crossing-v${v}`, pair, s, cy, cy + 10, (W * 0.8) / speed + 2));
  }

  {
    const s = size();
    const cx = Math.round(W * (0.3 + r() * 0.4));
    const cy = y();
    const t0 = 3 + r();
    cases.push({
      name: `dimming-v${v}`,
      expect: { visits: 1 },
      spec: {
        width: W,
        height: H,
        fps: FPS,
        seconds: t0 + 6,
        actors: [{ portrait: pick(3), size: s, path: () => ({ x: cx, y: cy }) }],
        brightness: (t) => (t < t0 + 1.5 ? ramp(t, t0, t0 + 0.5, 1, 0.5) : ramp(t, t0 + 2.5, t0 + 3, 0.5, 1)),
      },
    });
  }

  // Crossings where fragments are born (issue 24): two people, two visits, never a third.
  {
    // Faces partly visible while they overlap: the walker behind is offset by 35–55 % of a face height,
    // so part of their face shows above or below the other's as they pass.
    const s = size();
    const cy = y();
    const offset = Math.round(s * (0.35 + r() * 0.2)) * (r() < 0.5 ? -1 : 1);
    const speed = 80 + r() * 60;
    cases.push(crossing(`crossing-partial-v${v}`, [pick(5), pick(6)], s, cy, cy + offset, (W * 0.8) / speed + 2));
  }
  {
    // One face hidden for 0.2–0.5 s by someone passing in front, before the two cross (faces apart).
    const s = size();
    const cy = y();
    const speed = 80 + r() * 60;
    const seconds = (W * 0.8) / speed + 2;
    const hide = 0.2 + r() * 0.3;
    const t0 = 1 + (seconds - 2) * (0.2 + r() * 0.1);
    const c = crossing(`crossing-hidden-v${v}`, [pick(7), pick(8)], s, cy, cy + 10, seconds);
    c.spec.occluders = [passingBar(c.spec.actors[0]!.path(t0 + hide / 2)!.x, s, t0, hide, 600 + r() * 300)];
    cases.push(c);
  }
  return cases;
}

/**
 * The motion-gating scenes of issue 22, variant `v` (0, 1: other faces and places):
 * - walk-in-stand: a person walks in from a side and then stands still for 20 s (one visit, with labels);
 * - fade-in: a person stands from the start, fading in over 2 s (no motion) while another walks in and
 *   stands: both found, the one who faded in by the full-frame passes alone;
 * - empty-dimming: nobody, sensor noise on every frame, the light dimming to 50 % and back: no visit,
 *   and few detection passes.
 */
export function gatingCases(v: number): SceneClip[] {
  const r = variantRng(v, 2);
  const pick = (k: number) => SAMPLE_PORTRAITS[(v * 7 + k * 4 + 1) % SAMPLE_PORTRAITS.length]!;
  const size = () => Math.round(130 + r() * 40);
  const noise = 3;
  const cases: SceneClip[] = [];
  {
    const s = size();
    const cy = Math.round(H * (0.4 + r() * 0.15));
    const fromLeft = v % 2 === 0;
    const home = W * (fromLeft ? 0.35 + r() * 0.1 : 0.55 + r() * 0.1);
    const start = fromLeft ? -s : W + s;
    const person = v === 0 ? GRACE : pick(0);
    cases.push({
      name: `walk-in-stand-v${v}`,
      expect: { visits: 1 },
      spec: {
        width: W,
        height: H,
        fps: FPS,
        seconds: 24,
        noise,
        actors: [{ portrait: person, size: s, path: (t) => ({ x: ramp(t, 0.5, 2.5, start, home), y: cy }) }],
      },
    });
  }
  {
    const s = size();
    const still = { x: W * (v === 0 ? 0.75 : 0.25), y: H * (0.45 + r() * 0.1) };
    const home = { x: W * (v === 0 ? 0.3 : 0.7), y: H * (0.4 + r() * 0.1) };
    const start = v === 0 ? -s : W + s;
    cases.push({
      name: `fade-in-v${v}`,
      expect: { visits: 2 },
      spec: {
        width: W,
        height: H,
        fps: FPS,
        seconds: 14,
        noise,
        actors: [
          { portrait: pick(1), size: s, path: () => still, opacity: (t) => ramp(t, 0.5, 2.5, 0, 1) },
          { portrait: v === 0 ? LEO : pick(2), size: s, path: (t) => ({ x: ramp(t, 3, 5, start, home.x), y: home.y }) },
        ],
      },
    });
  }
  cases.push({
    name: `empty-dimming-v${v}`,
    expect: { visits: 0 },
    spec: {
      width: W,
      height: H,
      fps: FPS,
      seconds: 30,
      noise: noise + v * 2,
      actors: [],
      brightness: (t) => (t < 15 ? ramp(t, 5, 10, 1, 0.5) : ramp(t, 18, 24, 0.5, 1)),
    },
  });
  return cases;
}

/** Two people walking across the whole frame in opposite directions (A left to right at ya, B back at yb). */
function crossing(name: string, [pa, pb]: [Portrait, Portrait], size: number, ya: number, yb: number, seconds: number): SceneClip {
  return {
    name,
    expect: { visits: 2, exits: ['right', 'left'] },
    spec: {
      width: W,
      height: H,
      fps: FPS,
      seconds,
      actors: [
        { portrait: pa, size, path: (t) => ({ x: ramp(t, 1, seconds - 1, W * 0.1, W * 0.9), y: ya }) },
        { portrait: pb, size, path: (t) => ({ x: ramp(t, 1, seconds - 1, W * 0.9, W * 0.1), y: yb }) },
      ],
    },
  };
}

/** A portrait around the face: hair, chin and some shoulders, scaled so the face is `size` px wide. */
function cutPortrait(cv: CV, p: Portrait, size: number): { image: Mat; face: Box } {
  const src = cv.imread(requireImage(p.image));
  const f = p.face;
  const x0 = Math.max(0, Math.round(f.x - f.w * 0.4));
  const y0 = Math.max(0, Math.round(f.y - f.h * 0.45));
  const x1 = Math.min(src.cols, Math.round(f.x + f.w * 1.4));
  const y1 = Math.min(src.rows, Math.round(f.y + f.h * 1.6));
  const k = size / f.w;
  const image = src.getRegion(new cv.Rect(x0, y0, x1 - x0, y1 - y0)).resize(Math.round((y1 - y0) * k), Math.round((x1 - x0) * k));
  return { image, face: { x: (f.x - x0) * k, y: (f.y - y0) * k, w: f.w * k, h: f.h * k } };
}

/** Writes the clip (MJPG .avi) and returns its path and frame count. */
export function makeSceneClip(cv: CV, out: string, spec: SceneSpec): { path: string; frames: number } {
  const background = cv.imread(requireImage(NO_FACE_BACKGROUND)).resize(spec.height, spec.width);
  const actors = spec.actors.map((a) => ({ ...a, ...cutPortrait(cv, a.portrait, a.size) }));
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp.avi`;
  const writer = new cv.VideoWriter(tmp, cv.VideoWriter.fourcc('MJPG'), spec.fps, new cv.Size(spec.width, spec.height), true);
  const frames = Math.round(spec.seconds * spec.fps);
  const noiseRng = variantRng(0, 99);
  for (let i = 0; i < frames; i++) {
    const t = i / spec.fps;
    let frame = background.copy();
    for (const a of actors) {
      const c = a.path(t);
      const alpha = a.opacity?.(t) ?? 1;
      if (!c || alpha <= 0) continue;
      const target = alpha < 1 ? frame.copy() : frame;
      paste(cv, target, a.image, Math.round(c.x - a.face.x - a.face.w / 2), Math.round(c.y - a.face.y - a.face.h / 2));
      if (alpha < 1) frame = frame.addWeighted(1 - alpha, target, alpha, 0);
    }
    for (const occluder of spec.occluders ?? []) {
      const b = occluder(t);
      if (!b) continue;
      const x0 = Math.max(0, Math.round(b.x));
      const x1 = Math.min(spec.width, Math.round(b.x + b.w));
      if (x1 > x0) frame.drawRectangle(new cv.Rect(x0, Math.round(b.y), x1 - x0, Math.round(b.h)), new cv.Vec3(70, 90, 110), -1);
    }
    const light = spec.brightness?.(t) ?? 1;
    if (light !== 1) frame = frame.convertTo(cv.CV_8UC3, light, 0);
    if (spec.noise) frame = noisy(cv, frame, spec.noise, noiseRng);
    writer.write(frame);
  }
  writer.release();
  renameSync(tmp, out);
  return { path: out, frames };
}

/** Gaussian samples (sd 1), drawn once: each frame reads them from a random start, which is plenty of noise for a test and 50× faster than drawing per pixel. */
let gaussians: Float32Array | null = null;

/** The image with Gaussian sensor noise of `sigma` grey levels added, independently per pixel and channel. */
export function noisy(cv: CV, mat: Mat, sigma: number, random: () => number): Mat {
  if (!gaussians) {
    const r = variantRng(0, 42);
    gaussians = new Float32Array(1 << 21);
    for (let i = 0; i < gaussians.length; i += 2) {
      const u = Math.max(r(), 1e-12);
      const v = r();
      const m = Math.sqrt(-2 * Math.log(u));
      gaussians[i] = m * Math.cos(2 * Math.PI * v);
      gaussians[i + 1] = m * Math.sin(2 * Math.PI * v);
    }
  }
  const g = gaussians;
  const data = new Uint8Array(mat.getData());
  let k = Math.floor(random() * g.length);
  const step = 1 + 2 * Math.floor(random() * 500); // odd: walks every sample before repeating
  for (let i = 0; i < data.length; i++) {
    k = (k + step) & (g.length - 1);
    const v = data[i]! + sigma * g[k]!;
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return new cv.Mat(Buffer.from(data.buffer), mat.rows, mat.cols, cv.CV_8UC3);
}
