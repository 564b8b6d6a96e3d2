// Switching the attribute model while the agent runs: when a config change (SIGHUP after `percept models
// use`, or an allowed remote patch) names other classifier.models, the new models are opened in their
// workers and proven (sha256 of every file, graph against the manifest, one inference), then swapped in
// behind the pipeline's classifier. Visits, their fused labels, the tracker and the event seq are not
// touched: the next classification simply comes from the new model. A model that fails is never switched
// to: the old one keeps running, the live config keeps naming it (so {root}/config tells the truth), and
// the refusal is logged with its reason. The outcome is also written to the state directory
// (active-model.json) and answered over the control socket, for `percept models use` to report.
//
// A switch has a deadline (SWITCH_DEADLINE_FACTOR × inference.timeoutMs): an open that misses it (a model
// on a stalled network volume) is refused, so later switches never queue behind it, and a stop does not
// wait for it: a model that finishes opening after the stop is closed at once.
import { join } from 'node:path';
import type { Classifier } from '../classify/classifier.js';
import type { SwitchableClassifier } from '../classify/switchable-classifier.js';
import type { PatchResult } from '../config/remote.js';
import { writeDurable } from '../lib/durable.js';
import { within } from '../lib/within.js';
import { SWITCH_DEADLINE_FACTOR } from '../inference/worker-session.js';
import { FeatureBase, type FeatureContext } from './feature.js';

export const ACTIVE_MODEL_FILE = 'active-model.json';

/** What active-model.json holds: the models running, and the last switch that was refused, if any. */
export interface ActiveModelRecord {
  /** classifier.models of the running classifier ([] = the default nets). */
  models: string[];
  name: string;
  at: string;
  refused?: { models: string[]; error: string };
}

export interface ModelSwitchDeps {
  classifier: SwitchableClassifier;
  /** Opens and verifies the models a classifier.models value names; throws (naming why) when they fail. */
  open(models: readonly string[]): Promise<Classifier>;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const describe = (models: readonly string[]) => (models.length ? models.join(', ') : 'the default models');

export class ModelSwitchFeature extends FeatureBase {
  readonly name = 'model-switch';
  private active: string[];
  /** The latest models asked for: an older request still opening is dropped when a newer one came. */
  private wanted: string[];
  private lastRefused: string[] | null = null;
  private last: ActiveModelRecord | null = null;
  private switching: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    ctx: FeatureContext,
    private readonly deps: ModelSwitchDeps,
  ) {
    super(ctx, 'models');
    this.active = [...ctx.config.classifier.models];
    this.wanted = this.active;
  }

  private get log() {
    return this.ctx.log('models');
  }

  start(): void {
    // No record at start: it is written when a switch is asked for (what `models use` waits on).
    this.on('config', (result) => this.onConfig(result));
  }

  private onConfig(result: PatchResult): void {
    if (!result.next) return;
    const wanted = [...result.next.classifier.models];
    const reload = 'removed' in result; // a SIGHUP retries a refused model; another patch does not
    const fileModels = (result.layers?.file.classifier as { models?: string[] } | undefined)?.models;
    if (reload && fileModels && !same(fileModels, wanted) && !same(fileModels, this.active)) {
      const error = `the file's classifier.models (${describe(fileModels)}) is overridden by a command-line flag (--model) or the environment; restart without it`;
      this.log.warn(`model switch: ${error}`);
      this.record({ models: fileModels, error });
    }
    if (same(wanted, this.active)) {
      this.wanted = wanted;
      if (reload) this.record(); // answers `models use` naming the model that already runs
      return;
    }
    // Until the new model is proven, the live config keeps naming the one that runs.
    this.ctx.config.classifier.models = [...this.active];
    this.publishConfig();
    if (!reload && this.lastRefused && same(wanted, this.lastRefused)) return;
    this.wanted = wanted;
    this.switching = this.switching.then(() => this.switchTo(wanted));
  }

  /** Resolves when the switches asked for so far are done or refused (tests, the control socket). */
  settled(): Promise<void> {
    return this.switching;
  }

  /** The last outcome recorded (what active-model.json holds), or null when none was asked for. */
  outcome(): ActiveModelRecord | null {
    return this.last;
  }

  private get deadlineMs(): number {
    return SWITCH_DEADLINE_FACTOR * this.ctx.config.inference.timeoutMs;
  }

  private async switchTo(models: string[]): Promise<void> {
    if (this.stopped || !same(models, this.wanted) || same(models, this.active)) return;
    const from = this.deps.classifier.name;
    this.log.info(`model switch: opening and verifying ${describe(models)} (still classifying with ${from})`);
    let next: Classifier;
    const opening = this.deps.open(models);
    try {
      const got = await within(this.deadlineMs, opening, null);
      if (got === null) {
        // Whatever it opens later is closed: it is never switched to.
        opening.then((c) => c.close()).catch(() => undefined);
        throw new Error(`opening and verifying took longer than ${this.deadlineMs / 1000} s (${SWITCH_DEADLINE_FACTOR} × inference.timeoutMs): abandoned`);
      }
      next = got;
    } catch (err) {
      const error = (err as Error).message;
      this.lastRefused = models;
      this.record({ models, error });
      this.log.error(`model switch to ${describe(models)} refused: ${error}; still running ${from}`);
      return;
    }
    if (this.stopped) {
      await next.close();
      return;
    }
    // New calls go to the new model at once; the old one closes after the calls it had accepted.
    const retired = this.deps.classifier.swap(next);
    this.active = models;
    this.lastRefused = null;
    this.ctx.config.classifier.models = [...models];
    this.publishConfig();
    this.ctx.bus.emit('status', { model: next.name });
    this.record();
    this.log.info(`model switched: ${from} → ${next.name} (${describe(models)}); visits and events continue`);
    await retired.catch((err: Error) => this.log.warn(`closing ${from}: ${err.message}`));
  }

  /** {root}/config is remote-config's: it republishes the live config on this event. */
  private publishConfig(): void {
    this.ctx.bus.emit('configChanged', { by: this.name });
  }

  private record(refused?: ActiveModelRecord['refused']): void {
    const rec: ActiveModelRecord = { models: this.active, name: this.deps.classifier.name, at: new Date().toISOString(), ...(refused ? { refused } : {}) };
    this.last = rec;
    try {
      writeDurable(join(this.ctx.stateDir, ACTIVE_MODEL_FILE), `${JSON.stringify(rec)}\n`);
    } catch (err) {
      this.log.warn(`cannot write ${ACTIVE_MODEL_FILE}: ${(err as Error).message}`);
    }
  }

  /** A switch still opening is not waited for (it may hang until its deadline): it closes what it opens once it sees the stop. */
  protected override finish(): void {
    this.stopped = true;
  }
}
