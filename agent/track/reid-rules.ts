// The re-identification rules of the visit book, kept apart so each can be read on its own:
//  1. A new track started while someone is lost (suspended, or an announced track coasting) is not
//     announced until its face was compared with theirs (or enterTimeoutMs); an unambiguous match resumes
//     the lost visit on the new track (same person, gallery and labels merged; a coasting track left
//     behind is an orphan that starts a fresh visit if it ever sees a face again).
//  2. A visit without an appearance (no embedder, or never embedded), suspended or coasting, resumes by
//     position only: a track confirmed within positionGraceMs of the last sight, starting within a face's
//     side of where it was lost (or of where its motion predicts it), with exactly one such pair.
//  3. An announced visit whose new embedding does not match its own gallery but unambiguously matches a
//     suspended visit hands its track to that visit and is suspended itself; if it matches another open
//     visit whose own newest embedding points back at it, the two swap tracks (a crossing mix-up).
//  4. Embeddings are asked for when a track starts, while a decision waits, every CROWDED_MS while tracks
//     are close, every FILL_MS until the gallery is full, then every REFRESH_MS.
import { bestMatch, faceDistance, GALLERY_SIZE, POSITION_RADIUS, type ReidOptions } from './reid.js';
import type { AppearanceVeto, Track } from './tracker.js';
import { current, syncSight, visitEvent, type Visit, type VisitEvent } from './visit.js';
import { silentLogger, type Logger } from '../lib/logging.js';

/** What the rules need of the visit book (its port here, so the two modules do not import each other). */
export interface VisitStore {
  readonly visits: Map<number, Visit>;
  readonly suspended: Set<Visit>;
  resumed: number;
  corrected: number;
  place(v: Visit): void;
  suspend(v: Visit): void;
  orphan(v: Visit): void;
  maybeEnter(v: Visit, ts: number): boolean;
  updated(v: Visit, ts: number): VisitEvent;
}

const RETRY_MS = 300;
/** Looks at a new face before it is announced as a new person while someone is lost: the first crop of a
 *  face coming out from behind someone is often half a face. */
const LOOKS = 2;
const CROWDED_MS = 300;
const FILL_MS = 1000;
const REFRESH_MS = 3000;
/** A track's embedding counts as evidence for a swap this long. */
const SWAP_EVIDENCE_MS = 1000;
/** Tracks closer than this many face sides are "crowded": identities may mix up. */
const CROWDED_RADIUS = 1.5;

/** A visit as debug lines name it: the start of its person id (events carry the whole id). */
const id = (v: Visit) => v.person.slice(0, 8);

export class ReidRules {
  constructor(
    private readonly book: VisitStore,
    private readonly o: ReidOptions,
    private readonly appearance: boolean,
    /** Each re-identification decision, with its distances, as a debug line (the reid log namespace). */
    private readonly log: Logger = silentLogger,
  ) {}

  private hasAppearance(v: Visit): boolean {
    return this.appearance && v.gallery.size > 0;
  }

  private lostWithAppearance(): Visit[] {
    return [...this.book.suspended].filter((v) => this.hasAppearance(v));
  }

  private coasting(): Visit[] {
    return [...this.book.visits.values()].filter((v) => v.entered && !v.track.visible && this.hasAppearance(v));
  }

  private coastingWithAppearance(): boolean {
    return this.coasting().length > 0;
  }

  /** Someone an appearance could still bring back: a new track must be compared before it is announced. */
  anyoneLost(): boolean {
    return this.appearance && (this.lostWithAppearance().length > 0 || this.coastingWithAppearance());
  }

  /** Whether announcing `v` should still wait for a comparison (LOOKS of its face, or someone still coasting). */
  mayStillResume(v: Visit): boolean {
    if (!this.appearance) return false;
    return this.coastingWithAppearance() || (v.looks < LOOKS && this.lostWithAppearance().length > 0);
  }

  /** How long after the last sight a suspended visit may still resume. */
  graceFor(v: Visit): number {
    return this.hasAppearance(v) ? this.o.graceMs : Math.min(this.o.graceMs, this.o.positionGraceMs);
  }

  /** Rule 2, for tracks confirmed in this update. */
  resumeByPosition(confirmed: Track[], ts: number): VisitEvent[] {
    const coasting = [...this.book.visits.values()].filter((v) => v.entered && !v.track.visible);
    const lost = [...this.book.suspended, ...coasting].filter((s) => !this.hasAppearance(s));
    if (!lost.length) return [];
    const fresh = confirmed.map((t) => this.book.visits.get(t.id)).filter((v): v is Visit => !!v && !v.entered);
    const pairs: [Visit, Visit][] = [];
    for (const p of fresh) {
      for (const s of lost) if (p.firstSeen - s.lastSeen <= this.o.positionGraceMs && this.near(s, p)) pairs.push([s, p]);
    }
    const events: VisitEvent[] = [];
    for (const [s, p] of pairs) {
      if (pairs.filter(([a, b]) => a === s || b === p).length > 1) {
        this.log.debug(`${id(p)} near lost ${id(s)} but not the only pair: no resume by position (ambiguous)`);
        continue;
      }
      const d = faceDistance(s.seenBox, p.firstBox).toFixed(2);
      this.log.debug(`${id(s)} resumes by position on track ${p.track.id} (${d} face sides from where it was lost; no appearance)`);
      if (!s.suspended) this.book.orphan(s);
      events.push(...this.resume(s, p, ts));
    }
    return events;
  }

  private near(s: Visit, p: Visit): boolean {
    if (faceDistance(s.seenBox, p.firstBox) <= POSITION_RADIUS) return true;
    // Walking on behind an occluder: where its motion would have taken it (only from the track that saw it last).
    return s.track.lastSeen === s.lastSeen && faceDistance(s.track.kalman.predict(p.firstSeen), p.firstBox) <= POSITION_RADIUS;
  }

  /** Rule 1 for every new visit already embedded (after someone was suspended). */
  recheck(ts: number): VisitEvent[] {
    const waiting = [...this.book.visits.values()].filter((v) => !v.entered && v.awaitingReid && v.gallery.size > 0);
    return waiting.flatMap((v) => this.tryResume(v, ts) ?? []);
  }

  private tryResume(p: Visit, ts: number): VisitEvent[] | null {
    if (!this.appearance || p.gallery.size === 0) return null;
    const look = p.latest?.embedding;
    const distance = (s: Visit) => Math.min(s.gallery.distanceTo(p.gallery), look ? s.gallery.distance(look) : Infinity);
    // A coasting visit counts as lost too: its track may have lost the face to a prediction gone astray.
    const lost = [...this.lostWithAppearance(), ...this.coasting()];
    const m = bestMatch(lost, distance, this.o);
    if (lost.length)
      this.log.debug(
        `new face on track ${p.track.id}: distances to ${lost.length} lost ${lost.map((s) => `${id(s)} ${distance(s).toFixed(3)}`).join(', ') || '(nobody)'}` +
          ` (threshold ${this.o.reidThreshold}, margin ${this.o.reidMargin}) → ${m ? `resumes ${id(m.match)}` : 'no unambiguous match'}`,
      );
    if (!m) return null;
    if (!m.match.suspended) this.book.orphan(m.match);
    return this.resume(m.match, p, ts);
  }

  /** Suspended `s` continues on new visit `p`'s track; `p` is absorbed. */
  private resume(s: Visit, p: Visit, ts: number): VisitEvent[] {
    const before = JSON.stringify(s.fusion.labels());
    s.track = p.track;
    this.book.visits.delete(p.track.id);
    s.gallery.absorb(p.gallery);
    p.gallery.clear();
    s.fusion.merge(p.fusion, ts);
    s.samples = s.fusion.samples;
    s.bestQuality = Math.max(s.bestQuality, p.bestQuality);
    s.quality = p.quality;
    s.pending ||= p.pending;
    s.lastClassifiedAt = Math.max(s.lastClassifiedAt ?? -Infinity, p.lastClassifiedAt ?? -Infinity);
    if (!Number.isFinite(s.lastClassifiedAt)) s.lastClassifiedAt = null;
    s.embedPending ||= p.embedPending;
    s.lastEmbeddedAt = p.lastEmbeddedAt ?? s.lastEmbeddedAt;
    s.embedTrack = p.embedTrack ?? s.embedTrack;
    s.looks += p.looks;
    s.latest = p.latest;
    s.lastMatchedAt = p.lastMatchedAt ?? s.lastMatchedAt;
    p.mergedInto = s;
    s.resumes++;
    this.book.resumed++;
    this.book.place(s);
    const changed = s.entered && JSON.stringify(s.fusion.labels()) !== before;
    return changed ? [this.book.updated(s, ts)] : [];
  }

  /** Rule 4: the visits whose face this frame should be embedded, most urgent first. */
  wanting(ts: number): Visit[] {
    if (!this.appearance) return [];
    const ranked: { v: Visit; rank: number; since: number }[] = [];
    for (const v of this.book.visits.values()) {
      if (!v.track.visible || v.quality <= 0 || v.embedPending) continue;
      const since = v.lastEmbeddedAt === null ? Infinity : ts - v.lastEmbeddedAt;
      const fresh = !v.latest || v.latest.track !== v.track.id;
      let rank = -1;
      if ((fresh || (!v.entered && v.awaitingReid)) && since >= RETRY_MS) rank = 0;
      else if (since >= CROWDED_MS && this.crowded(v)) rank = 1;
      else if (v.gallery.size < GALLERY_SIZE && since >= FILL_MS) rank = 2;
      else if (since >= REFRESH_MS) rank = 3;
      if (rank >= 0) ranked.push({ v, rank, since });
    }
    return ranked.sort((a, b) => a.rank - b.rank || b.since - a.since).map((r) => r.v);
  }

  private crowded(v: Visit): boolean {
    const a = v.track.box;
    for (const w of this.book.visits.values()) {
      if (w === v) continue;
      const b = w.track.box;
      const d = Math.hypot(a.x + a.w / 2 - (b.x + b.w / 2), a.y + a.h / 2 - (b.y + b.h / 2));
      if (d < CROWDED_RADIUS * Math.max(a.w, a.h, b.w, b.h)) return true;
    }
    return false;
  }

  onEmbedded(asked: Visit, e: Float32Array | null, ts: number): VisitEvent[] {
    asked.embedPending = false;
    current(asked).embedPending = false;
    const track = asked.embedTrack;
    const v = track === null ? undefined : this.book.visits.get(track);
    if (!e || !v || track === null || !this.appearance) return [];
    v.latest = { embedding: e, ts, track };
    v.looks++;
    const own = v.gallery.distance(e);
    const agrees = v.gallery.size === 0 || own < this.o.reidThreshold;
    if (!v.entered) {
      if (agrees) {
        v.gallery.add(e);
        v.lastMatchedAt = ts;
      }
      const resumed = this.tryResume(v, ts);
      if (resumed) return resumed;
      return this.book.maybeEnter(v, ts) ? [visitEvent('entered', v, ts)] : [];
    }
    if (agrees) {
      v.gallery.add(e);
      v.lastMatchedAt = ts;
      return [];
    }
    // Rule 3. The visit itself is a candidate, so another one must beat it by the margin.
    const others = [...this.book.suspended, ...this.book.visits.values()].filter((w) => w !== v && w.entered && this.hasAppearance(w));
    const m = bestMatch([v, ...others], (w) => w.gallery.distance(e), this.o);
    this.log.debug(
      `${id(v)}'s new face is ${own.toFixed(3)} from its own gallery (threshold ${this.o.reidThreshold}): ` +
        (m && m.match !== v
          ? `matches ${m.match.suspended ? 'suspended' : 'open'} ${id(m.match)} at ${m.distance.toFixed(3)}`
          : 'no other visit matches better: kept'),
    );
    if (!m || m.match === v) return [];
    return this.correct(v, m.match, e, ts);
  }

  private correct(v: Visit, w: Visit, e: Float32Array, ts: number): VisitEvent[] {
    const t = this.o.reidThreshold;
    if (w.suspended) {
      this.log.debug(`${id(w)} takes back track ${v.track.id} from ${id(v)}, which is suspended`);
      // The person on v's track is w, back: w takes it; v was last surely seen at its last match.
      this.book.suspend(v);
      v.lastSeen = Math.min(v.lastSeen, v.lastMatchedAt ?? v.lastSeen);
      w.track = v.track;
      w.latest = v.latest;
      v.latest = null;
      w.gallery.add(e);
      w.lastMatchedAt = ts;
      w.resumes++;
      this.book.corrected++;
      this.book.place(w);
      return [];
    }
    const we = w.latest;
    if (!we || we.track !== w.track.id || ts - we.ts > SWAP_EVIDENCE_MS) return [];
    if (!(v.gallery.distance(we.embedding) < t && w.gallery.distance(we.embedding) >= t)) return [];
    this.log.debug(`${id(v)} and ${id(w)} swap tracks ${v.track.id} and ${w.track.id} (a crossing mix-up: each face matches the other's gallery)`);
    const vt = v.track;
    v.track = w.track;
    w.track = vt;
    [v.latest, w.latest] = [we, v.latest];
    v.gallery.add(we.embedding);
    w.gallery.add(e);
    v.lastMatchedAt = w.lastMatchedAt = ts;
    for (const x of [v, w]) {
      this.book.visits.set(x.track.id, x);
      x.seenBox = x.track.seenBox;
      syncSight(x);
    }
    this.book.corrected += 2;
    return [];
  }

  /** For Tracker.update: a track may not take a detection that does not look like its visit but does look like someone else. */
  veto(embeddings: ReadonlyMap<number, Float32Array>): AppearanceVeto {
    return (track, d) => {
      const e = embeddings.get(d);
      const v = this.book.visits.get(track.id);
      if (!e || !v || !this.hasAppearance(v) || v.gallery.distance(e) < this.o.reidThreshold) return false;
      return [...this.book.visits.values(), ...this.book.suspended].some(
        (w) => w !== v && this.hasAppearance(w) && w.gallery.distance(e) < this.o.reidThreshold,
      );
    };
  }
}
