// A deliberately slow classifier (the real attribute models, each call held back) must not stall the
// pipeline: detection and tracking keep going frame after frame while a call is in flight, requests wait
// in the bounded queue, and visits are still announced once classified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import { makeClip } from '../helpers/clips.js';
import { SsdDetector } from '../../agent/detect/ssd-detector.js';
import type { FaceDetector } from '../../agent/detect/detector.js';
import { OnnxClassifier } from '../../agent/classify/onnx-classifier.js';
import type { Classifier } from '../../agent/classify/classifier.js';
import { Tracker } from '../../agent/track/tracker.js';
import { AudienceGate } from '../../agent/track/audience-gate.js';
import { gateOptions } from '../../agent/service/components.js';
import { FacesPerSecondLimit } from '../../agent/track/faces-per-second.js';
import { VisitBook, type Visit, type VisitEvent } from '../../agent/track/visits.js';
import { ClassificationQueue } from '../../agent/track/classify-queue.js';
import { detectSettings } from '../../agent/service/detect-step.js';
import { Pipeline } from '../../agent/service/pipeline.js';
import { PipelineStats } from '../../agent/service/stats.js';
import { createLogger } from '../../agent/lib/logging.js';
import { defaults } from '../../agent/config/load.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';
import { sleep } from '../helpers/wait.js';

test('a classifier slower than many frames does not stall detection; the queue shows the backlog', async () => {
  const calls: { framesAtStart: number; framesAtEnd: number }[] = [];
  const DELAY_MS = 1500;
  const { pipeline, stats, queue, events, close } = await clipPipeline({
    queueCapacity: 1,
    classifier: (real, stats) => ({
      name: real.name,
      tasks: real.tasks,
      async classify(frame, boxes) {
        const call = { framesAtStart: stats.frames, framesAtEnd: -1 };
        calls.push(call);
        const result = await real.classify(frame, boxes);
        await sleep(DELAY_MS); // the slow classifier itself, not a wait for an event
        call.framesAtEnd = stats.frames;
        return result;
      },
      close: () => real.close(),
    }),
  });
  await pipeline.run();
  await close();

  assert.equal(stats.frames, 140, 'every frame was detected');
  const finished = calls.filter((c) => c.framesAtEnd >= 0);
  assert.ok(finished.length >= 2, `classifier calls: ${calls.length}`);
  for (const c of finished)
    assert.ok(c.framesAtEnd - c.framesAtStart >= 5, `only ${c.framesAtEnd - c.framesAtStart} frames detected during a ${DELAY_MS} ms call`);
  assert.ok(stats.classifierCalls < stats.frames / 5, 'far fewer classifier calls than frames');
  assert.ok(queue.maxDepth >= 1, 'requests waited in the queue while the classifier was busy');
  // (With ten samples per visit a label may legitimately change once: "updated" is allowed here.)
  assert.deepEqual(
    events
      .map((e) => e.type)
      .filter((t) => t !== 'updated')
      .sort(),
    ['entered', 'entered', 'left', 'left'],
    'both visits still announced and ended',
  );
});

/** A pipeline on a clip of the two demo walkers, every frame, with the given detector and classifier wrappers. */
async function clipPipeline(wrap: {
  detector?: (d: SsdDetector) => FaceDetector;
  classifier?: (c: Classifier, stats: PipelineStats) => Classifier;
  queueCapacity?: number;
}) {
  const cv = await loadOpenCV();
  const clip = makeClip(cv, join(tempDir('percept-stall-'), 'clip.avi')).path;
  const session = { providers: ['cpu'], intraOpThreads: 1, verifySha256: false };
  const realDetector = await SsdDetector.open(cv, DEFAULT_MODELS.detector, { scoreThreshold: 0.5, iouThreshold: 0.5, minFacePx: 20, maxFaces: 20 }, session);
  const realClassifier = await OnnxClassifier.open(cv, [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression], 0.2, session);
  const stats = new PipelineStats();
  const source = new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });
  await source.open();
  const events: VisitEvent[] = [];
  const cfg = defaults();
  const errors: string[] = [];
  const queue = new ClassificationQueue<Visit>(wrap.queueCapacity ?? 4);
  const log = createLogger({ ...cfg.log, level: 'error' });
  log.on('data', (i: { message: string }) => errors.push(i.message));
  const pipeline = new Pipeline({
    embedder: null,
    embedBudget: new FacesPerSecondLimit(() => 10),
    cv,
    source,
    detector: wrap.detector ? wrap.detector(realDetector) : realDetector,
    classifier: wrap.classifier ? wrap.classifier(realClassifier, stats) : realClassifier,
    stats,
    queue,
    settings: { maxBatch: 1, lookYawDeg: 25, lookPitchDeg: 20 },
    everyFrame: true,
    detectPlan: detectSettings(cfg),
    budget: new FacesPerSecondLimit(() => 100),
    quality: { minFacePx: 40, goodFacePx: 112, minSharpness: 0, goodSharpness: 200, edgeMargin: 0.02 },
    tracker: new Tracker(cfg.tracker),
    gate: new AudienceGate(gateOptions(cfg), cfg.tracker),
    visits: new VisitBook({ ...cfg.classifier, reclassifyMs: 500, minGapMs: 500, maxSamples: 10, hysteresis: cfg.fusion }, () => `p${events.length}`),
    log,
    emit: (ev) => events.push(ev),
  });
  const close = () => Promise.all([realDetector.close(), realClassifier.close(), source.close()]);
  return { pipeline, stats, queue, events, errors, close };
}

test('a classification in flight is measured for the watchdog while frames go on: its age grows, and is 0 once it returns', async () => {
  const ages: { frames: number; ageMs: number }[] = [];
  let release: (() => void) | null = null;
  const built = await clipPipeline({
    // The second call is held until the clip has gone 40 frames further: a stalled classification.
    classifier: (real, stats) => ({
      name: real.name,
      tasks: real.tasks,
      classify: async (frame, boxes) => {
        const result = await real.classify(frame, boxes);
        if (stats.classifierCalls === 1) {
          const until = stats.frames + 40;
          await new Promise<void>((r) => {
            release = r;
            const poll = setInterval(() => {
              if (stats.frames >= until) {
                clearInterval(poll);
                r();
              }
            }, 5);
          });
        }
        return result;
      },
      close: () => real.close(),
    }),
  });
  const sample = setInterval(() => ages.push({ frames: built.stats.frames, ageMs: built.pipeline.oldestCallMs() }), 20);
  await built.pipeline.run();
  clearInterval(sample);
  (release as (() => void) | null)?.();
  await built.close();
  const held = ages.filter((a) => a.ageMs > 0);
  const longest = Math.max(...held.map((a) => a.ageMs));
  const during = held.filter((a) => a.ageMs >= longest / 2);
  assert.ok(during.length >= 2, `samples while the call was held: ${during.length}`);
  assert.ok(during[during.length - 1]!.frames > during[0]!.frames, 'frames kept flowing while the call was stalled');
  assert.equal(built.pipeline.oldestCallMs(), 0, 'nothing in flight after the run');
});

for (const every of [3, 7]) {
  test(`a detector failing on 1 frame in ${every}: the run goes on, failures are counted, every visit still ends`, async () => {
    let n = 0;
    const built = await clipPipeline({
      detector: (real) => ({
        name: real.name,
        detect: async (frame) => {
          if (++n % every === 0) throw new Error('face-api-ssd: inference timed out after 30000 ms');
          return real.detect(frame);
        },
        close: () => real.close(),
      }),
    });
    await built.pipeline.run();
    await built.close();
    assert.equal(built.stats.detectFailures, Math.floor(140 / every));
    assert.equal(built.stats.frames, 140, 'every frame was processed');
    assert.ok(
      built.errors.some((e) => /detection failed \(1 so far\): face-api-ssd: inference timed out/.test(e)),
      built.errors.join('\n'),
    );
    const entered = built.events.filter((e) => e.type === 'entered').length;
    assert.ok(entered >= 2, `entered: ${entered}`);
    assert.equal(built.events.filter((e) => e.type === 'left').length, entered, 'every visit ends');
  });
}
