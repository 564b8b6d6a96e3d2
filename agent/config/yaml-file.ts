// Reading a YAML config file: size and alias limits, every failure a ConfigError naming the file, and
// the file's `version` migrated in memory (the file itself is never rewritten).
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.js';
import { migrate } from './migrations.js';
import { firstLine } from '../lib/must.js';

/** A config file is a few kB; anything near this is a mistake or an attack, refused before parsing. */
export const MAX_FILE_BYTES = 1_048_576;
/** YAML aliases expanded while reading a file; more is an alias bomb. */
const MAX_ALIASES = 100;

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseYaml(text: string, source: string): unknown {
  // The yaml library throws (rather than reports) on some inputs and on alias bombs; every failure of a
  // file is a config error, never a crash.
  try {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length) {
      throw new ConfigError(
        source,
        doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: firstLine(e.message) })),
      );
    }
    return doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const message = /alias/i.test((err as Error).message)
      ? `aliases expand too far (more than ${MAX_ALIASES}); write the values out`
      : `not readable as YAML: ${(err as Error).message.split('\n')[0]}`;
    throw new ConfigError(source, [{ path: '', message }]);
  }
}

/** The YAML file as a partial config; every way it can be unreadable is a ConfigError naming the file. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new ConfigError(file, [{ path: '', message: `${file} is a directory; name the YAML file (e.g. ${file}/percept.yaml)` }]);
    if (st.size > MAX_FILE_BYTES) throw new ConfigError(file, [{ path: '', message: `${st.size} bytes; a config file is at most ${MAX_FILE_BYTES}` }]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      { path: '', message: code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${code ?? (err as Error).message}` },
    ]);
  }
  const parsed = parseYaml(text, file);
  if (!isPlain(parsed)) throw new ConfigError(file, [{ path: '', message: 'the file must hold a mapping of sections (device, source, mqtt, …)' }]);
  // Older versions are migrated in memory; the file itself is never rewritten.
  return migrate(parsed, file).doc;
}
