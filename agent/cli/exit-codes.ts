import { ConfigError, EXIT_CONFIG } from '../config/load.js';
import { ModelError } from '../inference/manifest.js';
import { SourceError } from '../capture/opencv-source.js';
import { StateDirError } from '../lib/state-dir.js';

/** sysexits: EX_DATAERR for a bad model, EX_NOINPUT for a source that cannot be opened. */
export const EXIT_MODEL = 65;
export const EXIT_SOURCE = 66;
export { EXIT_CONFIG };

/** The exit code for an error that ends a command: config 78, model 65, source 66, state directory 73, other 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT_CONFIG;
  if (err instanceof ModelError) return EXIT_MODEL;
  if (err instanceof SourceError) return EXIT_SOURCE;
  if (err instanceof StateDirError) return err.exitCode;
  return 1;
}
