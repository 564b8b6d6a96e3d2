// Home Assistant MQTT discovery: published at start and after every reconnect, again when Home Assistant
// announces itself online, and removed (empty retained configs) when the feature is switched off.
import { discoveryMessages } from '../publish/homeassistant.js';
import { homeAssistantTopics } from '../contract/topics.js';
import { FeatureBase, type FeatureContext } from './feature.js';
import { CommandGate } from './command-gate.js';

/** Home Assistant announces itself once per start: a few a minute is already a fault. */
const HA_STATUS_LIMIT = { perSecond: 0.2, burst: 5 };

export class HomeAssistantFeature extends FeatureBase {
  readonly name = 'homeassistant';
  private enabled: boolean;
  /** Each "online" republishes every discovery config: a flood of them must not become a flood of ours. */
  readonly commands: CommandGate;

  constructor(ctx: FeatureContext) {
    super(ctx, 'homeassistant');
    this.enabled = ctx.config.homeassistant.enabled;
    // Home Assistant's status is state, not a command: its retained "online" counts.
    this.commands = new CommandGate({ name: 'homeassistant/status', limit: () => HA_STATUS_LIMIT, log: ctx.log('homeassistant'), allowRetained: true });
  }

  start(): void {
    const ha = this.ctx.config.homeassistant;
    this.command(this.commands, homeAssistantTopics(ha.prefix).status, (payload) => {
      if (String(payload) === 'online' && ha.enabled) this.announce();
    });
    this.onConnect(() => this.announce());
    this.on('config', () => {
      if (ha.enabled !== this.enabled) this.announce();
    });
    this.announce();
  }

  private announce(): void {
    const { ctx } = this;
    this.enabled = ctx.config.homeassistant.enabled;
    const c = ctx.config;
    const opts = {
      prefix: c.homeassistant.prefix,
      root: ctx.topics.root,
      device: ctx.device,
      version: ctx.version,
      model: ctx.model,
      emotion: c.classifier.emotion,
    };
    for (const m of discoveryMessages(opts, this.enabled)) this.publish('homeassistantDiscovery', m.payload, m.params);
  }
}
