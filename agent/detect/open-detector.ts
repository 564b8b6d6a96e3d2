// Which detector runs: the configured model directory, else YuNet when it has been fetched, else the
// converted SSD (always there after setup). The manifest's outputs pick the adapter from DETECTORS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CV } from '../capture/opencv.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_MODELS } from '../inference/default-models.js';
import { openModel, type AdapterRegistry } from '../inference/model-adapter.js';
import type { SessionOptions } from '../inference/worker-session.js';
import type { Logger } from '../lib/logging.js';
import { GridDetector } from './grid-detector.js';
import { SsdDetector } from './ssd-detector.js';
import type { FaceDetector } from './detector.js';

/** Every detector adapter, in order of preference when a manifest would suit several. */
export const DETECTORS: AdapterRegistry<FaceDetector, { cv: CV; options: Config['detector'] }> = [GridDetector.adapter, SsdDetector.adapter];

/** The model directory to use and why, in one line for the log. */
export function chooseDetectorDir(
  configured: string,
  defaults: { yunet: string; ssd: string } = {
    yunet: DEFAULT_MODELS.yunet,
    ssd: DEFAULT_MODELS.detector,
  },
): { dir: string; why: string } {
  if (configured) return { dir: configured, why: 'detector.model in the config' };
  if (existsSync(join(defaults.yunet, 'model.json')))
    return {
      dir: defaults.yunet,
      why: `default: YuNet is installed (${defaults.yunet})`,
    };
  return {
    dir: defaults.ssd,
    why: `default: YuNet is not installed (no ${join(defaults.yunet, 'model.json')}; "percept models fetch yunet-n" installs it), using the converted SSD`,
  };
}

/** Opens the adapter the manifest calls for. `log` gets one line saying which detector and why. */
export async function openDetector(
  cv: CV,
  detector: Config['detector'],
  session: SessionOptions,
  log?: Logger,
  defaults?: { yunet: string; ssd: string },
): Promise<FaceDetector> {
  const { dir, why } = chooseDetectorDir(detector.model, defaults);
  const opened = await openModel(DETECTORS, dir, { cv, options: detector }, session, log);
  log?.info(`detector: ${opened.name} — ${why}`);
  return opened;
}
