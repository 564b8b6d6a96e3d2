// The tracker's appearance hooks: which detections motion cannot assign on its own, and a veto that
// keeps a track off a face that is someone else's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../agent/track/tracker.js';
import type { Detection } from '../../agent/detect/detector.js';
import { TRACKER_OPTS } from '../helpers/visit-harness.js';

const det = (x: number, y = 400, s = 100): Detection => ({ box: { x, y, w: s, h: s }, score: 0.9 });

test('contested: only detections that two tracks could take', () => {
  const tracker = new Tracker(TRACKER_OPTS);
  tracker.update([det(100), det(700)], 0);
  tracker.update([det(100), det(700)], 100);
  assert.deepEqual(tracker.contested([det(105), det(695)], 200), [], 'far apart: motion is enough');
  const t = new Tracker(TRACKER_OPTS);
  t.update([det(380), det(460, 410)], 0);
  t.update([det(390), det(450, 410)], 100);
  assert.deepEqual(t.contested([det(400), det(440, 410), det(1000)], 200), [0, 1], 'close together: both; the far one: no');
});

test('a vetoed pairing is never made: the detection goes to the other track or starts a new one', () => {
  const t = new Tracker(TRACKER_OPTS);
  t.update([det(380), det(460, 410)], 0);
  t.update([det(390), det(450, 410)], 100);
  const [first, second] = [...t.tracks.values()];
  // Motion alone would give detection 0 (at 440) to the track that is heading there.
  const plain = new Tracker(TRACKER_OPTS);
  plain.update([det(380), det(460, 410)], 0);
  plain.update([det(390), det(450, 410)], 100);
  const p = plain.update([det(445)], 200);
  assert.equal(p.started.length, 0);
  const takenBy = [...plain.tracks.values()].find((x) => x.visible)!.id;
  const vetoed = takenBy === first!.id ? first! : second!;
  const r = t.update([det(445)], 200, (track, d) => track.id === vetoed.id && d === 0);
  assert.equal(vetoed.visible, false, 'the vetoed track coasts');
  assert.equal(r.started.length, 0, 'the other track took it');
  assert.equal([...t.tracks.values()].find((x) => x.visible)!.detection.box.x, 445);
});
