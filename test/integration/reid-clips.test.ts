// Every visitor counted once (issue 10), end to end: `percept run --print-events` on scene clips made at
// test time from real photos — a face hidden 0.3 s and 2 s by someone passing in front, out of view for
// 2 s (one visit) and 8 s (two), two people crossing with one face hidden (each leaves on its own side
// with its own labels), the light dimming to 50 % for 2 s — two variants each (other faces, sizes,
// speeds, timings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { runPercept } from '../helpers/agent-process.js';
import { makeSceneClip, sceneCases, GRACE, LEO, type SceneClip } from '../helpers/scene-clips.js';

const VARIANTS = [0, 1];
const work = mkdtempSync(join(tmpdir(), 'percept-reid-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

interface Payload {
  type: string;
  person: string;
  dwellMs: number;
  box: { x: number; w: number };
  gender?: { label: string };
}

async function run(clip: SceneClip): Promise<Payload[]> {
  const path = makeSceneClip(await loadOpenCV(), join(work, `${clip.name}.avi`), clip.spec).path;
  const res = await runPercept(
    ['run', '--source', path, '--state-dir', join(work, `state-${clip.name}`), '--exit-on-eof', '--print-events'],
    { PERCEPT_MQTT_EMBEDDED_PORT: '0' },
    300_000,
  );
  assert.equal(res.code, 0, res.stderr);
  return res.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Payload);
}

function story(events: Payload[]): string {
  return events.map((e) => `${e.type}:${e.person.slice(0, 4)}@${(e.box.x + e.box.w / 2).toFixed(2)}`).join(' ');
}

/** One entered and one left per person, as many people as the case expects. */
function visits(clip: SceneClip, events: Payload[]): Map<string, Payload[]> {
  const people = new Map<string, Payload[]>();
  for (const e of events) people.set(e.person, [...(people.get(e.person) ?? []), e]);
  assert.equal(people.size, clip.expect.visits, `${clip.name}: visits per person must be 1.0; events: ${story(events)}`);
  for (const evs of people.values()) {
    const types = evs.map((e) => e.type).filter((t) => t !== 'updated');
    assert.deepEqual(types, ['entered', 'left'], `${clip.name}: ${story(events)}`);
  }
  return people;
}

const caseNames = sceneCases(0).map((c) => c.name.replace(/-v0$/, ''));

for (const name of caseNames) {
  test(`scene ${name}: ${sceneCases(0).find((c) => c.name.startsWith(name))!.expect.visits} visit(s) in every variant`, { timeout: 900_000 }, async (t) => {
    const failures: string[] = [];
    for (const v of VARIANTS) {
      const clip = sceneCases(v).find((c) => c.name === `${name}-v${v}`)!;
      const events = await run(clip);
      t.diagnostic(`${clip.name}: ${new Set(events.map((e) => e.person)).size} visit(s) for ${clip.expect.visits} expected; ${story(events)}`);
      try {
        check(clip, events);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    assert.deepEqual(failures, [], 'every variant');
  });
}

function check(clip: SceneClip, events: Payload[]): void {
  const people = visits(clip, events);
  if (clip.expect.visits === 1) {
    // Visible from the first second to the end: one visit spanning (almost) the whole clip.
    const left = [...people.values()][0]!.find((e) => e.type === 'left')!;
    assert.ok(left.dwellMs >= (clip.spec.seconds - 2) * 1000, `${clip.name}: dwell ${left.dwellMs} ms covers the clip`);
  }
  if (clip.expect.exits) {
    for (const evs of people.values()) {
      const side = (e: Payload) => (e.box.x + e.box.w / 2 < 0.5 ? 'left' : 'right');
      const entered = evs.find((e) => e.type === 'entered')!;
      const left = evs.find((e) => e.type === 'left')!;
      assert.notEqual(side(left), side(entered), `${clip.name}: each person leaves on the side they walked to; ${story(events)}`);
      const portrait = clip.spec.actors[side(entered) === 'left' ? 0 : 1]!.portrait;
      if (portrait === GRACE || portrait === LEO) assert.equal(left.gender?.label, portrait.gender, `${clip.name}: ${portrait.name} keeps their own labels`);
    }
  }
}
