// The soak's arithmetic: what counts as a gap, a duplicate, out of order, and growth after a warm-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthFigures, seqFigures, soakProblems } from '../../scripts/soak-figures.js';

test('contiguous seqs with QoS 1 duplicates: no gap, duplicates counted', () => {
  const f = seqFigures([1, 2, 3, 3, 4, 2, 5]);
  assert.deepEqual(f, { received: 7, distinct: 5, duplicates: 2, first: 1, last: 5, gaps: 0, missingSample: [], outOfOrder: 0 });
});

test('a missing seq in the middle, at the start, or at the tail the agent issued is a gap', () => {
  assert.deepEqual(seqFigures([1, 2, 4, 5]).missingSample, [3]);
  assert.equal(seqFigures([2, 3]).gaps, 1, 'a fresh state directory starts at 1');
  const tail = seqFigures([1, 2, 3], 1, 6);
  assert.equal(tail.gaps, 3);
  assert.deepEqual(tail.missingSample, [4, 5, 6]);
  assert.equal(seqFigures([], 1, 0).gaps, 0, 'no event issued, none missing');
});

test('a new seq lower than one already seen is out of order; a duplicate of an old one is not', () => {
  assert.equal(seqFigures([1, 3, 2]).outOfOrder, 1);
  assert.equal(seqFigures([1, 2, 3, 1]).outOfOrder, 0);
});

test('growth is measured from the first sample after the warm-up; max covers the whole run', () => {
  const samples = [
    { t: 10, value: 500 },
    { t: 60, value: 300 },
    { t: 120, value: 200 },
    { t: 1800, value: 210 },
    { t: 3600, value: 220 },
  ];
  const g = growthFigures(samples, 120);
  assert.equal(g.first, 200);
  assert.equal(g.last, 220);
  assert.equal(g.max, 500);
  assert.equal(g.growthPct, 10);
  assert.ok(g.slopePerHour !== null && Math.abs(g.slopePerHour - 20.5) < 1, `slope ${g.slopePerHour}`);
  assert.deepEqual(growthFigures([{ t: 10, value: 5 }], 120), { first: null, last: null, max: 5, growthPct: null, slopePerHour: null });
});

test('the soak fails on a gap, out-of-order delivery, a dead agent or a bad exit; duplicates alone pass', () => {
  const clean = seqFigures([1, 2, 2, 3]);
  assert.deepEqual(soakProblems({ seq: clean, aliveAtEnd: true, exitCode: 0 }), []);
  assert.match(soakProblems({ seq: seqFigures([1, 3]), aliveAtEnd: true, exitCode: 0 }).join(), /1 seq gap.*missing: 2/);
  assert.match(soakProblems({ seq: clean, aliveAtEnd: false, exitCode: 1 }).join(), /died/);
  assert.match(soakProblems({ seq: clean, aliveAtEnd: true, exitCode: 1 }).join(), /exited 1 on SIGTERM/);
});
