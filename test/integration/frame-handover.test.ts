// The cheaper capture path (issue 22): while the pipeline says nobody needs full pixels, the capture
// process hands over only a copy scaled to the detector's input, and keeps the last frames whole so a
// frame's full pixels can be fetched by frame when a face is found on it. Real OpenCV, real capture
// processes, clips written here (two sizes, two fits).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import { requireFullPixels, type Frame, type FrameNeeds } from '../../agent/capture/frame.js';
import { fitWithin } from '../../agent/lib/geometry.js';
import { tempDir } from '../helpers/temp.js';

let cv: CV;
const work = tempDir('percept-handover-');
const FRAMES = 16;

/** A clip whose frames all differ (a moving bar over a gradient), so a frame fetched by the wrong number shows. */
function writeClip(name: string, width: number, height: number): string {
  const path = join(work, name);
  const w = new cv.VideoWriter(path, cv.VideoWriter.fourcc('MJPG'), 25, new cv.Size(width, height), true);
  for (let i = 0; i < FRAMES; i++) {
    const mat = new cv.Mat(height, width, cv.CV_8UC3, [40, 80 + i * 5, 120]);
    mat.drawRectangle(new cv.Rect((i * 13) % (width - 20), 10, 20, height - 20), new cv.Vec3(255, 255, 255), -1);
    w.write(mat);
  }
  w.release();
  return path;
}

const source = (clip: string) => new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });

/** Every frame of the clip, whole, as a source without needs has always sent them. */
async function reference(clip: string): Promise<Mat[]> {
  const src = source(clip);
  await src.open();
  const out: Mat[] = [];
  for await (const f of src.frames()) out.push(f.mat!);
  return out;
}

const same = (a: Mat, b: Mat) => a.rows === b.rows && a.cols === b.cols && a.absdiff(b).cvtColor(cv.COLOR_BGR2GRAY).countNonZero() === 0;

const CASES = [
  { name: 'a.avi', width: 320, height: 240, fit: { maxWidth: 160, maxHeight: 0 } },
  { name: 'b.avi', width: 384, height: 216, fit: { maxWidth: 0, maxHeight: 90 } },
];
const clips = new Map<string, string>();

before(async () => {
  cv = await loadOpenCV();
  for (const c of CASES) clips.set(c.name, writeClip(c.name, c.width, c.height));
});

for (const c of CASES) {
  test(`${c.width}x${c.height}, fit ${JSON.stringify(c.fit)}: small copies handed over, full pixels fetched by frame equal the decoded frame`, async () => {
    const clip = clips.get(c.name)!;
    const whole = await reference(clip);
    const small = fitWithin(c.width, c.height, c.fit.maxWidth, c.fit.maxHeight);
    const src = source(clip);
    src.need({ full: false, fit: c.fit });
    await src.open();
    let n = 0;
    for await (const f of src.frames()) {
      assert.equal(f.mat, null, `frame ${f.index}: no full pixels handed over`);
      assert.deepEqual([f.width, f.height], [c.width, c.height], 'the frame keeps its own size: boxes stay in full-frame pixels');
      assert.deepEqual([f.small!.cols, f.small!.rows], [small.width, small.height]);
      // The copy is the frame resized as the detector would resize it (INTER_LINEAR).
      assert.ok(same(f.small!, whole[f.index]!.resize(small.height, small.width, 0, 0, cv.INTER_LINEAR)), `frame ${f.index}: small copy`);
      // Every other frame fetched whole, while the next read is already in flight.
      if (f.index % 2 === 0) {
        const full = await requireFullPixels(f);
        assert.ok(same(full, whole[f.index]!), `frame ${f.index}: its own full pixels, not a neighbour's`);
        assert.equal(f.mat, full, 'kept on the frame for its other users');
      }
      n++;
    }
    assert.equal(n, FRAMES);
    assert.deepEqual(src.handedOver, { frames: FRAMES, full: 0, fetched: FRAMES / 2 });
  });
}

test('when the pipeline needs full frames again (someone in view), they come whole from the next reads on', async () => {
  const clip = clips.get('a.avi')!;
  const src = source(clip);
  const needs: FrameNeeds = { full: false, fit: { maxWidth: 160, maxHeight: 0 } };
  src.need(needs);
  await src.open();
  const kinds: string[] = [];
  for await (const f of src.frames()) {
    kinds.push(f.mat ? 'whole' : 'small');
    assert.ok(f.mat ? f.small === undefined : f.small !== undefined, `frame ${f.index}: one of the two`);
    if (f.index === 5) src.need({ ...needs, full: true });
    if (f.index === 10) src.need(needs);
  }
  // Reads run one ahead: a change of needs shapes the frame after the next.
  assert.deepEqual(kinds, [...Array(7).fill('small'), ...Array(5).fill('whole'), ...Array(4).fill('small')]);
});

test('full pixels that have left the capture process (read too long ago) are null, and a crop that needs them says why', async () => {
  const src = source(clips.get('b.avi')!);
  src.need({ full: false, fit: { maxWidth: 0, maxHeight: 90 } });
  await src.open();
  let first: Frame | null = null;
  for await (const f of src.frames()) {
    first ??= f;
    if (f.index === 12) break;
  }
  assert.ok(first && first.fetchFull);
  assert.equal(await first.fetchFull(), null);
  await assert.rejects(requireFullPixels(first), /full-resolution pixels of frame 0 are gone/);
});

test('a source without needs (tests, benchmarks, the SSD) hands over every frame whole, as before', async () => {
  const src = source(clips.get('a.avi')!);
  await src.open();
  for await (const f of src.frames()) assert.ok(f.mat && f.small === undefined && f.fetchFull === undefined);
  assert.deepEqual(src.handedOver, { frames: FRAMES, full: FRAMES, fetched: 0 });
});
