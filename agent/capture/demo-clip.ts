// Makes the demo/reference clip from real photos that Debian packages install (never committed):
// Grace Hopper (facedetect, public domain) walks in from the left, Lionel Messi (opencv-doc's messi5.jpg)
// from the right, they overlap, each leaves, over a glacier photo with no face in it.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CV, Mat } from './opencv.js';

export const CLIP_IMAGES = {
  grace: '/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg',
  messi: '/usr/share/doc/opencv-doc/examples/data/messi5.jpg',
  background: '/usr/share/doc/facedetect/examples/640px-IceBlockNearJoekullsarlon.jpg',
};

export interface ClipPerson {
  name: string;
  /** Seconds from the clip start when the face is fully in view, and when it starts leaving. */
  inView: [number, number];
  expected: { gender: string; ageGroups: string[] };
}

export interface ClipSpec {
  width: number;
  height: number;
  fps: number;
  seconds: number;
}

export const DEMO_CLIP: ClipSpec = { width: 1280, height: 720, fps: 10, seconds: 14 };

interface Actor {
  person: ClipPerson;
  image: Mat;
  /** x position (left edge) as a function of time; y fixed. */
  x: (t: number) => number;
  y: number;
}

const ramp = (t: number, t0: number, t1: number, a: number, b: number) => (t <= t0 ? a : t >= t1 ? b : a + ((b - a) * (t - t0)) / (t1 - t0));

export const CLIP_PEOPLE: ClipPerson[] = [
  { name: 'grace', inView: [2, 6], expected: { gender: 'female', ageGroups: ['50-59', '60-69', '70+'] } },
  { name: 'messi', inView: [6.5, 11], expected: { gender: 'male', ageGroups: ['10-19', '20-29', '30-39', '40-49'] } },
];

export function makeClip(cv: CV, out: string, spec: ClipSpec = DEMO_CLIP): { path: string; people: ClipPerson[]; frames: number } {
  for (const p of Object.values(CLIP_IMAGES)) {
    if (!existsSync(p)) throw new Error(`demo clip: ${p} is missing (installed by the Debian packages facedetect and opencv-doc: run "npm run setup")`);
  }
  const { width: W, height: H, fps, seconds } = spec;
  const background = cv.imread(CLIP_IMAGES.background).resize(H, W);
  const grace = cv.imread(CLIP_IMAGES.grace).resize(Math.round(H * 0.42), Math.round(H * 0.42));
  // messi5.jpg is a wide shot; his face is about 33×49 px at (225, 83). Cut a portrait around it.
  const messiSrc = cv.imread(CLIP_IMAGES.messi);
  const messi = messiSrc.getRegion(new cv.Rect(175, 35, 140, 150)).resize(Math.round(H * 0.5), Math.round(H * 0.467));
  const [g, m] = CLIP_PEOPLE as [ClipPerson, ClipPerson];
  const actors: Actor[] = [
    {
      person: g,
      image: grace,
      y: Math.round(H * 0.25),
      x: (t) => (t < 4 ? ramp(t, 0.5, g.inView[0], -grace.cols, W * 0.12) : ramp(t, g.inView[1], g.inView[1] + 1.5, W * 0.12, -grace.cols - 10)),
    },
    {
      person: m,
      image: messi,
      y: Math.round(H * 0.2),
      x: (t) => (t < 9 ? ramp(t, 5, m.inView[0], W + 10, W * 0.55) : ramp(t, m.inView[1], m.inView[1] + 1.5, W * 0.55, W + 10)),
    },
  ];
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp.avi`;
  const writer = new cv.VideoWriter(tmp, cv.VideoWriter.fourcc('MJPG'), fps, new cv.Size(W, H), true);
  const frames = Math.round(seconds * fps);
  for (let i = 0; i < frames; i++) {
    const t = i / fps;
    const frame = background.copy();
    for (const a of actors) paste(cv, frame, a.image, Math.round(a.x(t)), a.y);
    writer.write(frame);
  }
  writer.release();
  renameSync(tmp, out);
  return { path: out, people: CLIP_PEOPLE, frames };
}

/** Copies `img` onto `dst` at (x, y), cut to the frame. */
export function paste(cv: CV, dst: Mat, img: Mat, x: number, y: number): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(dst.cols, x + img.cols);
  const y1 = Math.min(dst.rows, y + img.rows);
  if (x1 <= x0 || y1 <= y0) return;
  img.getRegion(new cv.Rect(x0 - x, y0 - y, x1 - x0, y1 - y0)).copyTo(dst.getRegion(new cv.Rect(x0, y0, x1 - x0, y1 - y0)));
}
