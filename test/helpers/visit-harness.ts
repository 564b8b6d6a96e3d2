// Drives Tracker + VisitBook the way the pipeline does, on synthetic scenes with a fake clock: each face
// in a frame names the person it is, the "classifier" answers from a script per person, and the fake
// embedder answers a few frames later (asynchronously, as the real one does) with a deterministic noisy
// embedding of that person. Nothing here knows the answers the tests check.
import { rng } from './rng.js';
import { Tracker, type TrackerOptions } from '../../agent/track/tracker.js';
import { VisitBook, type VisitEvent, type VisitOptions, type Visit } from '../../agent/track/visits.js';
import { DEFAULT_REID, type ReidOptions } from '../../agent/track/reid.js';
import { toPrediction } from '../../agent/contract/labels.js';
import type { FaceAttributes } from '../../agent/classify/classifier.js';
import type { Detection } from '../../agent/detect/detector.js';

export interface Face {
  who: string;
  x: number;
  y?: number;
  /** Face side, px (default 100). */
  s?: number;
  score?: number;
  /** Embedding noise (norm) for this sighting, e.g. higher in dim light. Default 0.2. */
  noise?: number;
}

export const gender = (female: number): FaceAttributes => ({ gender: toPrediction('gender', [1 - female, female]) });

export const VISIT_OPTS: VisitOptions = {
  reclassifyMs: 4000,
  betterCropRatio: 1.3,
  minGapMs: 1000,
  maxSamples: 5,
  enterTimeoutMs: 3000,
  hysteresis: { margin: 0.1, minDurationMs: 1000, minSamples: 2, enterMinSamples: 1, enterMinP: { age: 0, gender: 0, emotion: 0 } },
};
export const TRACKER_OPTS: TrackerOptions = { iouThreshold: 0.2, minHits: 2, maxUnseenMs: 1000, tentativeUnseenMs: 300 };

/** The seeded generator and a normal deviate from it. */
function gaussian(seed: number) {
  const next = rng(seed);
  return { next, normal: () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next()) };
}

const hash = (s: string) => [...s].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);

/**
 * 128-d synthetic faces: each person a random unit vector (two people ~1.4 apart), each sighting that plus
 * noise of the given norm (same person ~0.3 apart at 0.2). `alias` makes look-alikes: "twin:a" is a's
 * vector moved by 0.05.
 */
export class FakeFaces {
  private readonly bases = new Map<string, Float32Array>();
  private readonly noise = gaussian(7);

  base(who: string): Float32Array {
    let b = this.bases.get(who);
    if (b) return b;
    const [name, of] = who.startsWith('twin:') ? [who, who.slice(5)] : [who, null];
    const r = gaussian(hash(name));
    b = of ? this.perturb(this.base(of), 0.05, r.normal) : this.perturb(new Float32Array(128), 1, r.normal);
    this.bases.set(who, b);
    return b;
  }

  embed(who: string, noise = 0.2): Float32Array {
    return this.perturb(this.base(who), noise, this.noise.normal);
  }

  private perturb(b: Float32Array, norm: number, normal: () => number): Float32Array {
    const d = Float32Array.from(b, () => normal());
    const len = Math.hypot(...d);
    return Float32Array.from(b, (v, i) => v + (d[i]! / len) * norm);
  }
}

export interface HarnessOptions {
  visit?: Partial<VisitOptions>;
  reid?: Partial<ReidOptions>;
  /** An embedder is wired (default true). */
  appearance?: boolean;
  /** Embed contested detections before association (the appearance veto; default true). */
  veto?: boolean;
  /** Frames before an embedding comes back (default 2, i.e. 200 ms). */
  embedDelay?: number;
  answer?: (person: string, call: number) => FaceAttributes;
}

export function harness(o: HarnessOptions = {}) {
  let n = 0;
  const appearance = o.appearance ?? true;
  const reid: ReidOptions = { ...DEFAULT_REID, ...o.reid };
  const tracker = new Tracker(TRACKER_OPTS);
  const book = new VisitBook({ ...VISIT_OPTS, ...o.visit, reid, appearance }, () => `p${++n}`);
  const faces = new FakeFaces();
  const answer = o.answer ?? (() => gender(0.9));
  const events: VisitEvent[] = [];
  const calls = new Map<string, number>();
  const embedded: string[] = [];
  const inflight: { due: number; visit: Visit; embedding: Float32Array }[] = [];
  let ts = 0;
  let frameNo = 0;
  const frame = (scene: Face[]) => {
    const who = new Map<Detection, Face>();
    const dets = scene.map((f) => {
      const s = f.s ?? 100;
      const d: Detection = { box: { x: f.x, y: f.y ?? 400, w: s, h: s }, score: f.score ?? 0.9 };
      who.set(d, f);
      return d;
    });
    for (const r of inflight.filter((r) => r.due <= frameNo)) {
      inflight.splice(inflight.indexOf(r), 1);
      events.push(...book.onEmbedded(r.visit, r.embedding, ts));
    }
    const contested = appearance && (o.veto ?? true) ? tracker.contested(dets, ts) : [];
    const byDet = new Map(
      contested.map((i) => {
        const f = who.get(dets[i]!)!;
        return [i, faces.embed(f.who, f.noise)] as const;
      }),
    );
    events.push(...book.onTracks(tracker.update(dets, ts, byDet.size ? book.appearanceVeto(byDet) : undefined), ts));
    if (byDet.size) events.push(...book.onDetectionEmbeddings(dets, byDet, ts));
    for (const v of book.visits.values()) book.setQuality(v, Math.max(v.track.box.w, v.track.box.h) >= 40 ? Math.min(1, v.track.box.w / 112) : 0);
    events.push(...book.tick(ts));
    const due = book.wanting(ts).filter((v) => book.classifiable(v));
    book.markPending(due, ts);
    for (const v of due) {
      const c = (calls.get(v.person) ?? 0) + 1;
      calls.set(v.person, c);
      // The crop shows whoever the track follows now: the scene says who that is.
      events.push(...book.onClassified(v, answer(who.get(v.track.detection)!.who, c), v.quality, ts));
    }
    const toEmbed = book.wantingEmbedding(ts);
    book.markEmbedding(toEmbed, ts);
    for (const v of toEmbed) {
      const f = who.get(v.track.detection)!;
      embedded.push(f.who);
      inflight.push({ due: frameNo + (o.embedDelay ?? 2), visit: v, embedding: faces.embed(f.who, f.noise) });
    }
    ts += 100;
    frameNo++;
  };
  const frames = (count: number, scene: (i: number) => Face[]) => {
    for (let i = 0; i < count; i++) frame(scene(i));
  };
  /** Empty frames until every grace has run out. */
  const leave = () => frames(Math.ceil((reid.graceMs + 1500) / 100), () => []);
  return { tracker, book, events, calls, embedded, faces, frames, leave, now: () => ts, reid };
}

export const types = (events: VisitEvent[]) => events.map((e) => `${e.type}:${e.person}`);

export function byPerson(events: VisitEvent[]): Map<string, VisitEvent[]> {
  const out = new Map<string, VisitEvent[]>();
  for (const e of events) out.set(e.person, [...(out.get(e.person) ?? []), e]);
  return out;
}
