// The one way an event leaves the agent: the next seq, the payload stored durably in the outbox, then
// delivered in seq order. Seq assignment, the outbox and the state store live together here so no other
// module can assign a seq or publish an event around them.
import type { EventPayload } from '../contract/payloads.js';
import type { Outbox } from './outbox.js';
import type { Publisher } from './publisher.js';
import { StateStore } from './state-store.js';

export class EventSink {
  private constructor(private readonly state: StateStore, readonly outbox: Outbox, private publisher: Publisher | null = null) {}

  /** Opens the state and recovers the seq from undelivered events of an earlier run. */
  static open(dir: string, outbox: Outbox, log: (m: string) => void): EventSink {
    const state = new StateStore(dir);
    const pending = outbox.pending();
    state.ensureAtLeast(pending[pending.length - 1] ?? 0);
    if (pending.length) log(`${pending.length} undelivered event(s) from an earlier run wait in the outbox (seq ${pending[0]}…${pending[pending.length - 1]})`);
    return new EventSink(state, outbox);
  }

  attach(publisher: Publisher): void {
    this.publisher = publisher;
  }

  get lastSeq(): number { return this.state.lastSeq; }

  /** Gives the payload built for the next seq to the publisher (which stores it first) and records the seq. */
  emit(build: (seq: number) => EventPayload): EventPayload {
    if (!this.publisher) throw new Error('event sink: no publisher attached');
    const seq = this.state.lastSeq + 1;
    const payload = build(seq);
    void this.publisher.publishEvent(payload);
    this.state.commit(seq);
    return payload;
  }

  /** A record that is not an event (an impression, a finished summary): no seq, delivered after the events before it. */
  publishRecord(topic: string, payload: object, retain = false): void {
    if (!this.publisher) throw new Error('event sink: no publisher attached');
    void this.publisher.publishRaw(topic, JSON.stringify(payload), retain).catch(() => undefined);
  }

  stats() {
    return { depth: this.outbox.depth, dropped: this.outbox.dropped, delivered: this.publisher?.delivered ?? 0 };
  }
}
