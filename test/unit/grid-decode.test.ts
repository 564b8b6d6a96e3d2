import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGrid, planInput, type GridHead } from '../../agent/detect/grid-decode.js';
import { nonMaxSuppression } from '../../agent/detect/nms.js';

// Float32 tensors: inputs like 0.81 are not exact.
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);

/** A 64×32 input at stride 16 (4×2 cells) and stride 32 (2×1 cells), everything zero but what a test sets. */
type Writable = GridHead & {
  cls: Float32Array;
  obj: Float32Array;
  box: Float32Array;
  kps: Float32Array;
};
function heads(landmarks = 2): [Writable, Writable] {
  const head = (stride: number, cells: number): Writable => ({
    stride,
    cls: new Float32Array(cells),
    obj: new Float32Array(cells),
    box: new Float32Array(cells * 4),
    kps: new Float32Array(cells * 2 * landmarks),
    landmarks,
  });
  return [head(16, 8), head(32, 2)];
}

test('known value: a cell decodes to its offset box, log sizes and landmarks, in input pixels', () => {
  const [h16, h32] = heads();
  // Cell index 6 at stride 16 with 4 columns: row 1, column 2.
  h16.cls[6] = 0.81;
  h16.obj[6] = 0.64; // score sqrt(0.81·0.64) = 0.72
  h16.box.set([0.5, 0.25, Math.log(2), Math.log(3)], 6 * 4); // centre (2.5·16, 1.25·16) = (40, 20); 32 × 48
  h16.kps.set([0.1, 0.2, -0.3, 0.4], 6 * 4); // (2.1·16, 1.2·16), (1.7·16, 1.4·16)
  const [c, ...rest] = decodeGrid([h16, h32], 64, 32, 0.5);
  assert.equal(rest.length, 0);
  close(c!.score, 0.72, 'score');
  const want = [20 - 24, 40 - 16, 20 + 24, 40 + 16];
  c!.box.forEach((v, i) => close(v, want[i]!, `box[${i}]`));
  const lm = [
    [33.6, 19.2],
    [27.2, 22.4],
  ];
  c!.landmarks.forEach(([x, y], k) => {
    close(x, lm[k]![0]!, `landmark ${k} x`);
    close(y, lm[k]![1]!, `landmark ${k} y`);
  });
});

test('scores are clamped to [0, 1] before the square root, and thresholded', () => {
  const [h16, h32] = heads();
  h32.cls[1] = 1.2;
  h32.obj[1] = 0.49; // clamped: sqrt(1·0.49) = 0.7
  h32.cls[0] = 0.9;
  h32.obj[0] = -0.1; // clamped to 0
  h16.cls[0] = 0.5;
  h16.obj[0] = 0.5; // 0.5: below 0.6
  const found = decodeGrid([h16, h32], 64, 32, 0.6);
  assert.equal(found.length, 1);
  close(found[0]!.score, 0.7, 'score');
  // Stride 32, cell 1: column 1, row 0; zero offsets → centre (32, 0), size 32.
  found[0]!.box.forEach((v, i) => close(v, [-16, 16, 16, 48][i]!, `box[${i}]`));
});

test('outputs that do not match the input size are an error, not garbage', () => {
  const [h16] = heads();
  assert.throws(() => decodeGrid([h16], 64, 64, 0.5), /stride 16: outputs hold 8 cells, a 64×64 input gives 4×4 = 16/);
});

test('the same face seen at two strides is one face after NMS at 0.3', () => {
  const [h16, h32] = heads();
  h16.cls[1] = 0.9;
  h16.obj[1] = 0.9;
  h16.box.set([0.5, 0.5, Math.log(2), Math.log(2)], 4); // centre (24, 8), 32×32
  h32.cls[0] = 0.8;
  h32.obj[0] = 0.8;
  h32.box.set([0.75, 0.25, 0, 0], 0); // centre (24, 8), 32×32
  const kept = nonMaxSuppression(decodeGrid([h16, h32], 64, 32, 0.5), 0.3, 10);
  assert.equal(kept.length, 1);
  close(kept[0]!.score, 0.9, 'the better one stays');
});

test('input plan: keeps the aspect ratio, never scales up, pads bottom/right to multiples of 32', () => {
  assert.deepEqual(planInput(1280, 720, 640, 0, 32), {
    width: 640,
    height: 360,
    tensorWidth: 640,
    tensorHeight: 384,
  });
  assert.deepEqual(planInput(640, 480, 640, 0, 32), {
    width: 640,
    height: 480,
    tensorWidth: 640,
    tensorHeight: 480,
  });
  assert.deepEqual(planInput(320, 240, 640, 0, 32), {
    width: 320,
    height: 240,
    tensorWidth: 320,
    tensorHeight: 256,
  });
  assert.deepEqual(planInput(1920, 1080, 640, 320, 32), {
    width: 569,
    height: 320,
    tensorWidth: 576,
    tensorHeight: 320,
  });
  assert.deepEqual(planInput(1920, 1080, 0, 0, 32), {
    width: 1920,
    height: 1080,
    tensorWidth: 1920,
    tensorHeight: 1088,
  });
  // A fixed-size graph: fit inside it, pad to exactly its size.
  assert.deepEqual(planInput(1280, 720, 0, 0, 32, { width: 640, height: 640 }), { width: 640, height: 360, tensorWidth: 640, tensorHeight: 640 });
});
