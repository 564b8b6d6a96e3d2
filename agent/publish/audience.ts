// The retained {root}/audience snapshot: who is here now, their labels, counts and histograms — what a
// signage player needs in one read. Published when it changes (people or labels, not boxes or dwell),
// at most once a second; a change within the second is published when the second is up.
import type { AudiencePerson } from '../track/visits.js';
import { CONTRACT_LABELS, TASKS, type Task } from '../contract/labels.js';
import type { AudiencePayload } from '../contract/payloads.js';
import { CONTRACT_SCHEMA } from '../contract/formats.js';

export type { AudiencePayload };

const round3 = (p: number) => Math.round(p * 1000) / 1000;

function confidenceOf(p: AudiencePerson): { confidence?: Partial<Record<Task, number>> } {
  const entries = Object.entries(p.confidence ?? {}).filter(([t, v]) => typeof v === 'number' && p.labels[t as Task] !== undefined);
  return entries.length ? { confidence: Object.fromEntries(entries.map(([t, v]) => [t, round3(Math.min(1, Math.max(0, v as number)))])) } : {};
}

/**
 * The snapshot of frame `frameTs` (media clock), made at `now` (wall clock: the payload's ts). Dwell runs to
 * the last sight, as the `left` event will count it (a lost person is never looking: presentPerson). `tasks`: the reported
 * ones (reportedTasks): a task turned off has no histogram.
 */
export function audiencePayload(people: AudiencePerson[], frameTs: number, device: string, tasks: readonly Task[] = TASKS, now = Date.now()): AudiencePayload {
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
    schema: CONTRACT_SCHEMA,
    device,
    ts: new Date(now).toISOString(),
    frameTs: new Date(frameTs).toISOString(),
    count: people.length,
    people: people.map((p) => {
      const lastSeen = Math.min(frameTs, p.lastSeen ?? frameTs);
      const lost = p.lost === true;
      return {
        person: p.person,
        firstSeen: new Date(p.firstSeen).toISOString(),
        dwellMs: Math.max(0, Math.round(lastSeen - p.firstSeen)),
        lastSeenMs: Math.max(0, Math.round(frameTs - lastSeen)),
        lost,
        ...p.labels,
        ...confidenceOf(p),
        ...(p.looking !== undefined ? { looking: p.looking } : {}),
        ...(p.attentionMs !== undefined ? { attentionMs: p.attentionMs, glances: p.glances ?? 0 } : {}),
      };
    }),
    histograms,
  };
}

export class AudienceThrottle {
  private lastKey = '';
  private lastSent = -Infinity;

  constructor(private readonly minIntervalMs = 1000) {}

  // Being lost or found again is a change: a player must not keep addressing someone who walked away.
  private key(people: AudiencePerson[]): string {
    return JSON.stringify(people.map((p) => [p.person, p.labels, p.lost === true]).sort());
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
