// What the payloads say about people who are present (issue 25): someone the detector no longer finds is
// marked lost with the age of the last sight and is never "looking" — in audience and nearest alike —
// and a face cut by the frame edge gives no distance. The visits come from the real tracker and visit
// book (test/helpers/visit-harness.ts); each payload is checked against the contract's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { harness, type Face } from '../helpers/visit-harness.js';
import { audiencePayload } from '../../agent/publish/audience.js';
import { TASKS } from '../../agent/contract/labels.js';
import { nearestRecord } from '../../agent/features/nearest.js';
import { AudienceSchema, NearestSchema } from '../../agent/contract/payloads.js';
import type { FrameDone } from '../../agent/features/events.js';
import type { TSchema } from '@sinclair/typebox';
// The formats (date-time) the contract check registers, as at publish.
import '../../agent/publish/contract-check.js';

const CAM = { hfovDeg: 70, vfovDeg: 43, faceWidthM: 0.15 };
const FRAME = { width: 1280, height: 720 };
const at = (x: number, y = 300, s = 100): Face => ({ who: 'a', x, y, s });

function checked<T>(schema: TSchema, payload: T): T {
  assert.deepEqual([...Value.Errors(schema, payload)].slice(0, 3), [], 'the payload matches its schema');
  return payload;
}

/** Runs the scene, lets the pipeline's part (head pose) say everyone is looking, returns the last frame as features get it. */
function scene(h: ReturnType<typeof harness>): FrameDone {
  for (const v of [...h.book.visits.values(), ...h.book.suspended]) v.looking ??= true;
  return { ts: h.now() - 100, ...FRAME, people: h.book.present(), farFaces: 0 };
}

test('a person the detector no longer finds is lost, with the age of the last sight, and not looking in audience or nearest', () => {
  const h = harness();
  h.frames(20, (i) => [at(400 + i * 5)]);
  const seen = scene(h);
  assert.equal(seen.people.length, 1, 'announced after minDwellMs');
  const now = Date.now();
  const a = checked(AudienceSchema, audiencePayload(seen.people, seen.ts, 'd', TASKS, now));
  assert.equal(a.people[0]!.lost, false);
  assert.equal(a.people[0]!.lastSeenMs, 0);
  assert.equal(a.people[0]!.looking, true, 'seen in this pass and looking');
  assert.equal(a.ts, new Date(now).toISOString(), 'ts: when the message was made');
  assert.equal(a.frameTs, new Date(seen.ts).toISOString());

  // Walks out of view: the visit stays open for visit.graceMs, its last "looking" must not.
  h.frames(15, () => []);
  const gone = scene(h);
  assert.equal(gone.people.length, 1, 'still present within the grace');
  const p = checked(AudienceSchema, audiencePayload(gone.people, gone.ts, 'd', TASKS, now)).people[0]!;
  assert.equal(p.lost, true);
  assert.equal(p.looking, false, 'a lost person is never looking');
  assert.equal(p.lastSeenMs, 1500, 'fifteen frames of 100 ms since the last sight');
  assert.equal(p.dwellMs, a.people[0]!.dwellMs, 'dwell stops at the last sight, as the `left` event will count it');
  const n = checked(NearestSchema, nearestRecord(gone, CAM, 'd', new Date(now)));
  assert.equal(n.person, p.person);
  assert.equal(n.lost, true);
  assert.equal(n.looking, false);
  assert.equal(n.lastSeenMs, 1500);
});

test('nearest prefers someone seen now over a larger face that is lost', () => {
  const h = harness();
  h.frames(20, () => [at(200, 300, 200), { who: 'b', x: 900, y: 300, s: 80 }]);
  h.frames(3, () => [{ who: 'b', x: 900, y: 300, s: 80 }]);
  const f = scene(h);
  assert.equal(f.people.length, 2);
  const n = nearestRecord(f, CAM, 'd', new Date());
  const b = f.people.find((p) => p.box.w === 80)!;
  assert.equal(n.person, b.person, 'the seen face, though smaller');
  assert.equal(n.lost, false);
});

test('a face touching the frame edge gives no distance; the same face inside the frame does', () => {
  const person = (x: number, w: number) => ({ person: 'p', firstSeen: 0, box: { x, y: 300, w, h: w }, labels: {}, lost: false });
  const frame = (x: number, w: number): FrameDone => ({ ts: 1000, ...FRAME, people: [person(x, w)], farFaces: 0 });
  const inside = checked(NearestSchema, nearestRecord(frame(600, 120), CAM, 'd', new Date()));
  assert.ok(inside.distanceM! > 1 && inside.distanceM! < 2, `a 120 px face is 1–2 m away (${inside.distanceM})`);
  assert.equal(inside.atEdge, undefined);
  // Half the face beyond the left edge: the box the detector gives is cut at 0 and half as wide.
  for (const [x, w] of [
    [0, 60],
    [FRAME.width - 60, 60],
  ] as const) {
    const cut = checked(NearestSchema, nearestRecord(frame(x, w), CAM, 'd', new Date()));
    assert.equal(cut.distanceM, undefined, `no distance at x=${x}: the width of a cut face is not its width`);
    assert.equal(cut.atEdge, true);
    assert.equal(typeof cut.azimuthDeg, 'number', 'the direction is still given');
  }
});
