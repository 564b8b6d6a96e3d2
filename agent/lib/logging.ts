// winston, to stderr only (stdout is reserved for --print-events): JSON lines when stderr is not a
// terminal (journald), readable lines otherwise; per-namespace levels on top of the global one.
import { fstatSync } from 'node:fs';
import winston, { format, type Logger as WinstonLogger } from 'winston';
import { redactText } from './redact.js';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type Level = (typeof LEVELS)[number];
const rank = (l: string) => LEVELS.indexOf(l as Level);

/**
 * The one logger shape: everything in percept logs through it. winston's logger is one; a test or a tool
 * passes a plain object with the four levels. A part that logs under its own namespace gets child(log, ns).
 */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** winston's namespaced child; for a plain object without one, child(log, ns) is the object itself (no [ns] tag). */
  child?(meta: { ns: string }): Logger;
}

const quiet = (): void => undefined;

/** A Logger that drops every line: the default where a part's log is optional, so it never checks for one. */
export const silentLogger: Logger = { error: quiet, warn: quiet, info: quiet, debug: quiet };

/**
 * The process's root logger (createLogger's): winston's, for the two things only the root does (its level
 * follows a config reload; tests listen to its stream). Everything below it takes a Logger.
 */
export type RootLogger = WinstonLogger;

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

// C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides: from a remote string
// (a content id, a topic) they would move the cursor, clear the screen (ESC [2J), recolour or forge a log
// line of their own (\n) in a terminal. ESC is C0, so escaping it defuses every ANSI sequence.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');

/** One printable line: controls as \n, \xNN or \uNNNN escapes (the pretty format). */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${hex(c)}` : `\\u${hex(c).padStart(4, '0')}`));
}

/** JSON escapes C0 but leaves C1, DEL and U+2028/9 raw; inside a JSON line they are escaped as \uNNNN (still the same JSON). */
export function escapeJsonLine(line: string): string {
  return line.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${hex(c).padStart(4, '0')}`);
}

/** Where winston keeps the finished line (triple-beam's MESSAGE, a registered symbol). */
const MESSAGE = Symbol.for('message');

/** sd-daemon(3) priorities: journald reads a leading <N> on each line of a service's stream as the entry's priority. */
const JOURNAL_PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Whether `stream` is the journal: systemd sets JOURNAL_STREAM to the "device:inode" of the stream it
 * connected, and only a stream with that very device and inode is it (a redirect to a file inherits the
 * variable but not the inode), as systemd.exec(5) asks programs to check.
 */
export function isJournalStream(stream: object, env: NodeJS.ProcessEnv = process.env): boolean {
  const expected = env.JOURNAL_STREAM;
  const fd = (stream as { fd?: unknown }).fd;
  if (!expected || typeof fd !== 'number') return false;
  try {
    const st = fstatSync(fd);
    return `${st.dev}:${st.ino}` === expected;
  } catch {
    return false;
  }
}

export function createLogger(cfg: LogConfig, stream: NodeJS.WriteStream = process.stderr): RootLogger {
  const json = cfg.format === 'json' || (cfg.format === 'auto' && !stream.isTTY);
  const levelFor = (ns: string | undefined) => (ns && cfg.namespaces[ns]) || cfg.level;
  const byNamespace = format((info) => (rank(info.level) <= rank(levelFor(info.ns as string | undefined)) ? info : false));
  // Every line, whoever wrote it: URIs in camera and broker messages may carry a password.
  const redacted = format((info) => {
    if (typeof info.message === 'string') info.message = redactText(info.message);
    return info;
  });
  const pretty = format.printf((info) => {
    const ns = info.ns ? ` [${escapeControls(String(info.ns))}]` : '';
    return `${info.timestamp as string} ${info.level}${ns} ${escapeControls(String(info.message))}`;
  });
  const jsonLine = format((info) => {
    const line = (info as Record<symbol, unknown>)[MESSAGE];
    if (typeof line === 'string') (info as Record<symbol, unknown>)[MESSAGE] = escapeJsonLine(line);
    return info;
  });
  // Under systemd every line would otherwise reach the journal at info (journalctl -p warning: empty).
  const journal = isJournalStream(stream);
  const priority = format((info) => {
    const line = (info as Record<symbol, unknown>)[MESSAGE];
    if (typeof line === 'string') (info as Record<symbol, unknown>)[MESSAGE] = `<${JOURNAL_PRIORITY[info.level] ?? 6}>${line}`;
    return info;
  });
  return winston.createLogger({
    level: mostVerbose(cfg),
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: format.combine(
      byNamespace(),
      redacted(),
      format.timestamp(),
      json ? format.combine(format.json(), jsonLine()) : stream.isTTY ? format.combine(format.colorize(), pretty) : pretty,
      ...(journal ? [priority()] : []),
    ),
    transports: [new winston.transports.Stream({ stream })],
  });
}

/** The logger for namespace `ns` (its lines carry [ns], its level is logging.namespaces[ns]). */
export function child(log: RootLogger, ns: string): RootLogger;
export function child(log: Logger, ns: string): Logger;
export function child(log: Logger, ns: string): Logger {
  return log.child ? log.child({ ns }) : log;
}
