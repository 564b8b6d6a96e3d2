import { ConfigError, EXIT_CONFIG } from '../config/load.js';
import { ModelError } from '../inference/manifest.js';
import { SourceError } from '../capture/opencv-source.js';
import { StateDirError } from '../lib/state-dir.js';

/** sysexits: EX_DATAERR for a bad model, EX_NOINPUT for a source that cannot be opened. */
export const EXIT_MODEL = 65;
export const EXIT_SOURCE = 66;
export { EXIT_CONFIG };
/** sysexits EX_USAGE: an unknown command, a misspelt flag, a missing argument. */
export const EXIT_USAGE = 64;
/** sysexits EX_UNAVAILABLE: a device did not answer (agent stopped, wrong id, broker unreachable). */
export const EXIT_NO_ANSWER = 69;
/** sysexits EX_SOFTWARE: a forced stop (a third signal, or shutdown beyond its grace); what it dropped is logged. */
export const EXIT_FORCED = 70;
/** A running device (or the local check before sending) refused a config change. */
export const EXIT_REFUSED = 1;

/** The exit code for an error that ends a command: config 78, model 65, source 66, state directory 73, other 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT_CONFIG;
  if (err instanceof ModelError) return EXIT_MODEL;
  if (err instanceof SourceError) return EXIT_SOURCE;
  if (err instanceof StateDirError) return err.exitCode;
  return 1;
}
