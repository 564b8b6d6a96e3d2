// Writes config/percept.schema.json from the TypeBox schema (run by setup; a test keeps them in sync).
// The x-hot / x-remote / x-hint keywords stay in: JSON Schema validators and editors ignore unknown x-
// keywords, and they tell a reader of the JSON which keys apply at once and which a remote patch may set.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { ConfigSchema } from './schema.js';
import { CONFIG_VERSION } from './migrations.js';

export const SCHEMA_FILE = join(PACKAGE_ROOT, 'config/percept.schema.json');

/** Every key has a default, so nothing is required of a user's file (the agent fills the defaults in). */
function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== 'required')
      .map(([k, v]) => [k, withoutRequired(v)]),
  );
}

/** A file may say its config version; it is read (and migrated) before the schema applies, so it is not a Config key. */
const VERSION_KEY = {
  type: 'integer',
  minimum: 1,
  maximum: CONFIG_VERSION,
  description: `Config format version (absent: 1). Older versions are migrated in memory; this release reads up to ${CONFIG_VERSION}.`,
};

export function schemaJson(): string {
  const schema = withoutRequired(ConfigSchema) as { properties: Record<string, unknown> };
  const withVersion = { ...schema, properties: { version: VERSION_KEY, ...schema.properties } };
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...withVersion }, null, 2)}\n`;
}

if (process.argv[1]?.endsWith('write-schema.js')) {
  writeFileSync(SCHEMA_FILE, schemaJson());
  console.log(`wrote ${SCHEMA_FILE}`);
}
