// Real photos that Debian and npm packages install (design §2). Never committed, never shipped.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const faceApiDemo = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

export const GRACE_HOPPER = '/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg';
export const MESSI = '/usr/share/doc/opencv-doc/examples/data/messi5.jpg';
export const NO_FACE_BACKGROUND = '/usr/share/doc/facedetect/examples/640px-IceBlockNearJoekullsarlon.jpg';
/** face-api's demo photos (22 faces; photo rights unknown: tests only). */
export const FACE_API_SAMPLES = [1, 2, 3, 4, 5, 6].map((i) => join(faceApiDemo, `sample${i}.jpg`));

export function requireImage(path: string): string {
  if (!existsSync(path)) throw new Error(`test image ${path} is missing: run "npm run setup" (installs facedetect and opencv-doc)`);
  return path;
}
