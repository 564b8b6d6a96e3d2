// winston, to stderr only (stdout is reserved for --print-events): JSON lines when stderr is not a
// terminal (journald), readable lines otherwise; per-namespace levels on top of the global one.
import winston, { format, type Logger } from 'winston';
import { redactText } from './redact.js';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type Level = (typeof LEVELS)[number];
const rank = (l: string) => LEVELS.indexOf(l as Level);

export type { Logger };

/** The log section of the config, restated here so lib/ does not depend on config/. */
export interface LogConfig {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  namespaces: Record<string, string>;
}

/** The most verbose of the global and per-namespace levels: the logger's own level. */
export function mostVerbose(cfg: LogConfig): Level {
  return [cfg.level, ...Object.values(cfg.namespaces)].reduce<Level>((a, b) => (rank(b) > rank(a) ? (b as Level) : a), 'error');
}

export function createLogger(cfg: LogConfig, stream: NodeJS.WriteStream = process.stderr): Logger {
  const json = cfg.format === 'json' || (cfg.format === 'auto' && !stream.isTTY);
  const levelFor = (ns: string | undefined) => (ns && cfg.namespaces[ns]) || cfg.level;
  const byNamespace = format((info) => (rank(info.level) <= rank(levelFor(info.ns as string | undefined)) ? info : false));
  // Every line, whoever wrote it: URIs in camera and broker messages may carry a password.
  const redacted = format((info) => {
    if (typeof info.message === 'string') info.message = redactText(info.message);
    return info;
  });
  const pretty = format.printf((info) => {
    const ns = info.ns ? ` [${info.ns as string}]` : '';
    return `${info.timestamp as string} ${info.level}${ns} ${info.message as string}`;
  });
  return winston.createLogger({
    level: mostVerbose(cfg),
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: format.combine(
      byNamespace(),
      redacted(),
      format.timestamp(),
      json ? format.json() : stream.isTTY ? format.combine(format.colorize(), pretty) : pretty,
    ),
    transports: [new winston.transports.Stream({ stream })],
  });
}

export function child(log: Logger, ns: string): Logger {
  return log.child({ ns });
}
