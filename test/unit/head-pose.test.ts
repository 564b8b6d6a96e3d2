// Head pose on known geometries: the template (frontal), and a generic 3-D face rotated to known angles
// and projected with a pinhole camera (perspective, so the closed form's weak-perspective assumption is
// tested too), plus a face whose proportions differ from the generic one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GENERIC_FACE_MM, headPose, isLooking } from '../../agent/lib/head-pose.js';
import { TEMPLATE_112, type FiveLandmarks, type Point } from '../../agent/lib/align.js';

type P3 = [number, number, number];
const RAD = Math.PI / 180;

function face(noseZ: number = GENERIC_FACE_MM.noseZ): P3[] {
  const g = GENERIC_FACE_MM;
  return [
    [-g.eyeHalf, 0, 0],
    [g.eyeHalf, 0, 0],
    [0, g.noseY, noseZ],
    [-g.mouthHalf, g.mouthY, g.mouthZ],
    [g.mouthHalf, g.mouthY, g.mouthZ],
  ];
}

/** Pitch (chin up +) about the ear axis, then yaw (toward image right +), then roll; pinhole projection. */
function project(points: P3[], yawDeg: number, pitchDeg: number, rollDeg = 0, distanceMm = 1500, focalPx = 900): FiveLandmarks {
  const [y, p, r] = [yawDeg * RAD, pitchDeg * RAD, rollDeg * RAD];
  return points.map(([x0, y0, z0]) => {
    const y1 = y0 * Math.cos(p) - z0 * Math.sin(p);
    const z1 = y0 * Math.sin(p) + z0 * Math.cos(p);
    const x2 = x0 * Math.cos(y) + z1 * Math.sin(y);
    const z2 = -x0 * Math.sin(y) + z1 * Math.cos(y);
    const x3 = x2 * Math.cos(r) - y1 * Math.sin(r);
    const y3 = x2 * Math.sin(r) + y1 * Math.cos(r);
    const depth = distanceMm - z2;
    return [320 + (focalPx * x3) / depth, 240 + (focalPx * y3) / depth] as Point;
  }) as unknown as FiveLandmarks;
}

test('the alignment template is frontal', () => {
  const pose = headPose(TEMPLATE_112);
  assert.ok(Math.abs(pose.yaw) < 2 && Math.abs(pose.pitch) < 3 && Math.abs(pose.roll) < 1, JSON.stringify(pose));
  assert.ok(isLooking(pose));
});

test('synthetic rotations of the generic face: yaw and pitch within 2.5°, roll removed', () => {
  let worst = 0;
  for (const yaw of [-50, -30, -15, 0, 10, 25, 45]) {
    for (const pitch of [-30, -15, 0, 10, 20, 30]) {
      for (const roll of [0, -20, 15]) {
        const pose = headPose(project(face(), yaw, pitch, roll));
        worst = Math.max(worst, Math.abs(pose.yaw - yaw), Math.abs(pose.pitch - pitch));
        assert.ok(Math.abs(pose.yaw - yaw) <= 2.5, `yaw ${yaw}/${pitch}/${roll}: got ${pose.yaw.toFixed(2)}`);
        assert.ok(Math.abs(pose.pitch - pitch) <= 2.5, `pitch ${yaw}/${pitch}/${roll}: got ${pose.pitch.toFixed(2)}`);
        assert.ok(Math.abs(pose.roll - roll) <= 2.5, `roll ${yaw}/${pitch}/${roll}: got ${pose.roll.toFixed(2)}`);
      }
    }
  }
  console.log(`# worst yaw/pitch error on the generic face (perspective, 1.5 m): ${worst.toFixed(2)}°`);
});

test('close to the camera (0.7 m) perspective adds a few degrees, no more', () => {
  // The nose is nearer the lens than the eyes and mouth, so it is magnified: a weak-perspective method
  // reads a frontal face at 0.7 m as ~3° chin-down. Bounded here so a regression shows.
  for (const yaw of [-30, 0, 30])
    for (const pitch of [-15, 0, 15]) {
      const pose = headPose(project(face(), yaw, pitch, 0, 700));
      assert.ok(Math.abs(pose.yaw - yaw) <= 5 && Math.abs(pose.pitch - pitch) <= 5, JSON.stringify({ yaw, pitch, pose }));
    }
});

test('a face with a 20% shallower nose: the signs hold, errors stay moderate, looking is decided right', () => {
  const flat = face(GENERIC_FACE_MM.noseZ * 0.8);
  for (const [yaw, pitch] of [
    [-40, 0],
    [40, 0],
    [0, -25],
    [0, 25],
    [30, 15],
  ] as const) {
    const pose = headPose(project(flat, yaw, pitch));
    if (yaw) assert.equal(Math.sign(pose.yaw), Math.sign(yaw), `yaw sign at ${yaw}: ${pose.yaw}`);
    if (pitch) assert.equal(Math.sign(pose.pitch), Math.sign(pitch), `pitch sign at ${pitch}: ${pose.pitch}`);
    assert.ok(Math.abs(pose.yaw - yaw) <= 12 && Math.abs(pose.pitch - pitch) <= 12, JSON.stringify({ yaw, pitch, pose }));
  }
  assert.ok(isLooking(headPose(project(flat, 10, 5))));
  assert.ok(!isLooking(headPose(project(flat, 45, 0))));
  assert.ok(!isLooking(headPose(project(flat, 0, -35))));
});

test('impossible landmarks are refused clearly', () => {
  const p: Point = [10, 10];
  assert.throws(() => headPose([p, p, [10, 20], [5, 30], [15, 30]]), /eye landmarks coincide/);
  assert.throws(
    () =>
      headPose([
        [0, 10],
        [20, 10],
        [10, 5],
        [5, 0],
        [15, 0],
      ]),
    /mouth is not below/,
  );
});
