// A deliberately slow classifier (the real attribute models, each call held back) must not stall the
// pipeline: detection and tracking keep going frame after frame while a call is in flight, requests wait
// in the bounded queue, and visits are still announced once classified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import { makeClip } from '../helpers/clips.js';
import { SsdDetector } from '../../agent/detect/ssd-detector.js';
import { OnnxClassifier } from '../../agent/classify/onnx-classifier.js';
import type { Classifier } from '../../agent/classify/classifier.js';
import { Tracker } from '../../agent/track/tracker.js';
import { AudienceGate } from '../../agent/track/audience-gate.js';
import { gateOptions } from '../../agent/service/components.js';
import { FacesPerSecondLimit } from '../../agent/track/faces-per-second.js';
import { VisitBook, type Visit, type VisitEvent } from '../../agent/track/visits.js';
import { ClassificationQueue } from '../../agent/track/classify-queue.js';
import { Pipeline } from '../../agent/service/pipeline.js';
import { PipelineStats } from '../../agent/service/stats.js';
import { createLogger } from '../../agent/lib/logging.js';
import { defaults } from '../../agent/config/load.js';
import { DEFAULT_MODELS } from '../helpers/models.js';

test('a classifier slower than many frames does not stall detection; the queue shows the backlog', async () => {
  const cv = await loadOpenCV();
  const clip = makeClip(cv, join(mkdtempSync(join(tmpdir(), 'percept-slow-')), 'clip.avi')).path;
  const session = { providers: ['cpu'], intraOpThreads: 1, verifySha256: false };
  const detector = await SsdDetector.open(cv, DEFAULT_MODELS.detector, { scoreThreshold: 0.5, iouThreshold: 0.5, minFacePx: 20, maxFaces: 20 }, session);
  const real = await OnnxClassifier.open(cv, [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression], 0.2, session);
  const stats = new PipelineStats();
  const calls: { framesAtStart: number; framesAtEnd: number }[] = [];
  const DELAY_MS = 1500;
  const slow: Classifier = {
    name: real.name,
    tasks: real.tasks,
    async classify(frame, boxes) {
      const call = { framesAtStart: stats.frames, framesAtEnd: -1 };
      calls.push(call);
      const result = await real.classify(frame, boxes);
      await new Promise((r) => setTimeout(r, DELAY_MS));
      call.framesAtEnd = stats.frames;
      return result;
    },
    close: () => real.close(),
  };
  const source = new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });
  await source.open();
  const queue = new ClassificationQueue<Visit>(1);
  const events: VisitEvent[] = [];
  const cfg = defaults();
  const pipeline = new Pipeline({
    embedder: null,
    embedBudget: new FacesPerSecondLimit(() => 10),
    cv,
    source,
    detector,
    classifier: slow,
    stats,
    queue,
    settings: { maxBatch: 1, detectIntervalMs: 0, lookYawDeg: 25, lookPitchDeg: 20 },
    everyFrame: true,
    budget: new FacesPerSecondLimit(() => 100),
    quality: { minFacePx: 40, goodFacePx: 112, minSharpness: 0, goodSharpness: 200, edgeMargin: 0.02 },
    tracker: new Tracker(cfg.tracker),
    gate: new AudienceGate(gateOptions(cfg), cfg.tracker),
    visits: new VisitBook({ ...cfg.classifier, reclassifyMs: 500, minGapMs: 500, maxSamples: 10, hysteresis: cfg.fusion }, () => `p${events.length}`),
    log: createLogger({ ...cfg.log, level: 'error' }),
    emit: (ev) => events.push(ev),
  });
  await pipeline.run();
  await Promise.all([detector.close(), slow.close(), source.close()]);

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
