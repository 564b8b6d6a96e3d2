// Home Assistant MQTT discovery: published at start and after every reconnect, again when Home Assistant
// announces itself online, and removed (empty retained configs) when the feature is switched off.
import { discoveryMessages } from '../publish/homeassistant.js';
import { homeAssistantTopics } from '../contract/topics.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';
import { CommandGate } from './command-gate.js';

/** Home Assistant announces itself once per start: a few a minute is already a fault. */
const HA_STATUS_LIMIT = { perSecond: 0.2, burst: 5 };

export class HomeAssistantFeature implements Feature {
  readonly name = 'homeassistant';
  private readonly sends: Sends;
  private enabled: boolean;
  private off: (() => void) | null = null;
  /** Each "online" republishes every discovery config: a flood of them must not become a flood of ours. */
  readonly commands: CommandGate;

  constructor(private readonly ctx: FeatureContext) {
    this.sends = new Sends(ctx.log('homeassistant'));
    this.enabled = ctx.config.homeassistant.enabled;
    // Home Assistant's status is state, not a command: its retained "online" counts.
    this.commands = new CommandGate({ name: 'homeassistant/status', limit: () => HA_STATUS_LIMIT, log: ctx.log('homeassistant'), allowRetained: true });
  }

  start(): void {
    const { ctx } = this;
    const ha = ctx.config.homeassistant;
    this.commands.listen(ctx.publisher, homeAssistantTopics(ha.prefix).status, (payload) => {
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
