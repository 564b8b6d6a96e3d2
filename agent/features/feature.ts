// What a feature is: a module that starts and stops with the agent and works only through the bus, the
// publisher port and the live config. Adding an MQTT feature means adding one such module (and its
// topic and payload to agent/contract), then listing it in features/index.ts. Most extend FeatureBase,
// which owns what they hold: bus listeners, MQTT subscriptions and reconnect listeners are released at
// stop() without a line of the feature's own.
import type { Config } from '../config/schema.js';
import type { DeviceTopics, OutPayloads, OutTopicName, ParamsOf } from '../contract/topics.js';
import type { DurableRecords, InboundHandler, Publisher, Release } from '../publish/publisher.js';
import type { Logger } from '../lib/logging.js';
import { within } from '../lib/within.js';
import type { AgentBus, AgentEvents } from './events.js';
import type { CommandGate } from './command-gate.js';

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

export type { DurableRecords };

export interface Feature {
  readonly name: string;
  start(): void | Promise<void>;
  /** Flushes what it owes (a last snapshot) and releases timers and subscriptions. */
  stop(): void | Promise<void>;
  /** True while it shows every frame's full pixels (the preview, watched): the capture process then sends them. */
  wantsPixels?(): boolean;
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

/**
 * A feature that owns its cleanup. What it takes through `on`, `subscribe`, `command` and `onConnect`
 * is released first thing at stop() (nothing new comes in), then `finish()` flushes what the feature
 * still owes (a last snapshot, a play cut short), then its publishes are waited for.
 */
export abstract class FeatureBase implements Feature {
  abstract readonly name: string;
  protected readonly sends: Sends;
  private readonly releases: Release[] = [];

  constructor(
    protected readonly ctx: FeatureContext,
    logName: string,
  ) {
    this.sends = new Sends(ctx.log(logName));
  }

  abstract start(): void | Promise<void>;

  /** Listens on the bus until stop(). */
  protected on<K extends keyof AgentEvents & string>(name: K, listener: (payload: AgentEvents[K]) => void): void {
    this.releases.push(this.ctx.bus.on(name, listener));
  }

  /** An inbound topic that is not a command (none so far: commands go through `command`). */
  protected subscribe(topic: string, handler: InboundHandler): void {
    this.releases.push(this.ctx.publisher.subscribe(topic, handler));
  }

  /** An inbound command topic behind the shared command rules (command-gate.ts), until stop(). */
  protected command(gate: CommandGate, topic: string, handler: (payload: Buffer) => void, onLimited?: (payload: Buffer) => void): void {
    this.releases.push(gate.listen(this.ctx.publisher, topic, handler, onLimited));
  }

  /** Called after every (re)connect until stop(). */
  protected onConnect(listener: () => void): void {
    this.releases.push(this.ctx.publisher.onConnect(listener));
  }

  /** A topic of the table; the publish is waited for at stop(), a failure is logged. */
  protected publish<N extends OutTopicName>(name: N, payload: OutPayloads[N], ...params: ParamsOf<N>): void {
    this.sends.add(this.ctx.publisher.publish(name, payload, ...params));
  }

  /** Anything else the feature must undo at stop() (a timer, a cron task). */
  protected hold(release: Release): void {
    this.releases.push(release);
  }

  /** What the feature still owes once nothing comes in any more. */
  protected finish(): void | Promise<void> {}

  async stop(): Promise<void> {
    for (const release of this.releases.splice(0).reverse()) release();
    await this.finish();
    await this.sends.settle();
  }
}
