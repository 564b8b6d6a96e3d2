// {root}/stats every mqtt.statsIntervalS: the figures the composition root gathers from the components.
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class StatsFeature implements Feature {
  readonly name = 'stats';
  private timer: NodeJS.Timeout | null = null;
  private readonly sends: Sends;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly snapshot: () => object,
  ) {
    this.sends = new Sends(ctx.log('stats'));
  }

  start(): void {
    this.timer = setInterval(() => {
      const body = { ts: new Date().toISOString(), device: this.ctx.device, ...this.snapshot() };
      this.sends.add(this.ctx.publisher.publishStats(body));
    }, this.ctx.config.mqtt.statsIntervalS * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sends.settle();
  }
}
