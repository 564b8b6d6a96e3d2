// A Logger for tests: records each line as "level: message", so a test can check both that a line was
// logged and at which level (a warning that became an info line would otherwise pass unnoticed).
import type { Logger } from '../../agent/lib/logging.js';

export interface LogLines {
  log: Logger;
  /** Every line so far, in order, as "error: …", "warn: …", "info: …" or "debug: …". */
  lines: string[];
}

export function logLines(): LogLines {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { log: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, lines };
}
