// Remote configuration: JSON merge patches on {root}/config/set, answered on {root}/config/result, the
// effective config (secrets redacted) retained on {root}/config — this feature is that topic's one
// publisher; others announce a change with the bus's configChanged — and SIGHUP re-reading the file. The
// decisions (allow list, validation, hot or restart, persistence) are config/'s; this module only moves
// messages.
import { layersOf, type ConfigLayers } from '../config/load.js';
import { applyHot, commitPatch, describeResult, evaluatePatch, reloadFromFile, resultPayload, type PatchResult } from '../config/remote.js';
import { redact } from '../lib/redact.js';
import { getPath } from '../config/keys.js';
import { within } from '../lib/within.js';
import type { ConfigResultBody } from '../contract/payloads.js';
import { CONTRACT_SCHEMA } from '../contract/formats.js';
import { AnswerQueue, CommandGate, requestIdOf } from './command-gate.js';
import { FeatureBase, type FeatureContext } from './feature.js';

/** Patches evaluated per turn of the event loop (about 4 ms each on a loaded 2-core box). */
const PATCHES_PER_TURN = 4;

export class RemoteConfigFeature extends FeatureBase {
  readonly name = 'remote-config';
  /** The layers as accepted so far: the desired config is what they compose to. */
  private layers: ConfigLayers;
  /** The shared command rules: retained patches ignored, a rate limit (patches build on each other, so beyond it they are refused and answered, never dropped). */
  readonly commands: CommandGate;
  private readonly answers: AnswerQueue<ConfigResultBody>;
  /** Patches received but not yet evaluated, then evaluated but not yet committed (see onConfigSet). */
  private readonly inbox: Buffer[] = [];
  private batch: PatchResult[] = [];
  private pendingLayers: ConfigLayers | null = null;

  constructor(ctx: FeatureContext, layers: ConfigLayers | null) {
    super(ctx, 'config');
    this.layers = layers ?? layersOf(ctx.config);
    this.commands = new CommandGate({ name: 'config/set', limit: () => ctx.config.mqtt.commandLimits.configSet, log: ctx.log('config') });
    this.commands.counts.answersDropped = 0;
    this.answers = new AnswerQueue(
      (body) => ctx.publisher.publish('configResult', { schema: CONTRACT_SCHEMA, device: ctx.device, ts: new Date().toISOString(), ...body }),
      (err) => this.commands.warn(`config/result not sent: ${err.message}`),
    );
  }

  private get log() {
    return this.ctx.log('config');
  }

  start(): void {
    const { ctx } = this;
    if (ctx.config.remoteConfig.enabled)
      this.command(
        this.commands,
        ctx.topics.configSet,
        (payload) => this.onConfigSet(payload),
        (payload) => this.onLimited(payload),
      );
    this.onConnect(() => this.publishConfig());
    this.on('reload', () => this.reloadFile());
    this.on('configChanged', () => this.publishConfig());
    this.publishConfig();
  }

  private publishConfig(): void {
    this.publish('config', redact(this.ctx.config));
  }

  private accept(result: PatchResult, publish = true): void {
    // Each applied key with its old and new value (redacted like the retained config) for `log.level: debug`.
    const [before, after] = [redact(this.ctx.config), redact(result.next!)];
    for (const key of result.applied) {
      const at = key.split('.');
      this.log.debug(`config applied: ${key} ${JSON.stringify(getPath(before, at))} → ${JSON.stringify(getPath(after, at))}`);
    }
    applyHot(this.ctx.config, result.next!);
    this.layers = result.layers!;
    if (publish) this.publishConfig();
    this.ctx.bus.emit('config', result);
  }

  /**
   * Patches are queued and worked off a few per turn of the event loop (a burst never holds the frame
   * loop for long), each evaluated on top of the ones before; when the queue is empty they are committed
   * with one durable write of the overrides (group commit) and answered. A burst of 100 patches used to be
   * 100 evaluations, 100 writes with two fsyncs each and 100 config publications in one go. A dry run
   * (config diff/apply asking first) is evaluated on top of the patches before it and only answered.
   */
  onConfigSet(payload: Buffer): void {
    if (this.inbox.push(payload) === 1) setImmediate(() => this.work());
  }

  private work(all = false): void {
    for (let n = 0; (all || n < PATCHES_PER_TURN) && this.inbox.length; n++) {
      const result = evaluatePatch(this.pendingLayers ?? this.layers, this.inbox.shift()!);
      if (result.ok && !result.dryRun) this.pendingLayers = result.layers!;
      this.batch.push(result);
    }
    if (this.inbox.length) setImmediate(() => this.work());
    else this.commitBatch();
  }

  private commitBatch(): void {
    const batch = this.batch.splice(0);
    this.pendingLayers = null;
    const applied = batch.filter((r) => r.ok && !r.dryRun);
    const last = applied.at(-1);
    // Written before anything is applied: the last layers carry every saved patch of the batch (unsaved
    // ones stay out of what is written); a failed write refuses every patch of the batch, nothing is
    // half-applied.
    const commit = last ? commitPatch({ ...last, save: applied.some((r) => r.save) }) : null;
    const results = batch.map((r) =>
      r.ok && !r.dryRun && commit ? (commit.ok ? { ...r, saved: r.save ? commit.saved : false } : { ...commit, requestId: r.requestId }) : r,
    );
    for (const result of results) {
      if (result.dryRun) this.log.info(describeResult('config/set (dry run)', result));
      else if (result.ok) {
        this.log.info(describeResult('config/set', result));
        this.accept(result, false);
      } else this.log.warn(describeResult('config/set', result));
    }
    // The effective config goes out before the answers: whoever reads "ok" and then {root}/config sees the change.
    if (commit?.ok) this.publishConfig();
    for (const result of results) this.answer(result);
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
    if (!this.answers.push(resultPayload(result))) this.commands.counts.answersDropped! += 1;
  }

  /** The config file a reload reads (null: a config built in code). */
  get fileName(): string | null {
    return this.layers.fileName;
  }

  /** SIGHUP: the file again in place of the file layer; flags, environment and overrides kept. */
  reloadFile(): PatchResult {
    if (this.inbox.length || this.batch.length) this.work(true); // the file goes under the patches already received
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

  protected override async finish(): Promise<void> {
    if (this.inbox.length || this.batch.length) this.work(true);
    await within(3000, this.answers.drained(), 'timeout');
  }
}
