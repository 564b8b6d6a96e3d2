// Which detector runs: the configured model directory, else YuNet when it has been fetched, else the
// converted SSD (always there after setup). The manifest's outputs say which adapter decodes it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CV } from '../capture/opencv.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_MODELS } from '../inference/default-models.js';
import { loadManifest, ModelError } from '../inference/manifest.js';
import type { SessionOptions } from '../inference/worker-session.js';
import { GridDetector } from './grid-detector.js';
import { SsdDetector } from './ssd-detector.js';
import type { FaceDetector } from './detector.js';

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
  log?: (m: string) => void,
  defaults?: { yunet: string; ssd: string },
): Promise<FaceDetector> {
  const { dir, why } = chooseDetectorDir(detector.model, defaults);
  const types = loadManifest(dir).manifest.outputs.map((o) => o.type);
  let opened: GridDetector | SsdDetector;
  if (types.includes('grid-box-offsets')) opened = await GridDetector.open(cv, dir, detector, session, log);
  else if (types.includes('ssd-box-encodings')) opened = await SsdDetector.open(cv, dir, detector, session, log);
  else throw new ModelError(dir, ['no detector adapter decodes these outputs (need ssd-box-encodings or grid-box-offsets)']);
  log?.(`detector: ${opened.name} — ${why}`);
  return opened;
}
