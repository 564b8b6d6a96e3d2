// The detection plan (issue 22): which pass a frame gets, and the tiles a region becomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectPlanner, mergeOverlapping, type DetectPlanOptions } from '../../agent/track/detect-plan.js';
import { tileFor, TILE_SIDES } from '../../agent/detect/region-tiles.js';
import { Tracker } from '../../agent/track/tracker.js';
import { rng } from '../helpers/rng.js';

const FRAME = { width: 1280, height: 720 };
const OPTS: DetectPlanOptions = { intervalMs: 0, fullFrameMs: 1000, trackScale: 2, maxRegionFraction: 0.5 };

test('a full pass first and then every fullFrameMs; nothing between while nothing moves and nobody is tracked', () => {
  const p = new DetectPlanner(OPTS);
  const kinds: string[] = [];
  for (let ts = 0; ts <= 2000; ts += 100) {
    const pass = p.next(ts, FRAME, [], []);
    p.done(ts, pass);
    kinds.push(pass.kind);
  }
  assert.deepEqual(
    kinds.map((k, i) => (k === 'full' ? i * 100 : null)).filter((x) => x !== null),
    [0, 1000, 2000],
  );
  assert.ok(kinds.every((k) => k === 'full' || k === 'none'));
});

test('motion and tracks become padded, merged regions; a track is searched around its predicted box', () => {
  const p = new DetectPlanner(OPTS);
  p.done(0, p.next(0, FRAME, [], []));
  const tracker = new Tracker({ iouThreshold: 0.3, minHits: 1, maxUnseenMs: 1000, tentativeUnseenMs: 500 });
  tracker.update([{ box: { x: 600, y: 300, w: 100, h: 100 }, score: 0.9 }], 0);
  const pass = p.next(
    100,
    FRAME,
    [{ x: 100, y: 100, w: 40, h: 40 }],
    [...tracker.tracks.values()].map((t) => t.box),
  );
  assert.equal(pass.kind, 'regions');
  if (pass.kind !== 'regions') return;
  assert.equal(pass.regions.length, 2);
  assert.ok(
    pass.regions.some((r) => r.x === 550 && r.y === 250 && r.w === 200 && r.h === 200),
    JSON.stringify(pass.regions),
  );
  assert.ok(
    pass.regions.some((r) => r.x <= 100 && r.x + r.w >= 140 && r.w < 100),
    JSON.stringify(pass.regions),
  );
});

test('regions covering most of the frame mean a full pass; intervalMs caps every pass', () => {
  const p = new DetectPlanner(OPTS);
  p.done(0, p.next(0, FRAME, [], []));
  assert.equal(p.next(100, FRAME, [{ x: 0, y: 0, w: 1000, h: 600 }], []).kind, 'full');
  const slow = new DetectPlanner({ ...OPTS, intervalMs: 500 });
  slow.done(0, slow.next(0, FRAME, [], []));
  assert.equal(slow.next(100, FRAME, [{ x: 10, y: 10, w: 50, h: 50 }], []).kind, 'none');
  assert.equal(slow.next(500, FRAME, [{ x: 10, y: 10, w: 50, h: 50 }], []).kind, 'regions');
});

test('without motion gating every pass is full-frame (the SSD, motion.enabled false)', () => {
  const p = new DetectPlanner(OPTS);
  for (let ts = 0; ts < 500; ts += 40) {
    const pass = p.next(ts, FRAME, null, []);
    assert.equal(pass.kind, 'full');
    p.done(ts, pass);
  }
});

test('merged regions never overlap, and cover every input box', () => {
  const r = rng(5);
  for (let k = 0; k < 200; k++) {
    const boxes = Array.from({ length: 1 + Math.floor(r() * 8) }, () => ({ x: r() * 1000, y: r() * 600, w: 10 + r() * 200, h: 10 + r() * 200 }));
    const merged = mergeOverlapping(boxes);
    for (let i = 0; i < merged.length; i++)
      for (let j = i + 1; j < merged.length; j++) {
        const a = merged[i]!;
        const b = merged[j]!;
        assert.ok(a.x > b.x + b.w || b.x > a.x + a.w || a.y > b.y + b.h || b.y > a.y + a.h, 'apart');
      }
    for (const b of boxes) assert.ok(merged.some((m) => m.x <= b.x && m.y <= b.y && m.x + m.w >= b.x + b.w && m.y + m.h >= b.y + b.h));
  }
});

test("tiles: square, inside the frame, one of the fixed sides, cut at exactly the full pass's scale", () => {
  const r = rng(9);
  for (const fullScale of [640 / 1280, 320 / 1280, 640 / 1920]) {
    for (let k = 0; k < 500; k++) {
      const region = { x: r() * 1200, y: r() * 700, w: 1 + r() * 800, h: 1 + r() * 800 };
      const tile = tileFor(region, FRAME, fullScale);
      const fits = TILE_SIDES.some((s) => s >= Math.max(region.w, region.h) * fullScale && Math.round(s / fullScale) <= 720);
      if (!fits) {
        assert.equal(tile, null, 'no tile at the full scale holds it inside the frame: a full pass');
        continue;
      }
      assert.ok(tile, JSON.stringify(region));
      const { src, side } = tile;
      assert.ok((TILE_SIDES as readonly number[]).includes(side));
      assert.equal(src.w, src.h);
      assert.ok(src.x >= 0 && src.y >= 0 && src.x + src.w <= FRAME.width && src.y + src.h <= FRAME.height, JSON.stringify(tile));
      assert.ok(src.w >= Math.max(region.w, region.h) - 1, 'the region is inside its tile');
      // Same scale as the full pass (whole-pixel rounding aside): a face is never enlarged or shrunk.
      assert.ok(Math.abs(side / src.w - fullScale) / fullScale < 0.01, `${side}/${src.w} vs ${fullScale}`);
    }
  }
});

test('a small region (a far face) is not enlarged: its tile is the smallest side at the full scale', () => {
  const tile = tileFor({ x: 600, y: 300, w: 24, h: 24 }, FRAME, 0.5);
  assert.deepEqual(tile, { src: { x: 452, y: 152, w: 320, h: 320 }, side: 160 });
});
