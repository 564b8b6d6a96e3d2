// Home Assistant MQTT discovery: published at start and after every reconnect, again when Home Assistant
// announces itself online, and removed (empty retained configs) when the feature is switched off.
import { discoveryMessages } from '../publish/homeassistant.js';
import { homeAssistantTopics } from '../contract/topics.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class HomeAssistantFeature implements Feature {
  readonly name = 'homeassistant';
  private readonly sends: Sends;
  private enabled: boolean;
  private off: (() => void) | null = null;

  constructor(private readonly ctx: FeatureContext) {
    this.sends = new Sends(ctx.log('homeassistant'));
    this.enabled = ctx.config.homeassistant.enabled;
  }

  start(): void {
    const { ctx } = this;
    const ha = ctx.config.homeassistant;
    ctx.publisher.subscribe(homeAssistantTopics(ha.prefix).status, (_t, payload) => {
      if (String(payload) === 'online' && ha.enabled) this.publish();
    });
    ctx.publisher.onConnect(() => this.publish());
    this.off = ctx.bus.on('config', () => {
      if (ha.enabled !== this.enabled) this.publish();
    });
    this.publish();
  }

  private publish(): void {
    const { ctx } = this;
    this.enabled = ctx.config.homeassistant.enabled;
    const opts = { prefix: ctx.config.homeassistant.prefix, root: ctx.topics.root, device: ctx.device, version: ctx.version, model: ctx.model };
    for (const m of discoveryMessages(opts, this.enabled)) this.sends.add(ctx.publisher.publishRaw(m.topic, m.payload, true));
  }

  async stop(): Promise<void> {
    this.off?.();
    await this.sends.settle();
  }
}
