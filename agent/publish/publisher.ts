import type { EventPayload, StatusPayload } from './payloads.js';

/** The publisher port. */
export interface Publisher {
  start(): Promise<void>;
  publishEvent(event: EventPayload): Promise<void>;
  publishStats(stats: object): Promise<void>;
  /** Retained snapshot of who is present. */
  publishAudience(audience: object): Promise<void>;
  /** Publishes the clean-shutdown status, waits for what is in flight, disconnects. */
  stop(reason: string): Promise<void>;
}

export type { EventPayload, StatusPayload };
