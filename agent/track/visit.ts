// One visit: a person from their first sight until graceMs after their last, across the tracks that saw
// them (a track is lost behind an occluder or out of view; the visit is suspended and may resume on a
// new track). Its appearance (gallery of face embeddings) lives here, in memory only.
import type { Box } from '../detect/detector.js';
import type { Prediction, Task } from '../contract/labels.js';
import { AttributeFusion, type HysteresisOptions } from './fusion.js';
import { euclidean, Gallery, type Distance } from './reid.js';
import type { Track } from './tracker.js';
import { AttentionMeter, PoseSmoother, type AttentionOptions } from './attention.js';
import type { AttentionSummary } from '../contract/payloads.js';

export interface Visit {
  person: string;
  /** The track following the person now; while suspended, the one that lost them. */
  track: Track;
  fusion: AttributeFusion;
  entered: boolean;
  pending: boolean;
  lastClassifiedAt: number | null;
  bestQuality: number;
  /** Quality of this frame's crop (0: not classifiable now). */
  quality: number;
  /** The samples count the queue ranks by. */
  samples: number;
  firstSeen: number;
  /** The last detection of this person, on any of their tracks, and where it was. */
  lastSeen: number;
  seenBox: Box;
  confirmedAt: number | null;
  /** Where the visit's first track started (to resume a lost visit by position). */
  firstBox: Box;
  /** Lost track, waiting (graceMs) to be re-identified. */
  suspended: boolean;
  gallery: Gallery;
  embedPending: boolean;
  lastEmbeddedAt: number | null;
  /** The track whose face was sent to the embedder (the visit's track may change before it answers). */
  embedTrack: number | null;
  /** The newest embedding of the current track: evidence when two tracks may have swapped people. */
  latest: { embedding: Float32Array; ts: number; track: number } | null;
  /** When an embedding last agreed with the gallery: the last sight we are sure of. */
  lastMatchedAt: number | null;
  /** Started while someone was lost: not announced until its face was compared (or enterTimeoutMs). */
  awaitingReid: boolean;
  /** Embeddings received for this visit (a first look at a half-uncovered face may not be enough). */
  looks: number;
  /** This visit turned out to be another one (resumed): late results go there. */
  mergedInto: Visit | null;
  /** Times this visit was resumed on a new track or taken back from another. */
  resumes: number;
  /** Looking at the camera: time, glances, first look (across all the visit's tracks). */
  attention: AttentionMeter;
  pose: PoseSmoother;
  /** From the latest detection with landmarks; undefined until one came. */
  looking: boolean | undefined;
}

/** Without an audience config (tests of the visit logic): the defaults. */
export const DEFAULT_ATTENTION: AttentionOptions = { minGlanceMs: 500, maxGapMs: 1000 };

export function newVisit(
  person: string,
  track: Track,
  hysteresis: HysteresisOptions,
  distance: Distance = euclidean,
  attention: AttentionOptions = DEFAULT_ATTENTION,
): Visit {
  return {
    person,
    track,
    fusion: new AttributeFusion(hysteresis),
    entered: false,
    pending: false,
    lastClassifiedAt: null,
    bestQuality: 0,
    quality: 0,
    samples: 0,
    firstSeen: track.firstSeen,
    lastSeen: track.lastSeen,
    seenBox: track.seenBox,
    confirmedAt: track.confirmedAt,
    firstBox: track.seenBox,
    suspended: false,
    gallery: new Gallery(distance),
    embedPending: false,
    lastEmbeddedAt: null,
    embedTrack: null,
    latest: null,
    lastMatchedAt: null,
    awaitingReid: false,
    looks: 0,
    mergedInto: null,
    resumes: 0,
    attention: new AttentionMeter(track.firstSeen, attention),
    pose: new PoseSmoother(),
    looking: undefined,
  };
}

/** The visit a (possibly merged) visit stands for now. */
export function current(v: Visit): Visit {
  while (v.mergedInto) v = v.mergedInto;
  return v;
}

/** Takes the sight of the visit's track when it is newer. */
export function syncSight(v: Visit): void {
  const t = v.track;
  if (t.lastSeen >= v.lastSeen) {
    v.lastSeen = t.lastSeen;
    v.seenBox = t.seenBox;
  }
  if (v.confirmedAt === null && t.confirmedAt !== null) v.confirmedAt = t.confirmedAt;
}

export type VisitEventType = 'entered' | 'updated' | 'left';

export interface VisitEvent {
  type: VisitEventType;
  ts: number;
  person: string;
  firstSeen: number;
  lastSeen: number;
  confirmedAt: number | null;
  box: Box;
  samples: number;
  attributes: Partial<Record<Task, Prediction & { years?: number; confident: boolean }>>;
  attention: AttentionSummary;
}

/** The event `type` of the visit now; what it carries becomes the announced labels (hysteresis compares against them). */
export function visitEvent(type: VisitEventType, v: Visit, ts: number): VisitEvent {
  v.fusion.announce();
  return {
    type,
    ts,
    person: v.person,
    firstSeen: v.firstSeen,
    lastSeen: v.lastSeen,
    confirmedAt: v.confirmedAt,
    // Where the person was last seen: a coasting prediction may already be outside the frame.
    box: { ...v.seenBox },
    samples: v.samples,
    attributes: v.fusion.attributes(),
    attention: v.attention.summary(),
  };
}

export interface AudiencePerson {
  person: string;
  firstSeen: number;
  box: Box;
  labels: Partial<Record<Task, string>>;
  /** Fused probability of each label. */
  confidence?: Partial<Record<Task, number>>;
  /** Undefined without landmarks (the SSD detector); false while lost. */
  looking?: boolean;
  /** Media clock of the person's last detection. */
  lastSeen?: number;
  /** Not detected in the latest detection pass: the track coasts, or the visit waits out visit.graceMs. */
  lost?: boolean;
  attentionMs?: number;
  glances?: number;
}

/**
 * Someone present as the audience snapshot shows them: arg-max labels, their fused probabilities,
 * attention, and whether the latest pass saw them — a person out of view or coasting is `lost` and never
 * repeats their last "looking".
 */
export function presentPerson(v: Visit): AudiencePerson {
  const a = v.attention.summary();
  const confidence = Object.fromEntries(Object.entries(v.fusion.attributes()).map(([t, p]) => [t, p!.p]));
  const lost = v.suspended || !v.track.visible;
  return {
    person: v.person,
    firstSeen: v.firstSeen,
    box: v.seenBox,
    labels: v.fusion.labels(),
    confidence,
    ...(v.looking !== undefined ? { looking: lost ? false : v.looking } : {}),
    lastSeen: v.lastSeen,
    lost,
    attentionMs: a.attentionMs,
    glances: a.glances,
  };
}
