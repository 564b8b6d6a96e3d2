// Remote configuration: JSON merge patches on {root}/config/set, answered on {root}/config/result, the
// effective config (secrets redacted) retained on {root}/config, and SIGHUP re-reading the file. The
// decisions (allow list, validation, hot or restart, persistence) are config/'s; this module only moves
// messages.
import { layersOf, type ConfigLayers } from '../config/load.js';
import { applyHot, commitPatch, describeResult, evaluatePatch, reloadFromFile, resultPayload, shouldIgnore, type PatchResult } from '../config/remote.js';
import { redact } from '../lib/redact.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class RemoteConfigFeature implements Feature {
  readonly name = 'remote-config';
  private readonly sends: Sends;
  /** The layers as accepted so far: the desired config is what they compose to. */
  private layers: ConfigLayers;
  private off: (() => void) | null = null;

  constructor(
    private readonly ctx: FeatureContext,
    layers: ConfigLayers | null,
  ) {
    this.sends = new Sends(ctx.log('config'));
    this.layers = layers ?? layersOf(ctx.config);
  }

  private get log() {
    return this.ctx.log('config');
  }

  start(): void {
    const { ctx } = this;
    if (ctx.config.remoteConfig.enabled) {
      ctx.publisher.subscribe(ctx.topics.configSet, (topic, payload, retained) => {
        const ignored = shouldIgnore(topic, { retain: retained });
        if (ignored) this.log.warn(ignored);
        else this.onConfigSet(payload);
      });
    }
    ctx.publisher.onConnect(() => this.publishConfig());
    this.off = ctx.bus.on('reload', () => this.reloadFile());
    this.publishConfig();
  }

  private publishConfig(): void {
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.config, JSON.stringify(redact(this.ctx.config)), true));
  }

  private accept(result: PatchResult): void {
    applyHot(this.ctx.config, result.next!);
    this.layers = result.layers!;
    this.publishConfig();
    this.ctx.bus.emit('config', result);
  }

  onConfigSet(payload: Buffer): PatchResult {
    // Written before anything is applied: a failed write is a refusal, never a half-applied change.
    // A dry run (config diff/apply asking first) is answered and nothing else.
    const result = commitPatch(evaluatePatch(this.layers, payload));
    if (result.dryRun) {
      this.log.info(describeResult('config/set (dry run)', result));
    } else if (result.ok) {
      this.log.info(describeResult('config/set', result));
      this.accept(result);
    } else {
      this.log.warn(describeResult('config/set', result));
    }
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.configResult, JSON.stringify(resultPayload(result)), false));
    return result;
  }

  /** SIGHUP: the file again in place of the file layer; flags, environment and overrides kept. */
  reloadFile(): PatchResult {
    const result = reloadFromFile(this.layers);
    for (const w of result.warnings) this.log.warn(`SIGHUP: ${w}`);
    if (result.ok) {
      this.log.info(describeResult(`SIGHUP: reloaded ${this.layers.fileName}`, result));
      this.accept(result);
    } else {
      this.log.error(`${describeResult('SIGHUP', result)}; nothing changed`);
    }
    return result;
  }

  async stop(): Promise<void> {
    this.off?.();
    await this.sends.settle();
  }
}
