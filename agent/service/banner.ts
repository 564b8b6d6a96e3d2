// The start-up banner: one line that says what this agent is running with, so a journal excerpt or a
// support request answers "which version, which file, which camera, which models, which broker" at once.
import { redactText } from '../lib/redact.js';
import type { Logger } from '../lib/logging.js';

export interface BannerFacts {
  version: string;
  configFile: string | null;
  device: string;
  source: string;
  camera: string;
  detector: string;
  classifier: string;
  embedder: string | null;
  /** Execution providers the model workers run on (from their "running on" lines). */
  providers: ReadonlySet<string>;
  broker: string;
}

export function startBanner(f: BannerFacts): string {
  return (
    `percept ${f.version} running: config ${f.configFile ?? '(none: defaults, environment and flags)'}; device ${f.device}; ` +
    `source ${redactText(f.source)} (${f.camera}); models ${f.detector} (detector), ${f.classifier} (attributes), ` +
    `${f.embedder ?? 'no embedder'} (re-identification) on ${[...f.providers].join(', ') || 'cpu'}; broker ${redactText(f.broker)}`
  );
}

/** Wraps a model log so the providers the workers report are collected for the banner. */
export function collectProviders(log: Logger, into: Set<string>): Logger {
  return {
    error: (message) => log.error(message),
    warn: (message) => log.warn(message),
    info: (message) => {
      // WorkerSession.open's one info line per model: "<name>: running on <provider> (<precision>)".
      const m = / running on (\S+) \(/.exec(message);
      if (m) into.add(m[1]!);
      log.info(message);
    },
    debug: (message) => log.debug(message),
  };
}
