// A Logger for tests: records each line as "level: message", so a test can check both that a line was
// logged and at which level (a warning that became an info line would otherwise pass unnoticed).
import type { Logger } from '../../agent/lib/logging.js';

type Level = 'error' | 'warn' | 'info' | 'debug';

export interface LogLines {
  log: Logger;
  /** Every line so far, in order, as "error: …", "warn: …", "info: …" or "debug: …". */
  lines: string[];
  /** The messages logged at `level` so far, without the prefix. */
  at(level: Level): string[];
}

export function logLines(): LogLines {
  const lines: string[] = [];
  const to = (level: Level) => (message: string) => void lines.push(`${level}: ${message}`);
  return {
    log: { error: to('error'), warn: to('warn'), info: to('info'), debug: to('debug') },
    lines,
    at: (level) => lines.filter((l) => l.startsWith(`${level}: `)).map((l) => l.slice(level.length + 2)),
  };
}
