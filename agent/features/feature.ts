// What a feature is: a module that starts and stops with the agent and works only through the bus, the
// publisher port and the live config. Adding an MQTT feature means adding one such module (and its
// topic and payload to agent/contract), then listing it in features/index.ts.
import type { Config } from '../config/schema.js';
import type { DeviceTopics } from '../contract/topics.js';
import type { Publisher } from '../publish/publisher.js';
import type { Logger } from '../lib/logging.js';
import { within } from '../lib/within.js';
import type { AgentBus } from './events.js';

export interface FeatureContext {
  bus: AgentBus;
  publisher: Publisher;
  /** The live config: hot keys of accepted patches show through at once. */
  config: Config;
  topics: DeviceTopics;
  device: string;
  /** The agent's state directory, for features that keep something across restarts. */
  stateDir: string;
  version: string;
  model: string;
  log: (namespace: string) => Logger;
  /** Records that must not be lost (impressions, finished daily summaries): stored, then delivered in order. */
  records: DurableRecords;
}

export interface DurableRecords {
  publish(topic: string, payload: object, retain?: boolean): void;
}

export interface Feature {
  readonly name: string;
  start(): void | Promise<void>;
  /** Flushes what it owes (a last snapshot) and releases timers and subscriptions. */
  stop(): void | Promise<void>;
}

/** Tracks fire-and-forget publishes so stop() can wait for them; failures are logged, not thrown. */
export class Sends {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  add(p: Promise<void>): void {
    const tracked: Promise<void> = p
      .catch((err: Error) => {
        this.log.warn(err.message);
      })
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Waits for what is in flight, at most a few seconds (an unanswered QoS 1 publish must not hold a stop). */
  async settle(ms = 3000): Promise<void> {
    if ((await within(ms, Promise.allSettled([...this.inflight]), 'timeout')) === 'timeout')
      this.log.warn(`${this.inflight.size} publish(es) not acknowledged at stop`);
  }
}
