// The device's state topics besides events: the retained audience snapshot (on change, at most once a
// second), periodic stats, the retained effective config and remote patches on config/set, and Home
// Assistant discovery.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Config } from '../config/schema.js';
import { loadConfig, redact } from '../config/load.js';
import { applyHot, evaluatePatch, type PatchResult } from '../config/remote.js';
import { AudienceThrottle, audiencePayload } from '../publish/audience.js';
import { discoveryMessages } from '../publish/homeassistant.js';
import type { Publisher } from '../publish/publisher.js';
import type { AudiencePerson } from '../track/visits.js';
import type { Logger } from './logging.js';

export interface DeviceTopicsOptions {
  root: string;
  device: string;
  version: string;
  model: string;
  /** The live config: hot keys of accepted patches are written into it. */
  live: Config;
  configFile: string | null;
  log: Logger;
  statsSnapshot: () => object;
  present: () => AudiencePerson[];
  onApplied?: (result: PatchResult) => void;
}

export class DeviceTopics {
  private readonly throttle = new AudienceThrottle(1000);
  private audienceTimer: NodeJS.Timeout | null = null;
  private audienceTs = 0;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly inflight = new Set<Promise<void>>();
  /** The config as accepted by patches, including keys that wait for a restart. */
  private desired: Config;

  constructor(private readonly pub: Publisher, private readonly o: DeviceTopicsOptions) {
    this.desired = structuredClone(o.live);
  }

  start(): void {
    const { live } = this.o;
    if (live.remoteConfig.enabled) this.pub.subscribe(`${this.o.root}/config/set`, (_t, payload) => this.onConfigSet(payload));
    this.pub.subscribe(`${live.homeassistant.prefix}/status`, (_t, payload) => {
      if (String(payload) === 'online' && live.homeassistant.enabled) this.publishDiscovery();
    });
    this.publishConfig();
    this.publishDiscovery();
    this.pub.onConnect(() => { this.publishConfig(); this.publishDiscovery(); });
    this.statsTimer = setInterval(() => this.send(this.pub.publishStats(this.o.statsSnapshot())), live.mqtt.statsIntervalS * 1000);
    this.statsTimer.unref();
  }

  private send(p: Promise<void>): void {
    const tracked: Promise<void> = p.catch((err: Error) => { this.o.log.warn(err.message); }).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Called after every frame with the people present. */
  audience(people: AudiencePerson[], ts: number): void {
    this.audienceTs = ts;
    if (this.throttle.due(people, Date.now())) {
      this.send(this.pub.publishAudience(audiencePayload(people, ts, this.o.device)));
    } else if (!this.audienceTimer && this.throttle.changed(people)) {
      // A change inside the second is published when the second is up, even if frames stop coming.
      this.audienceTimer = setTimeout(() => {
        this.audienceTimer = null;
        const now = this.o.present();
        if (this.throttle.due(now, Date.now())) this.send(this.pub.publishAudience(audiencePayload(now, this.audienceTs, this.o.device)));
      }, 1000);
    }
  }

  private publishConfig(): void {
    this.send(this.pub.publishRaw(`${this.o.root}/config`, JSON.stringify(redact(this.o.live)), true));
  }

  private publishDiscovery(): void {
    const { live } = this.o;
    for (const m of discoveryMessages({ prefix: live.homeassistant.prefix, root: this.o.root, device: this.o.device, version: this.o.version, model: this.o.model }, live.homeassistant.enabled)) {
      this.send(this.pub.publishRaw(m.topic, m.payload, true));
    }
  }

  onConfigSet(payload: Buffer): PatchResult {
    const { live, log } = this.o;
    const result = evaluatePatch(this.desired, payload, live.remoteConfig.maxBytes);
    if (result.ok && result.next) {
      const haBefore = live.homeassistant.enabled;
      applyHot(live, result.next);
      this.desired = result.next;
      if (live.remoteConfig.persist && this.o.configFile) this.persist([...result.applied, ...result.restartRequired]);
      log.info(`config/set${result.requestId ? ` ${result.requestId}` : ''}: applied ${result.applied.join(', ') || 'nothing'}` +
        (result.restartRequired.length ? `; after a restart: ${result.restartRequired.join(', ')}` : ''));
      if (haBefore !== live.homeassistant.enabled) this.publishDiscovery();
      this.publishConfig();
      this.o.onApplied?.(result);
    } else {
      log.warn(`config/set rejected: ${result.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`);
    }
    const { next: _next, ...reply } = result;
    this.send(this.pub.publishRaw(`${this.o.root}/config/result`, JSON.stringify(reply), false));
    return result;
  }

  /** SIGHUP: the config file again, applied like a patch that replaces every key. */
  reloadFile(): PatchResult | null {
    const { log } = this.o;
    if (!this.o.configFile) {
      log.warn('SIGHUP: no config file to reload (started without --config or /etc/percept/percept.yaml)');
      return null;
    }
    let fresh: Config;
    try {
      fresh = loadConfig({ file: this.o.configFile }).config;
    } catch (err) {
      log.error(`SIGHUP: ${(err as Error).message.replace(/\n/g, ' ')}; nothing changed`);
      return null;
    }
    const result = evaluatePatch(this.desired, JSON.stringify(fresh), Number.MAX_SAFE_INTEGER);
    if (result.ok && result.next) {
      applyHot(this.o.live, result.next);
      this.desired = result.next;
      log.info(`SIGHUP: reloaded ${this.o.configFile}: applied ${result.applied.join(', ') || 'nothing'}` +
        (result.restartRequired.length ? `; needs a restart: ${result.restartRequired.join(', ')}` : ''));
      this.publishConfig();
      this.o.onApplied?.(result);
    }
    return result;
  }

  /** Writes accepted keys into the YAML file, keeping its comments and layout (atomic replace). */
  private persist(paths: string[]): void {
    const file = this.o.configFile!;
    try {
      const doc = parseDocument(readFileSync(file, 'utf8'));
      for (const p of paths) {
        const keys = p.split('.');
        let v: unknown = this.desired;
        for (const k of keys) v = (v as Record<string, unknown>)[k];
        doc.setIn(keys, v);
      }
      writeFileSync(`${file}.tmp`, doc.toString());
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.o.log.error(`config/set: could not write ${file}: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.audienceTimer) clearTimeout(this.audienceTimer);
    const now = this.o.present();
    // The last snapshot (usually nobody left) must not be lost to the once-a-second limit.
    if (this.throttle.changed(now)) this.send(this.pub.publishAudience(audiencePayload(now, this.audienceTs, this.o.device)));
    await Promise.allSettled([...this.inflight]);
  }
}
