// The similarity fit on known points: exact transforms are recovered, noise is averaged in the
// least-squares sense, and the template scales with the crop size and margin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affineRows, applySimilarity, estimateSimilarity, TEMPLATE_112, templateFor, type Point } from '../../agent/lib/align.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('a known rotation + scale + shift is recovered exactly', () => {
  const angle = (20 * Math.PI) / 180;
  const scale = 2.5;
  const truth = {
    a: scale * Math.cos(angle),
    b: scale * Math.sin(angle),
    tx: 40,
    ty: -7,
  };
  const dst = TEMPLATE_112.map((p) => applySimilarity(truth, p));
  const t = estimateSimilarity(TEMPLATE_112, dst);
  close(t.a, truth.a, 1e-9, 'a');
  close(t.b, truth.b, 1e-9, 'b');
  close(t.tx, truth.tx, 1e-9, 'tx');
  close(t.ty, truth.ty, 1e-9, 'ty');
  // The inverse direction (frame landmarks → template) maps every landmark onto its template point.
  const back = estimateSimilarity(dst, TEMPLATE_112);
  dst.forEach((p, i) => {
    const q = applySimilarity(back, p);
    close(q[0], TEMPLATE_112[i]![0], 1e-9, `x${i}`);
    close(q[1], TEMPLATE_112[i]![1], 1e-9, `y${i}`);
  });
});

test("two points give the unique similarity; a square's corners rotate by 90°", () => {
  const t = estimateSimilarity(
    [
      [0, 0],
      [1, 0],
    ],
    [
      [10, 10],
      [10, 12],
    ],
  );
  close(t.a, 0, 1e-12, 'a');
  close(t.b, 2, 1e-12, 'b');
  assert.deepEqual(
    applySimilarity(t, [0, 1]).map((v) => +v.toFixed(9)),
    [8, 10],
  );
});

test('least squares: symmetric noise on the points does not move the fit', () => {
  // Points of a square, destinations displaced ±1 px in a pattern whose effect cancels.
  const src: Point[] = [
    [0, 0],
    [10, 0],
    [10, 10],
    [0, 10],
  ];
  const dst: Point[] = [
    [1, 0],
    [9, 0],
    [9, 10],
    [1, 10],
  ].map(([x, y]) => [x! + 5, y! + 5] as Point);
  const t = estimateSimilarity(src, dst);
  close(t.b, 0, 1e-12, 'no rotation');
  close(t.a, 0.9, 1e-12, 'scale is the least-squares compromise');
  close(t.tx, 5 + 0.5, 1e-12, 'tx');
});

test('degenerate or mismatched input is refused with a clear message', () => {
  assert.throws(
    () =>
      estimateSimilarity(
        [
          [1, 1],
          [1, 1],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ),
    /coincide/,
  );
  assert.throws(() => estimateSimilarity([[1, 1]], [[0, 0]]), /≥ 2 matching points/);
  assert.throws(() => templateFor(112, 0.6), /margin/);
});

test("template scaled to other crop sizes and margins; subject's right eye on the image left", () => {
  assert.ok(TEMPLATE_112[0][0] < TEMPLATE_112[1][0] && TEMPLATE_112[3][0] < TEMPLATE_112[4][0]);
  const t150 = templateFor(150);
  close(t150[2][0], (56.0252 * 150) / 112, 1e-9, 'nose x at 150');
  const padded = templateFor(100, 0.1);
  close(padded[0][0], (38.2946 * 0.8 * 100) / 112 + 10, 1e-9, 'eye x with margin');
  assert.deepEqual(affineRows({ a: 1, b: 2, tx: 3, ty: 4 }), [
    [1, -2, 3],
    [2, 1, 4],
  ]);
});
