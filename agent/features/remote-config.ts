// Remote configuration: JSON merge patches on {root}/config/set, answered on {root}/config/result, the
// effective config (secrets redacted) retained on {root}/config, and SIGHUP re-reading the file. The
// decisions (validation, hot or restart, persistence) are config/'s; this module only moves messages.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Config } from '../config/schema.js';
import { loadConfig, redact } from '../config/load.js';
import { applyHot, evaluatePatch, type PatchResult } from '../config/remote.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class RemoteConfigFeature implements Feature {
  readonly name = 'remote-config';
  private readonly sends: Sends;
  /** The config as accepted by patches, including keys that wait for a restart. */
  private desired: Config;
  private off: (() => void) | null = null;

  constructor(private readonly ctx: FeatureContext, private readonly configFile: string | null) {
    this.sends = new Sends(ctx.log('config'));
    this.desired = structuredClone(ctx.config);
  }

  private get log() { return this.ctx.log('config'); }

  start(): void {
    const { ctx } = this;
    if (ctx.config.remoteConfig.enabled) ctx.publisher.subscribe(ctx.topics.configSet, (_t, payload) => this.onConfigSet(payload));
    ctx.publisher.onConnect(() => this.publishConfig());
    this.off = ctx.bus.on('reload', () => this.reloadFile());
    this.publishConfig();
  }

  private publishConfig(): void {
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.config, JSON.stringify(redact(this.ctx.config)), true));
  }

  private accept(result: PatchResult & { next: Config }): void {
    applyHot(this.ctx.config, result.next);
    this.desired = result.next;
    this.publishConfig();
    this.ctx.bus.emit('config', result);
  }

  onConfigSet(payload: Buffer): PatchResult {
    const { config } = this.ctx;
    const result = evaluatePatch(this.desired, payload, config.remoteConfig.maxBytes);
    if (result.ok && result.next) {
      if (config.remoteConfig.persist && this.configFile) this.persist([...result.applied, ...result.restartRequired], result.next);
      this.log.info(`config/set${result.requestId ? ` ${result.requestId}` : ''}: applied ${result.applied.join(', ') || 'nothing'}` +
        (result.restartRequired.length ? `; after a restart: ${result.restartRequired.join(', ')}` : ''));
      this.accept({ ...result, next: result.next });
    } else {
      this.log.warn(`config/set rejected: ${result.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`);
    }
    const { next: _next, ...reply } = result;
    this.sends.add(this.ctx.publisher.publishRaw(this.ctx.topics.configResult, JSON.stringify(reply), false));
    return result;
  }

  /** SIGHUP: the config file again, applied like a patch that replaces every key. */
  reloadFile(): PatchResult | null {
    if (!this.configFile) {
      this.log.warn('SIGHUP: no config file to reload (started without --config or /etc/percept/percept.yaml)');
      return null;
    }
    let fresh: Config;
    try {
      fresh = loadConfig({ file: this.configFile }).config;
    } catch (err) {
      this.log.error(`SIGHUP: ${(err as Error).message.replace(/\n/g, ' ')}; nothing changed`);
      return null;
    }
    const result = evaluatePatch(this.desired, JSON.stringify(fresh), Number.MAX_SAFE_INTEGER);
    if (result.ok && result.next) {
      this.log.info(`SIGHUP: reloaded ${this.configFile}: applied ${result.applied.join(', ') || 'nothing'}` +
        (result.restartRequired.length ? `; needs a restart: ${result.restartRequired.join(', ')}` : ''));
      this.accept({ ...result, next: result.next });
    }
    return result;
  }

  /** Writes accepted keys into the YAML file, keeping its comments and layout (atomic replace). */
  private persist(paths: string[], next: Config): void {
    const file = this.configFile!;
    try {
      const doc = parseDocument(readFileSync(file, 'utf8'));
      for (const p of paths) {
        const keys = p.split('.');
        let v: unknown = next;
        for (const k of keys) v = (v as Record<string, unknown>)[k];
        doc.setIn(keys, v);
      }
      writeFileSync(`${file}.tmp`, doc.toString());
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.error(`config/set: could not write ${file}: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.off?.();
    await this.sends.settle();
  }
}
