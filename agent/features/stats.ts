// {root}/stats every mqtt.statsIntervalS: the figures the composition root gathers from the components,
// plus what only the process as a whole can tell: inbound commands (rate limits at work), the main
// thread's event-loop delay since the previous message, and durable writes (fsyncs) since start — the
// three things a command flood used to blow up.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { durableCounts } from '../lib/durable.js';
import { CONTRACT_SCHEMA } from '../contract/formats.js';
import type { CommandRegistry } from './command-gate.js';
import { FeatureBase, type FeatureContext } from './feature.js';

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

export class StatsFeature extends FeatureBase {
  readonly name = 'stats';
  private loop: IntervalHistogram | null = null;
  /** When the next tick is due (performance.now): its lateness is a delay the histogram may not have sampled yet. */
  private due = 0;

  constructor(
    ctx: FeatureContext,
    private readonly snapshot: () => object,
    private readonly commands: CommandRegistry | null = null,
  ) {
    super(ctx, 'stats');
  }

  start(): void {
    const loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop = loop;
    loop.enable();
    this.due = performance.now() + this.ctx.config.mqtt.statsIntervalS * 1000;
    const timer = setInterval(() => this.publish('stats', this.body()), this.ctx.config.mqtt.statsIntervalS * 1000);
    timer.unref();
    this.hold(() => {
      clearInterval(timer);
      loop.disable();
    });
  }

  /**
   * One stats message; the event-loop figures cover the time since the previous one. A block that ends
   * just before this tick may not be sampled yet (the histogram's own timer runs after ours): the tick's
   * own lateness counts too.
   */
  body(): object {
    const loop = this.loop;
    const now = performance.now();
    const late = Math.max(0, now - this.due) * 1e6;
    this.due = now + this.ctx.config.mqtt.statsIntervalS * 1000;
    const delay = loop
      ? { eventLoopDelayMs: { p99: ms(Math.max(loop.count ? loop.percentile(99) : 0, late)), max: ms(Math.max(loop.count ? loop.max : 0, late)) } }
      : {};
    loop?.reset();
    return {
      schema: CONTRACT_SCHEMA,
      device: this.ctx.device,
      ts: new Date().toISOString(),
      ...this.snapshot(),
      ...(this.commands ? { commands: this.commands.snapshot() } : {}),
      ...delay,
      durable: { ...durableCounts },
    };
  }
}
