// Remote configuration: JSON merge patches on {root}/config/set, answered on {root}/config/result, the
// effective config (secrets redacted) retained on {root}/config, and SIGHUP re-reading the file. The
// decisions (allow list, validation, hot or restart, persistence) are config/'s; this module only moves
// messages.
import { layersOf, type ConfigLayers } from '../config/load.js';
import { applyHot, commitPatch, describeResult, evaluatePatch, reloadFromFile, resultPayload, type PatchResult } from '../config/remote.js';
import { redact } from '../lib/redact.js';
import { within } from '../lib/within.js';
import { AnswerQueue, CommandGate, requestIdOf } from './command-gate.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class RemoteConfigFeature implements Feature {
  readonly name = 'remote-config';
  private readonly sends: Sends;
  /** The layers as accepted so far: the desired config is what they compose to. */
  private layers: ConfigLayers;
  private off: (() => void) | null = null;
  /** The shared command rules: retained patches ignored, a rate limit (patches build on each other, so beyond it they are refused and answered, never dropped). */
  readonly commands: CommandGate;
  private readonly answers: AnswerQueue;

  constructor(
    private readonly ctx: FeatureContext,
    layers: ConfigLayers | null,
  ) {
    this.sends = new Sends(ctx.log('config'));
    this.layers = layers ?? layersOf(ctx.config);
    this.commands = new CommandGate({ name: 'config/set', limit: () => ctx.config.mqtt.commandLimits.configSet, log: ctx.log('config') });
    this.commands.counts.answersDropped = 0;
    this.answers = new AnswerQueue(
      (payload) => ctx.publisher.publishRaw(ctx.topics.configResult, payload, false),
      (err) => this.commands.warn(`config/result not sent: ${err.message}`),
    );
  }

  private get log() {
    return this.ctx.log('config');
  }

  start(): void {
    const { ctx } = this;
    if (ctx.config.remoteConfig.enabled)
      this.commands.listen(
        ctx.publisher,
        ctx.topics.configSet,
        (payload) => this.onConfigSet(payload),
        (payload) => this.onLimited(payload),
      );
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
    const result = commitPatch(evaluatePatch(this.layers, payload));
    if (result.ok) {
      this.log.info(describeResult('config/set', result));
      this.accept(result);
    } else {
      this.log.warn(describeResult('config/set', result));
    }
    this.answer(result);
    return result;
  }

  /** Beyond the rate limit: refused unread (nothing evaluated, written or changed), answered with its requestId. */
  onLimited(payload: Buffer): PatchResult {
    const message = `too many patches (${this.commands.describeLimit()}; mqtt.commandLimits.configSet): nothing changed, send it again later`;
    const result: PatchResult = {
      requestId: requestIdOf(payload, this.ctx.config.remoteConfig.maxBytes),
      ok: false,
      errors: [{ path: '', message }],
      applied: [],
      restartRequired: [],
    };
    this.commands.warn(`config/set${result.requestId ? ` ${result.requestId}` : ''} refused: ${message}`);
    this.answer(result);
    return result;
  }

  private answer(result: PatchResult): void {
    if (!this.answers.push(JSON.stringify(resultPayload(result)))) this.commands.counts.answersDropped! += 1;
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
    await Promise.all([this.sends.settle(), within(3000, this.answers.drained(), 'timeout')]);
  }
}
