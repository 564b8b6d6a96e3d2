// Visit events for tests: a builder for sink-level tests, and the check every stop path must pass.
import assert from 'node:assert/strict';
import type { EventPayload } from '../../agent/contract/payloads.js';

/** A minimal valid visit event; curried on seq, as EventSink.emit assigns it. */
export const visitEvent =
  (type: EventPayload['type'], person = 'x', device = 'd', ts = '2026-11-28T00:00:00.000Z') =>
  (seq: number): EventPayload => ({
    schema: 1,
    seq,
    type,
    ts,
    device,
    person,
    firstSeen: ts,
    dwellMs: 0,
    box: { x: 0, y: 0, w: 0.1, h: 0.1 },
    samples: 0,
    model: 'm',
  });

/** Every visit that entered also left, exactly once. */
export function assertEveryVisitLeft(events: readonly { type: string; person: string }[], message = 'every visit left'): void {
  const ids = (type: string) =>
    events
      .filter((e) => e.type === type)
      .map((e) => e.person)
      .sort();
  assert.deepEqual(ids('left'), ids('entered'), message);
}
