// The preview's label placement: a label near any edge of the frame is moved inside it, never cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeLabel, polygonLabelAnchor, polygonPixels } from '../../agent/features/preview-layout.js';

const inside = (r: { x: number; y: number; w: number; h: number }, width: number, height: number) =>
  r.x >= 0 && r.y >= 0 && r.x + r.w <= width && r.y + r.h <= height;

test('a label in the middle sits right above its anchor, unmoved', () => {
  assert.deepEqual(placeLabel(100, 200, 80, 20, 640, 360), { x: 100, y: 180, w: 80, h: 20 });
  assert.deepEqual(placeLabel(100, 200, 80, 20, 640, 360, true), { x: 100, y: 200, w: 80, h: 20 });
});

test('a box at the top right corner keeps its label inside the frame', () => {
  // A face box at x 600..640, y 0..40: the label wants to be above it and 150 px wide.
  const r = placeLabel(600, -2, 150, 20, 640, 360);
  assert.ok(inside(r, 640, 360), JSON.stringify(r));
  assert.deepEqual(r, { x: 490, y: 0, w: 150, h: 20 });
});

test('labels near the left, bottom and right edges are moved in; one larger than the frame starts at 0', () => {
  for (const [x, y, below] of [
    [-30, 100, false],
    [50, 355, true],
    [639, 359, false],
    [639, 0, true],
  ] as const) {
    const r = placeLabel(x, y, 120, 22, 640, 360, below);
    assert.ok(inside(r, 640, 360), `${x},${y}: ${JSON.stringify(r)}`);
  }
  assert.deepEqual(placeLabel(10, 10, 800, 22, 640, 360), { x: 0, y: 0, w: 800, h: 22 });
});

test('zone polygons map from fractions to pixels; the label goes at the top-most vertex', () => {
  const px = polygonPixels(
    [
      [0, 0.5],
      [1, 0.25],
      [0.5, 1],
    ],
    641,
    361,
  );
  assert.deepEqual(px, [
    [0, 180],
    [640, 90],
    [320, 360],
  ]);
  assert.deepEqual(polygonLabelAnchor(px), [640, 90]);
});
