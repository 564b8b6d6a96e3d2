// YuNet (the grid detector) on real photos and on a clip made here, beside the converted SSD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import type { Frame } from '../../agent/capture/frame.js';
import { GridDetector } from '../../agent/detect/grid-detector.js';
import { SsdDetector } from '../../agent/detect/ssd-detector.js';
import { openDetector } from '../../agent/detect/open-detector.js';
import type { Detection } from '../../agent/detect/detector.js';
import { boxIou, Tracker } from '../../agent/track/tracker.js';
import { defaults, validateConfig } from '../../agent/config/load.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { GRACE_HOPPER, MESSI, NO_FACE_BACKGROUND, requireImage } from '../helpers/images.js';
import { yunetModelDir } from '../helpers/yunet.js';
import { tempDir } from '../helpers/temp.js';
import { logLines } from '../helpers/log-lines.js';

const session = { providers: ['cpu'], intraOpThreads: 2, verifySha256: true };
const config = validateConfig(defaults(), 'test');
let cv: CV;
let yunet: GridDetector;
let ssd: SsdDetector;

before(async () => {
  cv = await loadOpenCV();
  yunet = await GridDetector.open(cv, await yunetModelDir(), config.detector, session);
  // The SSD with a low threshold, to read the scores it gives faces it would drop.
  ssd = await SsdDetector.open(cv, DEFAULT_MODELS.detector, { ...config.detector, scoreThreshold: 0.05, minFacePx: 1 }, session);
});

after(async () => {
  await Promise.all([yunet?.close(), ssd?.close()]);
});

const frameOf = (mat: Mat, index = 0): Frame => ({
  mat,
  width: mat.cols,
  height: mat.rows,
  index,
  ts: index * 100,
});
const inside = ([x, y]: [number, number], d: Detection) => x >= d.box.x && x <= d.box.x + d.box.w && y >= d.box.y && y <= d.box.y + d.box.h;

for (const [name, path] of [
  ['Grace Hopper', GRACE_HOPPER],
  ['Messi', MESSI],
] as const) {
  test(`YuNet finds ${name}: one face, where the SSD puts it, with 5 landmarks in anatomical order`, async () => {
    const frame = frameOf(cv.imread(requireImage(path)));
    const found = await yunet.detect(frame);
    const ref = (await ssd.detect(frame)).filter((d) => d.score >= 0.5);
    assert.equal(found.length, 1, `faces: ${JSON.stringify(found.map((d) => d.score))}`);
    assert.equal(ref.length, 1);
    const [d] = found as [Detection];
    assert.ok(d.score >= 0.85, `score ${d.score}`);
    const overlap = boxIou(d.box, ref[0]!.box);
    assert.ok(overlap >= 0.6, `IoU with the SSD box ${overlap.toFixed(2)} (${JSON.stringify(d.box)} vs ${JSON.stringify(ref[0]!.box)})`);
    const lm = d.landmarks!;
    assert.equal(lm.length, 5);
    for (const p of lm) assert.ok(inside(p, d), `landmark ${p} inside ${JSON.stringify(d.box)}`);
    const [rEye, lEye, nose, rMouth, lMouth] = lm as [number, number][] as [
      [number, number],
      [number, number],
      [number, number],
      [number, number],
      [number, number],
    ];
    assert.ok(Math.max(rEye[1], lEye[1]) < nose[1] && nose[1] < Math.min(rMouth[1], lMouth[1]), 'eyes above the nose tip, the nose tip above the mouth');
    // The person's right eye and mouth corner are on the image's left (the order the Detection type documents).
    assert.ok(rEye[0] < lEye[0] && rMouth[0] < lMouth[0], `right-side points on the image's left: ${JSON.stringify(lm)}`);
    assert.ok(rEye[0] < nose[0] && nose[0] < lEye[0], 'the nose tip between the eyes');
  });
}

test('YuNet finds nothing on a photo without a face', async () => {
  assert.deepEqual(await yunet.detect(frameOf(cv.imread(requireImage(NO_FACE_BACKGROUND)))), []);
});

test('a 720p frame is detected at 640×360 (aspect kept, padded to 384), boxes back in frame pixels', async () => {
  assert.deepEqual(yunet.plan(1280, 720), {
    width: 640,
    height: 360,
    tensorWidth: 640,
    tensorHeight: 384,
  });
  const grace = cv.imread(requireImage(GRACE_HOPPER));
  const frame = cv.imread(requireImage(NO_FACE_BACKGROUND)).resize(720, 1280);
  grace.copyTo(frame.getRegion(new cv.Rect(700, 150, 512, 512)));
  const [d, ...rest] = await yunet.detect(frameOf(frame));
  assert.equal(rest.length, 0);
  const alone = (await yunet.detect(frameOf(grace)))[0]!;
  const shifted = { ...alone.box, x: alone.box.x + 700, y: alone.box.y + 150 };
  assert.ok(boxIou(d!.box, shifted) > 0.85, `${JSON.stringify(d!.box)} vs ${JSON.stringify(shifted)}`);
});

/**
 * A short 720p clip of a tightly framed face (eyebrows to chin, no hair or shoulders) at 150–250 px, made
 * from real photos: the case the SSD misses.
 */
function tightFaceClip(path: string): { frames: number } {
  const grace = cv.imread(requireImage(GRACE_HOPPER));
  const background = cv.imread(requireImage(NO_FACE_BACKGROUND)).resize(720, 1280);
  const crops = [new cv.Rect(175, 110, 178, 210), new cv.Rect(190, 140, 150, 170), new cv.Rect(185, 150, 160, 160)];
  const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc('MJPG'), 10, new cv.Size(1280, 720), true);
  let frames = 0;
  for (const size of [150, 175, 200, 225, 250]) {
    for (const crop of crops) {
      const face = grace.getRegion(crop).resize(size, Math.round((size * crop.width) / crop.height));
      for (let step = 0; step < 3; step++) {
        const frame = background.copy();
        face.copyTo(frame.getRegion(new cv.Rect(480 + step * 6, 220 + step * 3, face.cols, face.rows)));
        writer.write(frame);
        frames++;
      }
    }
  }
  writer.release();
  return { frames };
}

test('a tightly framed 150–250 px face: YuNet scores it ≥ 0.8 on every frame and the tracker confirms one person', async (t) => {
  const clip = join(tempDir('percept-tight-'), 'tight-face.avi');
  const { frames } = tightFaceClip(clip);
  const source = new OpenCvSource(cv, clip, {
    loop: false,
    realtime: false,
    imageIntervalMs: 0,
  });
  await source.open();
  const tracker = new Tracker(config.tracker);
  const yunetScores: number[] = [];
  const ssdScores: number[] = [];
  let n = 0;
  for await (const frame of source.frames()) {
    const found = await yunet.detect(frame);
    assert.equal(found.length, 1, `frame ${frame.index}: ${found.length} faces`);
    yunetScores.push(found[0]!.score);
    ssdScores.push(Math.max(0, ...(await ssd.detect(frame)).map((d) => d.score)));
    tracker.update(found, n++ * 100);
  }
  await source.close();
  assert.equal(n, frames);
  const r = (v: number) => v.toFixed(2);
  t.diagnostic(
    `YuNet scores ${r(Math.min(...yunetScores))}–${r(Math.max(...yunetScores))}; SSD ${r(Math.min(...ssdScores))}–${r(Math.max(...ssdScores))}, per frame ${ssdScores.map(r).join(' ')}`,
  );
  assert.ok(Math.min(...yunetScores) >= 0.8, `YuNet's lowest score ${Math.min(...yunetScores)}`);
  assert.equal(tracker.confirmedTotal, 1, 'one person');
});

test('openDetector: the configured directory, else YuNet when installed, else the SSD — and says which', async () => {
  const { log, lines } = logLines();
  const yunetDir = await yunetModelDir();
  const a = await openDetector(cv, config.detector, session, log, { yunet: yunetDir, ssd: DEFAULT_MODELS.detector });
  const b = await openDetector(cv, config.detector, session, log, {
    yunet: join(tmpdir(), 'percept-no-such-model'),
    ssd: DEFAULT_MODELS.detector,
  });
  const c = await openDetector(cv, { ...config.detector, model: DEFAULT_MODELS.detector }, session, log, {
    yunet: yunetDir,
    ssd: DEFAULT_MODELS.detector,
  });
  try {
    assert.ok(a instanceof GridDetector && b instanceof SsdDetector && c instanceof SsdDetector);
    const choices = lines.filter((l) => l.startsWith('info: detector:'));
    assert.equal(choices.length, 3);
    assert.match(choices[0]!, /^info: detector: yunet-n — default: YuNet is installed/);
    assert.match(
      choices[1]!,
      /^info: detector: face-api-ssd-mobilenetv1 — default: YuNet is not installed .*percept models fetch yunet-n.*using the converted SSD/,
    );
    assert.match(choices[2]!, /^info: detector: face-api-ssd-mobilenetv1 — detector.model in the config/);
    // The fallback still finds faces.
    assert.equal((await b.detect(frameOf(cv.imread(requireImage(GRACE_HOPPER))))).length, 1);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});
