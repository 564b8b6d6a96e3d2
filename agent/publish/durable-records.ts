// The durable side of the topic table: records that must reach the broker (impressions, the finished
// daily summary) go into the event sink's record outbox with the topic and retain flag of the table,
// checked against the topic's schema first. The outbox delivers at QoS 1 (an entry is removed only on
// PUBACK), so only topics the table publishes at QoS 1 may come this way.
import { OUT_TOPICS, topicOf, type OutPayloads, type RecordTopicName } from '../contract/topics.js';
import type { ContractCheck } from './contract-check.js';
import type { DurableRecords } from './publisher.js';

export interface RecordStore {
  record(topic: string, payload: string | object, retain?: boolean): void;
}

export class TableRecords implements DurableRecords {
  constructor(
    private readonly store: RecordStore,
    private readonly root: string,
    private readonly check: ContractCheck,
  ) {}

  publish<N extends RecordTopicName>(name: N, payload: OutPayloads[N]): void {
    const spec = OUT_TOPICS[name];
    if (spec.qos !== 1) throw new Error(`${name}: the outbox delivers at QoS 1, the topic table says ${spec.qos as number}`);
    this.check.check(name, payload);
    this.store.record(topicOf(this.root, name as RecordTopicName), payload, spec.retained);
  }
}
