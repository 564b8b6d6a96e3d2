// The whole visit logic on a real clip made at test time: one entered and one left per person, no
// "updated" from a noisy frame, and published labels that match the majority of per-frame predictions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { OpenCvSource } from '../../agent/capture/opencv-source.js';
import { requireFullPixels } from '../../agent/capture/frame.js';
import { makeClip } from '../helpers/clips.js';
import { SsdDetector } from '../../agent/detect/ssd-detector.js';
import { OnnxClassifier } from '../../agent/classify/onnx-classifier.js';
import { Tracker } from '../../agent/track/tracker.js';
import { AudienceGate } from '../../agent/track/audience-gate.js';
import { gateOptions } from '../../agent/service/components.js';
import { VisitBook, type Visit, type VisitEvent } from '../../agent/track/visits.js';
import { ClassificationQueue } from '../../agent/track/classify-queue.js';
import { FacesPerSecondLimit } from '../../agent/track/faces-per-second.js';
import { faceQuality, sharpness, type QualityOptions } from '../../agent/track/quality.js';
import { detectSettings } from '../../agent/service/detect-step.js';
import { Pipeline } from '../../agent/service/pipeline.js';
import { PipelineStats } from '../../agent/service/stats.js';
import { createLogger } from '../../agent/lib/logging.js';
import { defaults } from '../../agent/config/load.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';

const majority = (labels: string[]) => {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
};

test('real clip: one story per visit, labels = majority of per-frame predictions', async () => {
  const cv = await loadOpenCV();
  const cfg = defaults();
  const clip = makeClip(cv, join(tempDir('percept-visits-'), 'clip.avi')).path;
  const session = { providers: ['cpu'], intraOpThreads: 2, verifySha256: false };
  const c = cfg.classifier;
  const detector = await SsdDetector.open(cv, DEFAULT_MODELS.detector, { ...cfg.detector }, session);
  const classifier = await OnnxClassifier.open(cv, [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression], c.cropMargin, session);
  const quality: QualityOptions = {
    minFacePx: c.minFacePx,
    goodFacePx: 112,
    minSharpness: c.minSharpness,
    goodSharpness: 10 * c.minSharpness,
    edgeMargin: c.edgeMargin,
  };

  // Per-frame predictions on every classifiable face, split by side of the frame (Grace left, Messi right).
  const perFrame: Record<'left' | 'right', { gender: string[]; age: string[] }> = { left: { gender: [], age: [] }, right: { gender: [], age: [] } };
  const src = new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });
  await src.open();
  for await (const frame of src.frames()) {
    const full = await requireFullPixels(frame);
    const dets = (await detector.detect(frame)).filter((d) => faceQuality(d.box, d.score, sharpness(cv, full, d.box), frame, quality) > 0);
    const { faces } = await classifier.classify(
      frame,
      dets.map((d) => d.box),
    );
    dets.forEach((d, i) => {
      const side = d.box.x + d.box.w / 2 < frame.width / 2 ? 'left' : 'right';
      perFrame[side].gender.push(faces[i]!.gender!.label);
      perFrame[side].age.push(faces[i]!.age!.label);
    });
  }
  await src.close();

  const source = new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });
  await source.open();
  const events: VisitEvent[] = [];
  const stats = new PipelineStats();
  let n = 0;
  const pipeline = new Pipeline({
    embedder: null,
    embedBudget: new FacesPerSecondLimit(() => 10),
    cv,
    source,
    detector,
    classifier,
    stats,
    quality,
    everyFrame: true,
    detectPlan: detectSettings(cfg),
    settings: { maxBatch: c.maxBatch, lookYawDeg: 25, lookPitchDeg: 20 },
    queue: new ClassificationQueue<Visit>(c.queueSize),
    budget: new FacesPerSecondLimit(() => c.maxFacesPerSecond),
    tracker: new Tracker(cfg.tracker),
    gate: new AudienceGate(gateOptions(cfg), cfg.tracker),
    visits: new VisitBook({ ...c, hysteresis: cfg.fusion }, () => `p${++n}`),
    log: createLogger({ ...cfg.log, level: 'error' }),
    emit: (ev) => events.push(ev),
  });
  await pipeline.run();
  await Promise.all([detector.close(), classifier.close(), source.close()]);

  const byPerson = new Map<string, VisitEvent[]>();
  for (const e of events) byPerson.set(e.person, [...(byPerson.get(e.person) ?? []), e]);
  assert.equal(byPerson.size, 2, events.map((e) => `${e.type}:${e.person}`).join(' '));
  for (const evs of byPerson.values()) {
    assert.deepEqual(
      evs.map((e) => e.type),
      ['entered', 'left'],
      'one entered, one left, no updated',
    );
    const left = evs[1]!;
    const side = left.box.x + left.box.w / 2 < 640 ? 'left' : 'right';
    assert.equal(left.attributes.gender!.label, majority(perFrame[side].gender), `${side} person gender vs per-frame majority`);
    assert.equal(left.attributes.age!.label, majority(perFrame[side].age), `${side} person age vs per-frame majority`);
    assert.ok(left.samples >= 1 && left.samples <= c.maxSamples);
  }
  assert.ok(perFrame.left.gender.length > 20 && perFrame.right.gender.length > 20, 'both people were classifiable on many frames');
  assert.ok(stats.classifiedFaces < perFrame.left.gender.length + perFrame.right.gender.length, 'scheduling classified far fewer faces than frames');
});
