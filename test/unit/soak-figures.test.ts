// The soak's arithmetic: what counts as a gap, a duplicate, out of order, and growth after a warm-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configAnswers, growthFigures, seqFigures, soakProblems, steadyGrowth } from '../../scripts/soak-figures.js';
import { shippedUnitEnvironment, unitEnvironment } from '../../scripts/soak-env.js';

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

test('steady growth compares medians at both ends after the warm-up: one odd sample neither passes nor fails', () => {
  const at = (values: number[]) => values.map((value, i) => ({ t: 120 + i * 10, value }));
  // A transient fd (a file open while sampled) at either end changes nothing.
  const fds = steadyGrowth(at([40, 40, 41, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 47]), 120);
  assert.deepEqual(fds, { baseline: 40, final: 40, delta: 0, growthPct: 0 });
  // A leak moves the whole tail.
  const leak = steadyGrowth(at([100, 100, 100, 100, 100, 100, 103, 103, 106, 106, 106, 106, 106, 106]), 120);
  assert.equal(leak.delta, 6);
  assert.equal(leak.growthPct, 6);
  // Warm-up samples are not the baseline; too few samples use what there is.
  assert.equal(steadyGrowth([{ t: 10, value: 1 }, ...at([50, 50])], 120).baseline, 50);
  assert.deepEqual(steadyGrowth([{ t: 10, value: 1 }], 120), { baseline: null, final: null, delta: null, growthPct: null });
});

test('config/set answers are paired by requestId: applied, refused, or never answered', () => {
  const ok = (requestId: string) => ({ requestId, ok: true, applied: ['detector.minFacePx'], errors: [] });
  const a = configAnswers(
    ['c1', 'c2', 'c3', 'c4'],
    [
      ok('c1'),
      { requestId: 'c2', ok: false, applied: [], errors: [{ path: 'detector.minFacePx', message: 'too many requests' }] },
      { requestId: null, ok: true, applied: ['detector.minFacePx'], errors: [] },
      ok('c4'),
      ok('other'),
    ],
    'detector.minFacePx',
  );
  assert.equal(a.sent, 4);
  assert.equal(a.applied, 2);
  assert.deepEqual(a.unanswered, ['c3']);
  assert.match(a.wrong.join(), /c2: detector\.minFacePx too many requests/);
});

test('the soak fails on RSS growth over 5 %, any fd growth, an unanswered config/set, a lost play or an off-schema message', () => {
  const seq = seqFigures([1, 2, 3]);
  const base = { seq, aliveAtEnd: true, exitCode: 0 };
  const g = (baseline: number, final: number) => ({ baseline, final, delta: final - baseline, growthPct: ((final - baseline) / baseline) * 100 });
  const config = { sent: 12, applied: 12, wrong: [], unanswered: [] };
  const plays = { started: 120, impressions: 119, recordsLeft: 1 };
  const clean = { ...base, rss: g(200, 210), treeRss: g(300, 315), fds: g(40, 40), config, plays, wireInvalid: { count: 0, sample: [] } };
  assert.deepEqual(soakProblems(clean), [], 'exactly 5 % passes; an impression still in the record outbox is not lost');
  assert.match(soakProblems({ ...clean, rss: g(200, 211) }).join(), /agent RSS grew 5\.5 %/);
  assert.match(soakProblems({ ...clean, treeRss: g(300, 330) }).join(), /agent \+ capture RSS grew 10 %/);
  assert.match(soakProblems({ ...clean, fds: g(40, 41) }).join(), /open fds grew by 1/);
  assert.match(soakProblems({ ...clean, config: { ...config, unanswered: ['soak-config-3'] } }).join(), /1 config\/set never answered: soak-config-3/);
  assert.match(soakProblems({ ...clean, config: { ...config, wrong: ['soak-config-2: x'] } }).join(), /not applied: soak-config-2/);
  assert.match(soakProblems({ ...clean, plays: { ...plays, recordsLeft: 0 } }).join(), /120 plays started but 119 impressions/);
  assert.match(soakProblems({ ...clean, wireInvalid: { count: 2, sample: ['a/b/c must be integer'] } }).join(), /2 message\(s\) off their schema/);
});

test("the soak's agent gets the shipped unit's Environment= lines, and the unit sets MALLOC_ARENA_MAX=2", () => {
  assert.deepEqual(unitEnvironment('[Service]\nEnvironment=A=1\n# Environment=B=2\nEnvironment=C_D=x/y \nExecStart=/bin/true\n'), { A: '1', C_D: 'x/y' });
  // Per-thread glibc arenas kept the RSS creeping for the whole of a 1-hour soak (the unit's comment).
  assert.equal(shippedUnitEnvironment().MALLOC_ARENA_MAX, '2');
});
