// The tracking side's one pass (track/tracking.ts) on a real photo with real OpenCV: detections in, a
// plan out — the visit held back until confirmed, one classification at a time, none planned on a frame
// without a detection pass, the answer turned into the event, where the face is expected next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type Mat } from '../../agent/capture/opencv.js';
import type { Frame } from '../../agent/capture/frame.js';
import type { Detection } from '../../agent/detect/detector.js';
import { AudienceGate } from '../../agent/track/audience-gate.js';
import { ClassificationQueue } from '../../agent/track/classify-queue.js';
import { FacesPerSecondLimit } from '../../agent/track/faces-per-second.js';
import { Tracker } from '../../agent/track/tracker.js';
import { Tracking, type FaceJob, type TrackPlan } from '../../agent/track/tracking.js';
import { VisitBook, type Visit } from '../../agent/track/visits.js';
import { DEFAULT_REID } from '../../agent/track/reid.js';
import { createLogger, type Logger } from '../../agent/lib/logging.js';
import { GRACE_HOPPER, requireImage } from '../helpers/images.js';
import { gender, TRACKER_OPTS, VISIT_OPTS } from '../helpers/visit-harness.js';

async function setup(log: Logger = createLogger({ level: 'error', format: 'json', namespaces: {} }), staticAfterMs = 0) {
  const cv = await loadOpenCV();
  const mat = cv.imread(requireImage(GRACE_HOPPER));
  const tracker = new Tracker(TRACKER_OPTS);
  let n = 0;
  const visits = new VisitBook({ ...VISIT_OPTS, reid: DEFAULT_REID, appearance: false }, () => `p${++n}`);
  const tracking = new Tracking({
    cv,
    tracker,
    gate: new AudienceGate({ minViewerFacePx: 40, ignoreZones: [], staticAfterMs, staticTolerance: 0.1 }, TRACKER_OPTS),
    visits,
    queue: new ClassificationQueue<Visit>(4),
    budget: new FacesPerSecondLimit(() => 100),
    embedBudget: new FacesPerSecondLimit(() => 10),
    quality: { minFacePx: 40, goodFacePx: 112, minSharpness: 0, goodSharpness: 200, edgeMargin: 0.02 },
    settings: { maxBatch: 1, lookYawDeg: 25, lookPitchDeg: 20 },
    appearance: false,
    log,
  });
  return { mat, tracker, tracking };
}

const frameAt = (mat: Mat, i: number): Frame => ({ mat, width: mat.cols, height: mat.rows, index: i, ts: i * 100 });
/** Grace Hopper's face, drifting right a pixel per frame. */
const face = (i: number): Detection => ({ box: { x: 180 + i, y: 100, w: 150, h: 150 }, score: 0.9 });

test('one pass per frame: the visit is held back until it has dwelt, one classification in flight at a time, the answer becomes the event', async () => {
  const { mat, tracker, tracking } = await setup();
  const plans: TrackPlan[] = [];
  let job: FaceJob | null = null;
  const answered: string[] = [];
  for (let i = 0; i <= 6; i++) {
    const frame = frameAt(mat, i);
    assert.deepEqual(tracking.see(frame, [face(i)]), [], 'no embedder: no contested face is asked for');
    const plan = tracking.plan(frame, [], { classifying: job !== null, embedding: false });
    plans.push(plan);
    if (plan.classify) {
      assert.equal(job, null, 'a classification is planned only while none is in flight');
      job = plan.classify;
      assert.deepEqual({ x: job.faces[0]!.x, w: job.faces[0]!.w }, { x: 180 + i, w: 150 }, "the face is this frame's detection");
    }
    // The classifier answers two frames after it was asked.
    if (job && i === 2) {
      answered.push(...tracking.classified(job, [gender(0.9)], frame.ts).map((e) => e.type));
      job = null;
    }
    assert.deepEqual(
      plan.expected,
      [...tracker.tracks.values()].map((t) => t.box),
      'the next pass looks where the tracks are',
    );
  }
  assert.ok(plans[0]!.classify, 'the first frame with a usable crop asks for a classification');
  assert.equal(plans[1]!.classify, null, 'not while the first call is in flight');
  assert.deepEqual(answered, [], 'the answer came before the minimum dwell: nothing announced yet');
  const entered = plans.findIndex((p) => p.events.some((e) => e.type === 'entered'));
  assert.equal(entered, DEFAULT_REID.minDwellMs / 100, 'entered once seen for visit.minDwellMs, not before');
  assert.deepEqual(
    plans.slice(entered).map((p) => p.people.length),
    plans.slice(entered).map(() => 1),
  );

  // A frame without a detection pass plans no model call, even with both idle: a coasting box is no face.
  const coast = frameAt(mat, 7);
  tracking.see(coast, null);
  const plan = tracking.plan(coast, [], { classifying: false, embedding: false });
  assert.equal(plan.classify, null);
  assert.equal(plan.embed, null);
  assert.equal(plan.expected.length, 1, 'the track coasts: still expected');

  const end = tracking.end(800);
  assert.deepEqual(
    end.events.map((e) => e.type),
    ['left'],
  );
  assert.deepEqual(end.people, []);
});

test('debug lines at each decision: a track born and ended, a face kept from the classifier and why, and when it is usable again', async () => {
  const lines: string[] = [];
  const { mat, tracking } = await setup({ error: () => {}, warn: () => {}, info: () => {}, debug: (m) => lines.push(m) });
  // Against the left edge for five frames, then a step inside the frame (the same track: boxes overlap).
  const at = (i: number): Detection => ({ box: { x: i < 5 ? 0 : 16 + i, y: 100, w: 150, h: 150 }, score: 0.9 });
  for (let i = 0; i <= 9; i++) {
    const frame = frameAt(mat, i);
    tracking.see(frame, [at(i)]);
    tracking.plan(frame, [], { classifying: true, embedding: false });
  }
  tracking.see(frameAt(mat, 10), []);
  tracking.plan(frameAt(mat, 40), [], { classifying: true, embedding: false });
  assert.ok(
    lines.some((l) => /^track \d+ born at \(0, 100\), 150 px$/.test(l)),
    lines.join('\n'),
  );
  const skips = lines.filter((l) => l.startsWith('person '));
  assert.ok(skips.length >= 1 && /not classified while cut by the frame edge \(within classifier.edgeMargin/.test(skips[0]!), skips.join('\n'));
  assert.ok(
    skips.some((l) => /face usable again$/.test(l)),
    'the reason is lifted when the face moves inside',
  );
  assert.equal(skips.filter((l) => l.includes('frame edge')).length, 1, 'said once while it lasts, not per frame');
  assert.ok(
    lines.some((l) => /^track \d+ ended: \d+ detection\(s\), last seen \d+ ms ago$/.test(l)),
    lines.join('\n'),
  );
});

test('a face that becomes static (a poster) ends its visit at once: it never waits to resume as the next person', async () => {
  const { mat, tracking } = await setup(undefined, 2000);
  const poster: Detection = { box: { x: 180, y: 100, w: 150, h: 150 }, score: 0.9 };
  const events: string[] = [];
  for (let i = 0; i <= 25; i++) {
    const frame = frameAt(mat, i);
    tracking.see(frame, [poster]);
    const plan = tracking.plan(frame, [], { classifying: false, embedding: false });
    events.push(...plan.events.map((e) => `${i}:${e.type}:${e.person}`));
    if (plan.classify) tracking.classified(plan.classify, [gender(0.9)], frame.ts);
  }
  // Entered after the dwell; at 2 s without moving it stops counting, and its visit leaves there and then.
  assert.deepEqual(
    events.filter((e) => e.endsWith(':p1')).map((e) => e.split(':').slice(0, 2).join(':')),
    ['5:entered', '20:left'],
    events.join(' '),
  );
  // Someone appears where the poster was not: a visit of their own, never the poster's resumed.
  for (let i = 26; i <= 40; i++) {
    const frame = frameAt(mat, i);
    tracking.see(frame, [poster, { box: { x: 10, y: 10, w: 150, h: 150 }, score: 0.9 }]);
    events.push(...tracking.plan(frame, [], { classifying: true, embedding: false }).events.map((e) => `${i}:${e.type}:${e.person}`));
  }
  assert.ok(!events.some((e) => /:(entered|updated):p1$/.test(e) && Number(e.split(':')[0]) > 20), events.join(' '));
});
