import type { EventPayload, StatusPayload } from './payloads.js';

/** An inbound message; `retained` is set for a message the broker kept (not sent just now). */
export type InboundHandler = (topic: string, payload: Buffer, retained: boolean) => void;

/** The publisher port: what the agent and its device topics need from a broker connection. */
export interface Publisher {
  readonly connected: boolean;
  /** Events acknowledged by the broker so far (events reach it through the event sink, its delivery queue). */
  readonly delivered: number;
  start(): Promise<void>;
  publishStats(stats: object): Promise<void>;
  /** Retained snapshot of who is present. */
  publishAudience(audience: object): Promise<void>;
  /** Any other device topic (config, config/result, discovery, summary); skipped while offline. */
  publishRaw(topic: string, payload: string, retain: boolean, qos?: 0 | 1): Promise<void>;
  /** Adds fields to the retained online status and republishes it. */
  updateStatus(fields: Partial<StatusPayload>): void;
  /** Listens to a topic (again after every reconnect). */
  subscribe(topic: string, handler: InboundHandler): void;
  /** Called after every (re)connect. */
  onConnect(listener: () => void): void;
  /** Publishes the clean-shutdown status, waits for what is in flight, disconnects. */
  stop(reason: string): Promise<void>;
}

export type { EventPayload, StatusPayload };
