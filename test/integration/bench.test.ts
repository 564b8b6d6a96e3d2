// The benchmark runs and its JSON has every figure (benchmarks print numbers; nothing here asserts speed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPercept } from '../helpers/agent-process.js';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { makeBenchClip } from '../../agent/capture/bench-clips.js';
import { tempDir } from '../helpers/temp.js';

test('percept bench --compare human --json --report', async () => {
  const work = tempDir('percept-bench-');
  const json = join(work, 'bench.json');
  const res = await runPercept(['bench', '--compare', 'human', '--json', json, '--report', join(work, 'report')], {}, 300_000);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /end to end: [\d.]+ frames\/s/);
  const r = JSON.parse(readFileSync(json, 'utf8'));
  for (const key of [
    'startedAt',
    'source',
    'machine',
    'frames',
    'wallS',
    'fps',
    'stages',
    'enterLatencyMs',
    'enterLatencyWallMs',
    'classifier',
    'detectors',
    'agentOverhead',
    'visits',
    'classifierCallsPerPerson',
    'rssMB',
    'human',
    'timeline',
  ]) {
    assert.ok(key in r, `bench JSON has ${key}`);
  }
  for (const s of ['capture', 'detect', 'track', 'classify', 'publish']) {
    for (const k of ['n', 'meanMs', 'p50Ms', 'p99Ms', 'fps']) assert.ok(k in r.stages[s], `stages.${s}.${k}`);
  }
  assert.deepEqual(
    r.classifier.map((c: { batch: number }) => c.batch),
    [1, 4, 8],
  );
  // Detectors side by side on the same clip: YuNet (fetched by setup) and the SSD, each finding both people.
  assert.deepEqual(
    r.detectors.map((d: { name: string }) => d.name),
    ['yunet-n', 'face-api-ssd-mobilenetv1'],
  );
  for (const d of r.detectors) {
    assert.equal(d.frames, 140);
    assert.equal(d.people, 2, `${d.name}: people`);
    assert.ok(d.framesWithFaces > 0 && d.faces >= d.framesWithFaces, `${d.name}: faces`);
    for (const k of ['meanMs', 'p50Ms', 'p99Ms']) assert.equal(typeof d.detect[k], 'number');
  }
  assert.equal(r.detectors[0].input, '640x360');
  assert.match(res.stdout, /yunet-n\s+640x360\s+detect [\d.]+ ms .* faces \d+ in \d+\/140 frames\s+people 2/);
  for (const c of r.classifier) for (const k of ['msPerFace', 'rawMsPerFace', 'overhead']) assert.equal(typeof c[k], 'number');
  assert.equal(r.frames, 140);
  assert.ok(r.timeline.length >= 1);
  for (const k of ['start', 'end', 'growthPct']) assert.equal(typeof r.rssMB[k], 'number');
  assert.ok(r.human.ok === true ? typeof r.human.ratio === 'number' : typeof r.human.reason === 'string');
  const md = readFileSync(join(work, 'report/report.md'), 'utf8');
  assert.match(md, /!\[latency and frames\/s over time\]\(latency\.svg\)/);
  assert.ok(existsSync(join(work, 'report/latency.svg')));
  assert.match(readFileSync(join(work, 'report/latency.svg'), 'utf8'), /^<svg [^>]*>[\s\S]*<polyline[\s\S]*<\/svg>$/);
});

test('percept bench --live on a short H.264 clip prints the table and writes every figure', async () => {
  const work = tempDir('percept-bench-live-');
  const clip = join(work, 'busy.mp4');
  assert.equal(makeBenchClip(await loadOpenCV(), 'busy', clip, 2), 50);
  const cv = await loadOpenCV();
  const cap = new cv.VideoCapture(clip);
  // H.264 ('avc1'), 720p, 25 fps: what the live bench plays.
  assert.equal(cap.get(cv.CAP_PROP_FOURCC), cv.VideoWriter.fourcc('avc1'));
  assert.deepEqual([cap.get(cv.CAP_PROP_FRAME_WIDTH), cap.get(cv.CAP_PROP_FRAME_HEIGHT), cap.get(cv.CAP_PROP_FPS)], [1280, 720, 25]);
  cap.release();
  const json = join(work, 'live.json');
  const res = await runPercept(['bench', '--live', '--clip', clip, '--seconds', '3', '--warmup', '2', '--json', json], {}, 240_000);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /CPU in percent of ONE core/);
  assert.match(res.stdout, /busy\.mp4\s+[\d.]+\s+[\d.]+\s+[\d.]+/);
  const r = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(r.scenes.length, 1);
  const s = r.scenes[0];
  // Wall-clock figures: only their presence and sign (the agent worked, the capture process decoded).
  assert.ok(s.cpuPercent > 0, `cpuPercent ${s.cpuPercent}`);
  assert.ok(s.captureProcessPercent > 0 && s.captureProcessPercent <= s.cpuPercent, 'the capture process is part of the agent');
  assert.ok(s.framesPerS > 0 && s.detectionsPerS > 0);
  for (const k of ['droppedPerS', 'enterLatencyWallMs', 'enteredFromFirstSightMs']) assert.ok(k in s, k);
  assert.equal(s.enteredFromFirstSightMs.minDwellMs, 500, 'the dwell it includes is named');
  assert.match(res.stdout, /1st sight→entered/);
  assert.ok(s.decodeFloor.captureProcessPercent > 0 && s.decodeFloor.framesPerS > 0);
  assert.ok(s.decodeFloor.withHandOverPercent >= s.decodeFloor.captureProcessPercent);
});
