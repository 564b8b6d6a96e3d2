// The retained {root}/audience snapshot: who is here now, their labels, counts and histograms — what a
// signage player needs in one read. Published when it changes (people or labels, not boxes or dwell),
// at most once a second; a change within the second is published when the second is up.
import type { AudiencePerson } from '../track/visits.js';
import { CONTRACT_LABELS, TASKS, type Task } from '../contract/labels.js';

export interface AudiencePayload {
  schema: number;
  ts: string;
  device: string;
  count: number;
  people: { person: string; firstSeen: string; dwellMs: number; age?: string; gender?: string; emotion?: string; confidence?: Partial<Record<Task, number>> }[];
  histograms: Record<Task, Record<string, number>>;
}

/** A person present, with the fused probability of each published label when the tracker provides it
 *  (AudiencePerson.confidence, filled by VisitBook.present() from the fusion). */
type PersonWithConfidence = AudiencePerson & { confidence?: Partial<Record<Task, number>> };

const round3 = (p: number) => Math.round(p * 1000) / 1000;

function confidenceOf(p: PersonWithConfidence): { confidence?: Partial<Record<Task, number>> } {
  const entries = Object.entries(p.confidence ?? {}).filter(([t, v]) => typeof v === 'number' && p.labels[t as Task] !== undefined);
  return entries.length ? { confidence: Object.fromEntries(entries.map(([t, v]) => [t, round3(Math.min(1, Math.max(0, v)))])) } : {};
}

export function audiencePayload(people: AudiencePerson[], ts: number, device: string): AudiencePayload {
  const histograms = Object.fromEntries(TASKS.map((t) => [t, Object.fromEntries(CONTRACT_LABELS[t].map((l) => [l, 0]))])) as Record<Task, Record<string, number>>;
  for (const p of people) for (const t of TASKS) { const l = p.labels[t]; if (l) histograms[t][l]! += 1; }
  return {
    schema: 1,
    ts: new Date(ts).toISOString(),
    device,
    count: people.length,
    people: (people as PersonWithConfidence[]).map((p) => ({
      person: p.person, firstSeen: new Date(p.firstSeen).toISOString(), dwellMs: Math.round(ts - p.firstSeen), ...p.labels, ...confidenceOf(p),
    })),
    histograms,
  };
}

export class AudienceThrottle {
  private lastKey = '';
  private lastSent = -Infinity;

  constructor(private readonly minIntervalMs = 1000) {}

  private key(people: AudiencePerson[]): string {
    return JSON.stringify(people.map((p) => [p.person, p.labels]).sort());
  }

  changed(people: AudiencePerson[]): boolean {
    return this.key(people) !== this.lastKey;
  }

  /** True when the snapshot should be published now (wall clock `now`). */
  due(people: AudiencePerson[], now: number): boolean {
    const key = this.key(people);
    if (key === this.lastKey || now - this.lastSent < this.minIntervalMs) return false;
    this.lastKey = key;
    this.lastSent = now;
    return true;
  }
}
