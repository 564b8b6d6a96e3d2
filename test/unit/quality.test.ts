// Why a face is kept from the classifier, in words naming the setting: the reason given matches faceQuality's 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faceQuality, notClassifiableBecause } from '../../agent/track/quality.js';

test('notClassifiableBecause names the setting that keeps a face from the classifier, in faceQuality order', () => {
  const o = { minFacePx: 40, goodFacePx: 112, minSharpness: 20, goodSharpness: 200, edgeMargin: 0.02 };
  const frame = { width: 640, height: 360 };
  assert.equal(notClassifiableBecause({ x: 100, y: 100, w: 30, h: 32 }, 100, frame, o), 'face 32 px < classifier.minFacePx 40');
  assert.equal(notClassifiableBecause({ x: 100, y: 100, w: 60, h: 60 }, 5, frame, o), 'blurred (sharpness 5 < classifier.minSharpness 20)');
  assert.match(notClassifiableBecause({ x: 0, y: 100, w: 60, h: 60 }, 100, frame, o)!, /classifier\.edgeMargin/);
  assert.match(notClassifiableBecause({ x: 100, y: 100, w: 60, h: 60 }, 100, frame, o, { yaw: 75, pitch: 0 })!, /turned away/);
  assert.equal(notClassifiableBecause({ x: 100, y: 100, w: 60, h: 60 }, 100, frame, o), null);
  // Agrees with faceQuality: 0 exactly when a reason is given.
  for (const [box, sharp, pose] of [
    [{ x: 100, y: 100, w: 30, h: 32 }, 100, null],
    [{ x: 100, y: 100, w: 60, h: 60 }, 100, { yaw: 75, pitch: 0 }],
    [{ x: 100, y: 100, w: 60, h: 60 }, 100, null],
  ] as const)
    assert.equal(faceQuality(box, 0.9, sharp, frame, o, pose) === 0, notClassifiableBecause(box, sharp, frame, o, pose) !== null);
});
