// Config versions: the YAML file and the stored overrides may say `version: N` (absent: 1). A document
// from an older version is brought up to this one in memory, one small pure step per version, so a key
// renamed in a later release keeps its value; the YAML under /etc is never rewritten (it is read-only to
// the service and a package conffile). A document from a newer version is refused: guessing what its keys
// mean could apply a setting wrongly.
import { ConfigError } from './errors.js';

/** The version this release reads and writes. */
export const CONFIG_VERSION = 1;

/** Takes a document of version n (without its `version` key) to version n + 1. Pure: returns a new object. */
export type Migration = (doc: Record<string, unknown>) => Record<string, unknown>;

/**
 * MIGRATIONS[n] migrates version n to n + 1. Version 1 is the first versioned format and nothing has
 * been renamed since, so the table is empty; a release that renames a key adds its step here (with a
 * unit test) and raises CONFIG_VERSION.
 */
export const MIGRATIONS: Readonly<Record<number, Migration>> = {};

export interface Migrated {
  doc: Record<string, unknown>;
  /** The version the document said (or 1). */
  from: number;
}

/** The document at `current`, without its `version` key; ConfigError for a newer or malformed version. */
export function migrate(
  raw: Record<string, unknown>,
  source: string,
  table: Readonly<Record<number, Migration>> = MIGRATIONS,
  current = CONFIG_VERSION,
): Migrated {
  const { version, ...rest } = raw;
  const from = version === undefined ? 1 : version;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1)
    throw new ConfigError(source, [{ path: 'version', message: `must be a whole number from 1 (absent means 1); got ${JSON.stringify(version)}` }]);
  if (from > current)
    throw new ConfigError(source, [
      { path: 'version', message: `written by a newer percept (config version ${from}; this release reads up to ${current}); upgrade percept` },
    ]);
  let doc: Record<string, unknown> = rest;
  for (let v = from; v < current; v++) {
    const step = table[v];
    if (!step) throw new Error(`no config migration from version ${v} to ${v + 1}`);
    doc = step(doc);
  }
  return { doc, from };
}
