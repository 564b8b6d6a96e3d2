// The retained {root}/audience snapshot: who is here now, their labels, counts and histograms — what a
// signage player needs in one read. Published when it changes (people or labels, not boxes or dwell),
// at most once a second; a change within the second is published when the second is up.
import type { AudiencePerson } from '../track/visits.js';
import type { Static } from '@sinclair/typebox';
import { CONTRACT_LABELS, TASKS, type Task } from '../contract/labels.js';
import type { AudiencePersonSchema } from '../contract/payloads.js';

export interface AudiencePayload {
  schema: 1;
  ts: string;
  device: string;
  count: number;
  people: AudiencePayloadPerson[];
  histograms: Record<Task, Record<string, number>>;
}

type AudiencePayloadPerson = Static<typeof AudiencePersonSchema>;

const round3 = (p: number) => Math.round(p * 1000) / 1000;

function confidenceOf(p: AudiencePerson): { confidence?: Partial<Record<Task, number>> } {
  const entries = Object.entries(p.confidence ?? {}).filter(([t, v]) => typeof v === 'number' && p.labels[t as Task] !== undefined);
  return entries.length ? { confidence: Object.fromEntries(entries.map(([t, v]) => [t, round3(Math.min(1, Math.max(0, v as number)))])) } : {};
}

/** `tasks`: the reported ones (reportedTasks): a task turned off has no histogram. */
export function audiencePayload(people: AudiencePerson[], ts: number, device: string, tasks: readonly Task[] = TASKS): AudiencePayload {
  const histograms = Object.fromEntries(tasks.map((t) => [t, Object.fromEntries(CONTRACT_LABELS[t].map((l) => [l, 0]))])) as Record<
    Task,
    Record<string, number>
  >;
  for (const p of people)
    for (const t of tasks) {
      const l = p.labels[t];
      if (l) histograms[t][l]! += 1;
    }
  return {
    schema: 1,
    ts: new Date(ts).toISOString(),
    device,
    count: people.length,
    people: people.map((p) => ({
      person: p.person,
      firstSeen: new Date(p.firstSeen).toISOString(),
      dwellMs: Math.round(ts - p.firstSeen),
      ...p.labels,
      ...confidenceOf(p),
      ...(p.looking !== undefined ? { looking: p.looking } : {}),
      ...(p.attentionMs !== undefined ? { attentionMs: p.attentionMs, glances: p.glances ?? 0 } : {}),
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
