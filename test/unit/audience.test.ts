// Audience measurement, pure parts: attention per visit, the viewer gate (far faces, ignore zones,
// static faces), the nearest person's direction and distance, and the impression record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttentionMeter, PoseSmoother } from '../../agent/track/attention.js';
import { AudienceGate } from '../../agent/track/audience-gate.js';
import { direction, distanceM, insidePolygon } from '../../agent/lib/camera-geometry.js';
import { nearestRecord } from '../../agent/features/nearest.js';
import { impressionRecord } from '../../agent/features/impressions.js';
import type { Detection } from '../../agent/detect/detector.js';

const TRACKER = { iouThreshold: 0.2, minHits: 2, maxUnseenMs: 1000, tentativeUnseenMs: 300 };
const FRAME = { width: 1280, height: 720 };
const face = (x: number, y: number, size: number, score = 0.9): Detection => ({ box: { x, y, w: size, h: size * 1.2 }, score });

test('pose smoothing: the median of the last half second, so one jittery frame does not flip "looking"', () => {
  const p = new PoseSmoother(500);
  p.push(0, { yaw: 5, pitch: 0 });
  p.push(100, { yaw: 6, pitch: 1 });
  assert.equal(p.push(200, { yaw: 40, pitch: 0 }).yaw, 6, 'one outlier among three');
  p.push(300, { yaw: 41, pitch: 0 });
  assert.ok(p.push(400, { yaw: 42, pitch: 0 }).yaw >= 40, 'a sustained turn wins');
  assert.equal(p.push(1000, { yaw: -3, pitch: 2 }).yaw, -3, 'older samples leave the window');
});

test('attention: looking time, glances of at least 0.5 s, first look', () => {
  const m = new AttentionMeter(1000, { minGlanceMs: 500, maxGapMs: 1000 });
  // 1.0–2.0 s away, 2.0–3.0 s looking (a glance), 3.0–3.2 away, 3.2–3.5 looking (too short), 3.5– away.
  const seq: [number, boolean][] = [];
  for (let t = 1000; t < 2000; t += 100) seq.push([t, false]);
  for (let t = 2000; t <= 3000; t += 100) seq.push([t, true]);
  seq.push([3100, false], [3200, true], [3300, true], [3400, true], [3500, false], [3600, false]);
  for (const [t, l] of seq) m.observe(t, l);
  const s = m.summary();
  assert.equal(s.attentionMs, 1000 + 200);
  assert.equal(s.glances, 1);
  assert.equal(s.firstLookAfterMs, 1000);
});

test('attention: a gap longer than maxGapMs is not counted as looking; never looking → null first look', () => {
  const m = new AttentionMeter(0, { minGlanceMs: 500, maxGapMs: 300 });
  m.observe(0, true);
  m.observe(2000, true); // not seen for 2 s: not 2 s of attention
  m.observe(2200, true);
  assert.equal(m.summary().attentionMs, 200);
  const never = new AttentionMeter(0, { minGlanceMs: 500, maxGapMs: 300 });
  never.observe(0, false);
  never.observe(100, false);
  assert.deepEqual(never.summary(), { attentionMs: 0, glances: 0, firstLookAfterMs: null });
});

test('gate: a small far face is an opportunity to see, counted once, and opens no visit', () => {
  const gate = new AudienceGate({ minViewerFacePx: 40, ignoreZones: [], staticAfterMs: 0, staticTolerance: 0.1 }, TRACKER);
  for (let i = 0; i < 10; i++) {
    const { viewers } = gate.filter([face(100 + i * 5, 100, 24), face(600, 300, 160)], FRAME, i * 100);
    assert.equal(viewers.length, 1, 'only the near face goes on to tracking');
    assert.equal(viewers[0]!.box.w, 160);
  }
  assert.equal(gate.farFaces, 1, 'the far passer-by counted once');
});

test('gate: faces centred in an ignore zone are dropped', () => {
  const gate = new AudienceGate(
    {
      minViewerFacePx: 0,
      ignoreZones: [
        [
          [0, 0],
          [0.3, 0],
          [0.3, 1],
          [0, 1],
        ],
      ],
      staticAfterMs: 0,
      staticTolerance: 0.1,
    },
    TRACKER,
  );
  const { viewers } = gate.filter([face(50, 100, 100), face(800, 100, 100)], FRAME, 0);
  assert.deepEqual(
    viewers.map((v) => v.box.x),
    [800],
  );
  assert.equal(gate.ignored, 1);
  assert.equal(
    insidePolygon({ x: 0.5, y: 0.5 }, [
      [0, 0],
      [1, 0],
      [0.5, 1],
    ]),
    true,
  );
  assert.equal(
    insidePolygon({ x: 0.05, y: 0.9 }, [
      [0, 0],
      [1, 0],
      [0.5, 1],
    ]),
    false,
  );
});

test('gate: a face that never moves stops counting after staticAfterMs; one that moves keeps counting', () => {
  const gate = new AudienceGate({ minViewerFacePx: 0, ignoreZones: [], staticAfterMs: 5000, staticTolerance: 0.1 }, TRACKER);
  let becameStatic = 0;
  for (let t = 0; t <= 8000; t += 200) {
    const jitter = (t / 200) % 2; // a detector's 1-px jitter on a poster
    const walker = face(200 + t / 20, 300, 120); // walks 10 px per 200 ms
    const r = gate.filter([face(900 + jitter, 100, 150), walker], FRAME, t);
    becameStatic += r.becameStatic.length;
    const posterIn = r.viewers.some((v) => v.box.x >= 900);
    assert.equal(posterIn, t < 5000, `poster counted at ${t} ms`);
    assert.ok(
      r.viewers.some((v) => v.box.x < 900),
      `the walker counts at ${t} ms`,
    );
  }
  assert.equal(becameStatic, 1);
  assert.equal(gate.staticFaces, 1);
});

test('nearest: direction of a face left, centre and right of the frame; distance from its width', () => {
  const cam = { hfovDeg: 90, vfovDeg: 60, faceWidthM: 0.15 };
  const person = (x: number, w = 100) => ({ person: 'p', firstSeen: 0, box: { x: x - w / 2, y: 360 - w / 2, w, h: w }, labels: { gender: 'female' } });
  const at = (x: number) => nearestRecord({ ts: 0, width: 1280, height: 720, people: [person(x)], farFaces: 0 }, cam, 'd', new Date(0));
  assert.ok(at(200).azimuthDeg! < -30, 'left of the axis is negative');
  assert.equal(at(640).azimuthDeg, 0);
  assert.ok(at(1080).azimuthDeg! > 30, 'right is positive');
  assert.equal(at(1280 - 200).azimuthDeg, -at(200).azimuthDeg!);
  // At the frame edge of a 90° lens the direction is 45°.
  assert.ok(Math.abs(direction({ x: 1280, y: 360 }, FRAME, cam).azimuthDeg - 45) < 1e-9);
  assert.ok(Math.abs(direction({ x: 640, y: 0 }, FRAME, cam).elevationDeg - 30) < 1e-9);
  // f = 640 px: a 0.15 m face 96 px wide is 1 m away, twice as far when half as wide.
  assert.ok(Math.abs(distanceM(96, FRAME, cam) - 1) < 1e-9);
  assert.ok(Math.abs(distanceM(48, FRAME, cam) - 2) < 1e-9);
  // The nearest is the largest face; nobody → an empty record.
  const two = nearestRecord(
    { ts: 0, width: 1280, height: 720, people: [person(200, 60), { ...person(1000, 200), person: 'q' }], farFaces: 0 },
    cam,
    'd',
    new Date(0),
  );
  assert.equal(two.person, 'q');
  assert.equal(two.gender, 'female');
  assert.deepEqual(nearestRecord({ ts: 0, width: 1280, height: 720, people: [], farFaces: 0 }, cam, 'd', new Date(0)), {
    schema: 1,
    ts: new Date(0).toISOString(),
    device: 'd',
    person: null,
  });
});

test('impression record: viewers, watchers (looked ≥ 1 s), attention, OTS and demographics', () => {
  const play = {
    id: 'ad-1',
    name: 'Spring sale',
    startedAt: new Date(0),
    farAtStart: 3,
    viewers: new Map([
      ['a', { labels: { gender: 'female', age: '20-29', emotion: 'happy' }, lookingMs: 2500, lastTs: 0, lastLooking: false }],
      ['b', { labels: { gender: 'male', age: '30-39' }, lookingMs: 400, lastTs: 0, lastLooking: false }],
    ]),
  };
  const r = impressionRecord(play, new Date(10_000), 5, 'kiosk', 1000);
  assert.equal(r.viewers, 2);
  assert.equal(r.watchers, 1);
  assert.equal(r.attentionMs, 2900);
  assert.equal(r.ots, 2 + 2, 'two far passers-by during the play plus the two viewers');
  assert.equal(r.durationMs, 10_000);
  assert.equal(r.demographics.gender.female, 1);
  assert.equal(r.demographics.gender.male, 1);
  assert.equal(r.demographics.age['20-29'], 1);
  assert.equal(r.demographics.emotion?.happy, 1);
  assert.equal(r.demographics.emotion?.neutral, 0);
});

test('crop quality: frontal faces first, a profile is not classified, no pose leaves quality as it was', async () => {
  const { faceQuality, frontality } = await import('../../agent/track/quality.js');
  const o = { minFacePx: 40, goodFacePx: 112, minSharpness: 0, goodSharpness: 100, edgeMargin: 0.02 };
  const box = { x: 500, y: 200, w: 120, h: 140 };
  const q = (pose: { yaw: number; pitch: number } | null) => faceQuality(box, 0.9, 100, FRAME, o, pose);
  assert.equal(q(null), q({ yaw: 0, pitch: 0 }), 'frontal = no penalty');
  assert.ok(q({ yaw: 30, pitch: 0 }) < q({ yaw: 10, pitch: 0 }), 'more turned, lower quality');
  assert.ok(q({ yaw: 0, pitch: -35 }) < q({ yaw: 0, pitch: 5 }));
  assert.equal(q({ yaw: 70, pitch: 0 }), 0, 'a profile waits for a better view');
  assert.equal(frontality({ yaw: 60, pitch: 0 }), 0.5000000000000001);
});

test('gate: a static face hidden for a while by someone passing in front stays static', () => {
  const gate = new AudienceGate({ minViewerFacePx: 0, ignoreZones: [], staticAfterMs: 3000, staticTolerance: 0.1 }, TRACKER);
  const poster = face(900, 100, 150);
  for (let t = 0; t <= 4000; t += 200) gate.filter([poster], FRAME, t);
  for (let t = 4200; t <= 9000; t += 200) gate.filter([], FRAME, t); // hidden 5 s
  assert.deepEqual(gate.filter([poster], FRAME, 9200).viewers, [], 'not counted again when it reappears');
  assert.equal(gate.staticFaces, 1);
});
