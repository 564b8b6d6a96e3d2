import type { OutPayloads, OutTopicName, ParamsOf, RecordTopicName } from '../contract/topics.js';
import type { EventPayload, StatusPayload } from './payloads.js';

/** An inbound message; `retained` is set for a message the broker kept (not sent just now). */
export type InboundHandler = (topic: string, payload: Buffer, retained: boolean) => void;

/** Undoes a subscription or a listener; calling it twice does nothing. */
export type Release = () => void;

/** The publisher port: what the agent and its device topics need from a broker connection. */
export interface Publisher {
  readonly connected: boolean;
  /** Events acknowledged by the broker so far (events reach it through the event sink, its delivery queue). */
  readonly delivered: number;
  start(): Promise<void>;
  /**
   * Publishes on a topic of the table (agent/contract/topics.ts): QoS, retain and the payload schema come
   * from there, parameterised topics take their parameter. Skipped while offline: what is published this
   * way is state that is published again on change or reconnect (what must not be lost goes through
   * DurableRecords).
   */
  publish<N extends OutTopicName>(name: N, payload: OutPayloads[N], ...params: ParamsOf<N>): Promise<void>;
  /** Adds fields to the retained online status and republishes it. */
  updateStatus(fields: Partial<StatusPayload>): void;
  /** Listens to a topic (again after every reconnect, until released). One handler per topic. */
  subscribe(topic: string, handler: InboundHandler): Release;
  /** Called after every (re)connect, until released. */
  onConnect(listener: () => void): Release;
  /** Publishes the clean-shutdown status, waits for what is in flight, disconnects. */
  stop(reason: string): Promise<void>;
}

/** Records that must not be lost (impressions, finished daily summaries): stored, then delivered in order at QoS 1. */
export interface DurableRecords {
  publish<N extends RecordTopicName>(name: N, payload: OutPayloads[N]): void;
}

export type { EventPayload, StatusPayload };
