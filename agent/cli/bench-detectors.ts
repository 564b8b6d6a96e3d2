// percept bench, detectors side by side: every detector available here (YuNet when fetched, the converted
// SSD) reads the same clip, frame by frame, through capture → detect → track. Detection time is the
// adapter's whole detect() (preprocessing, worker round trip, decoding, NMS), as the pipeline pays it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { loadOpenCV } from '../capture/opencv.js';
import { OpenCvSource } from '../capture/opencv-source.js';
import { GridDetector } from '../detect/grid-detector.js';
import { SsdDetector } from '../detect/ssd-detector.js';
import type { FaceDetector } from '../detect/detector.js';
import { DEFAULT_MODELS } from '../inference/default-models.js';
import { Tracker } from '../track/tracker.js';
import { StageTimer } from '../service/stats.js';

export interface DetectorFigures {
  name: string;
  /** What the network sees for this clip. */
  input: string;
  frames: number;
  detect: ReturnType<StageTimer['summary']>;
  /** Faces found over the clip, and frames with at least one. */
  faces: number;
  framesWithFaces: number;
  /** Tracks the tracker confirmed (people, if the detector is steady). */
  people: number;
  /** Capture + detect + track, every frame, one after the other. */
  fps: number;
}

async function measure(detector: FaceDetector, input: (w: number, h: number) => string, clip: string, config: Config): Promise<DetectorFigures> {
  const cv = await loadOpenCV();
  const source = new OpenCvSource(cv, clip, {
    loop: false,
    realtime: false,
    imageIntervalMs: 0,
  });
  await source.open();
  const tracker = new Tracker(config.tracker);
  const timer = new StageTimer();
  let faces = 0;
  let framesWithFaces = 0;
  let size = '';
  let wallMs = 0;
  let last = performance.now();
  for await (const frame of source.frames()) {
    if (!size) {
      size = input(frame.width, frame.height);
      await detector.detect(frame); // the first run builds onnxruntime's kernels: not a frame's cost
      last = performance.now();
    }
    const t = performance.now();
    const found = await detector.detect(frame);
    timer.add(performance.now() - t);
    faces += found.length;
    if (found.length) framesWithFaces++;
    tracker.update(found, frame.ts);
    // From the end of the previous frame: this frame's capture (decode), detection and tracking.
    wallMs += performance.now() - last;
    last = performance.now();
  }
  await source.close();
  return {
    name: detector.name,
    input: size,
    frames: timer.count,
    detect: timer.summary(),
    faces,
    framesWithFaces,
    people: tracker.confirmedTotal,
    fps: Math.round((timer.count / (wallMs / 1000)) * 10) / 10,
  };
}

export async function benchDetectors(clip: string, config: Config): Promise<DetectorFigures[]> {
  const cv = await loadOpenCV();
  const session = {
    providers: config.inference.providers,
    intraOpThreads: config.inference.threads,
    verifySha256: false,
  };
  const out: DetectorFigures[] = [];
  if (existsSync(join(DEFAULT_MODELS.yunet, 'model.json'))) {
    const yunet = await GridDetector.open(cv, DEFAULT_MODELS.yunet, config.detector, session);
    try {
      out.push(
        await measure(
          yunet,
          (w, h) => {
            const p = yunet.plan(w, h);
            return `${p.width}x${p.height}`;
          },
          clip,
          config,
        ),
      );
    } finally {
      await yunet.close();
    }
  }
  const ssd = await SsdDetector.open(cv, DEFAULT_MODELS.detector, config.detector, session);
  try {
    out.push(await measure(ssd, () => '512x512', clip, config));
  } finally {
    await ssd.close();
  }
  return out;
}

export function detectorLines(figures: DetectorFigures[]): string[] {
  return [
    '  detectors on the same clip (capture + detect + track, every frame):',
    ...figures.map(
      (d) =>
        `    ${d.name.padEnd(26)} ${d.input.padEnd(8)} detect ${d.detect.meanMs} ms (p50 ${d.detect.p50Ms}, p99 ${d.detect.p99Ms})  ` +
        `faces ${d.faces} in ${d.framesWithFaces}/${d.frames} frames  people ${d.people}  ${d.fps} frames/s`,
    ),
  ];
}
