// Whether each present person was seen in the latest detection pass. The visit book lists everyone whose
// visit is open, including a person out of view for up to visit.graceMs and a track coasting on its
// prediction; the payloads must say so (lastSeen, lost) and must not repeat the last "looking" of
// someone nobody sees any more.
import type { FrameDone, PresentPerson } from '../features/events.js';
import type { Visit } from '../track/visit.js';

export interface OpenVisits {
  readonly visits: ReadonlyMap<number, Visit>;
  readonly suspended: ReadonlySet<Visit>;
}

export function withSightings(frame: FrameDone, book: OpenVisits): FrameDone {
  const byPerson = new Map<string, Visit>();
  for (const v of [...book.visits.values(), ...book.suspended]) byPerson.set(v.person, v);
  const people = frame.people.map((p): PresentPerson => {
    const v = byPerson.get(p.person);
    if (!v) return p;
    const lost = v.suspended || !v.track.visible;
    return { ...p, lastSeen: v.lastSeen, lost, ...(lost && p.looking !== undefined ? { looking: false } : {}) };
  });
  return { ...frame, people };
}
