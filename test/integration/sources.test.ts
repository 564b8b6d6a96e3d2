// Frame sources through the real OpenCV: a video file, a folder of images, a GStreamer pipeline, and the
// "latest frame wins" hand-off with a slow consumer.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV, type CV } from '../../agent/capture/opencv.js';
import { OpenCvSource, sourceKind } from '../../agent/capture/opencv-source.js';
import { LatestFrame } from '../../agent/capture/latest-frame.js';
import type { Frame } from '../../agent/capture/frame.js';
import { GRACE_HOPPER, MESSI } from '../helpers/images.js';
import { tempDir } from '../helpers/temp.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { logLines } from '../helpers/log-lines.js';

let cv: CV;
const work = tempDir('percept-sources-');
let clip: string;

before(async () => {
  cv = await loadOpenCV();
  clip = join(work, 'clip.avi');
  const w = new cv.VideoWriter(clip, cv.VideoWriter.fourcc('MJPG'), 20, new cv.Size(64, 48), true);
  for (let i = 0; i < 30; i++) w.write(new cv.Mat(48, 64, cv.CV_8UC3, [i * 8, 0, 0]));
  w.release();
});

async function collect(src: OpenCvSource, max = 1000): Promise<Frame[]> {
  await src.open();
  const out: Frame[] = [];
  for await (const f of src.frames()) {
    out.push(f);
    if (out.length >= max) break;
  }
  await src.close();
  return out;
}

test('source kinds from the URI', () => {
  assert.equal(sourceKind('/dev/video0'), 'v4l2');
  assert.equal(sourceKind('rtsp://cam.local/stream'), 'stream');
  assert.equal(sourceKind('gst:v4l2src ! appsink'), 'gstreamer');
  assert.equal(sourceKind(work), 'images');
  assert.equal(sourceKind(clip), 'file');
});

test('a video file yields every frame with media-clock timestamps, then ends', async () => {
  const frames = await collect(new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0, now: () => 1000 }));
  assert.equal(frames.length, 30);
  assert.deepEqual(
    frames.slice(0, 3).map((f) => f.ts),
    [1000, 1050, 1100],
  );
  assert.equal(frames[29]!.index, 29);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [64, 48]);
});

test('a looping file starts again at its end', async () => {
  const frames = await collect(new OpenCvSource(cv, clip, { loop: true, realtime: false, imageIntervalMs: 0 }), 45);
  assert.equal(frames.length, 45);
  assert.equal(frames[44]!.index, 44);
});

test('a folder of images, in name order, at the configured interval', async () => {
  const dir = join(work, 'images');
  mkdirSync(dir);
  cpSync(MESSI, join(dir, 'b.jpg'));
  cpSync(GRACE_HOPPER, join(dir, 'a.jpg'));
  const frames = await collect(new OpenCvSource(cv, dir, { loop: false, realtime: false, imageIntervalMs: 200, now: () => 0 }));
  assert.deepEqual(
    frames.map((f) => [f.width, f.height, f.ts]),
    [
      [512, 512, 0],
      [548, 342, 200],
    ],
  );
});

test('a GStreamer pipeline', async () => {
  const frames = await collect(
    new OpenCvSource(cv, 'gst:videotestsrc num-buffers=5 ! video/x-raw,width=80,height=60 ! videoconvert ! appsink', {
      loop: false,
      realtime: false,
      imageIntervalMs: 0,
    }),
  );
  assert.equal(frames.length, 5);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [80, 60]);
});

test('latest frame wins: a slow consumer gets the newest frame and drops are counted', async () => {
  const src = new OpenCvSource(cv, clip, { loop: false, realtime: true, imageIntervalMs: 0 });
  await src.open();
  const latest = new LatestFrame(src.frames());
  const taken: number[] = [];
  for await (const f of latest) {
    taken.push(f.index);
    await sleep(150); // a slow consumer: three frame times at 20 fps
  }
  assert.ok(taken.length < 20, `took ${taken.length}`);
  assert.equal(latest.captured, 30);
  assert.equal(latest.dropped + taken.length, 30, 'every frame is either taken or counted as dropped');
  assert.ok(
    taken.every((v, i) => i === 0 || v > taken[i - 1]!),
    'always newer frames',
  );
});

test('a looping folder of only unreadable images: each logged once, skipped with backoff, no busy loop', async () => {
  const dir = join(work, 'garbage');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a.jpg'), 'not a jpeg');
  writeFileSync(join(dir, 'b.png'), Buffer.alloc(64, 7));
  const { log, at } = logLines();
  const backoffs = () =>
    at('debug')
      .flatMap((m) => /looking again in (\d+) ms/.exec(m)?.[1] ?? [])
      .map(Number);
  const src = new OpenCvSource(cv, dir, {
    loop: true,
    realtime: false,
    imageIntervalMs: 0,
    log,
  });
  await src.open();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const frames: Frame[] = [];
  const reading = (async () => {
    for await (const f of src.frames()) frames.push(f);
  })();
  // Two whole passes, each followed by a longer wait: a spinning loop would never announce one.
  await waitFor(() => backoffs().length >= 2, 30_000, 'two backed-off passes over the folder', { detail: () => at('warn').join('\n') });
  const wallMs = Date.now() - t0;
  await src.close();
  await reading;
  const cpu = process.cpuUsage(cpu0);
  assert.equal(frames.length, 0);
  const warnings = at('warn');
  assert.equal(warnings.length, 2, `each unreadable file logged once: ${warnings.join(' | ')}`);
  assert.match(warnings[0]!, /cannot be read as an image; skipped/);
  assert.deepEqual(backoffs().slice(0, 2), [500, 1000], 'the wait doubles after each empty pass');
  assert.ok(cpu.user + cpu.system < 1_000_000, `CPU while waiting: ${(cpu.user + cpu.system) / 1000} ms in ${wallMs} ms`);
});
