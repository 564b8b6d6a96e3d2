// The features the agent runs, in start order (stopped in reverse). A new MQTT feature is one module in
// this folder plus its topic and payload in agent/contract, and one line here.
import type { ConfigLayers } from '../config/load.js';
import type { Feature, FeatureContext } from './feature.js';
import { AudienceFeature } from './audience.js';
import { DailySummaryFeature } from './daily-summary.js';
import { HomeAssistantFeature } from './homeassistant.js';
import { ImpressionsFeature } from './impressions.js';
import { ModelSwitchFeature, type ModelSwitchDeps } from './model-switch.js';
import { NearestFeature } from './nearest.js';
import { OpeningHoursFeature, type PausableCamera } from './opening-hours.js';
import { PreviewFeature } from './preview.js';
import { RemoteConfigFeature } from './remote-config.js';
import { StatsFeature } from './stats.js';
import { CommandRegistry } from './command-gate.js';

export interface FeatureDeps {
  configFile: string | null;
  /** The config layers as loaded (file, overrides, environment, flags); null: the config counts as the file. */
  layers?: ConfigLayers | null;
  /** A live camera, when the source is one (opening hours pause it). */
  camera: PausableCamera | null;
  statsSnapshot: () => object;
  /** The running classifier and how to open another: config changes of classifier.models switch it. */
  models?: ModelSwitchDeps;
}

export function buildFeatures(ctx: FeatureContext, deps: FeatureDeps): Feature[] {
  const commands = new CommandRegistry();
  const remote = new RemoteConfigFeature(ctx, deps.layers ?? null);
  const ha = new HomeAssistantFeature(ctx);
  const impressions = new ImpressionsFeature(ctx);
  for (const gate of [remote.commands, impressions.commands, ha.commands]) commands.add(gate);
  return [
    remote,
    ...(deps.models ? [new ModelSwitchFeature(ctx, deps.models)] : []),
    ha,
    new AudienceFeature(ctx),
    new StatsFeature(ctx, deps.statsSnapshot, commands),
    new DailySummaryFeature(ctx),
    impressions,
    new NearestFeature(ctx),
    ...(deps.camera ? [new OpeningHoursFeature(ctx, deps.camera)] : []),
    new PreviewFeature(ctx),
  ];
}

export type { Feature, FeatureContext };
