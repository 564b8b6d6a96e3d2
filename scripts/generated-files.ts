// Every generated file of the repository and how it is made: the config schema users point their editor
// at and one JSON schema per MQTT payload, all from the TypeBox sources. `npm run gen` writes them; a unit
// test fails when a committed one is stale.
import { join } from 'node:path';
import { schemaJson } from '../agent/config/write-schema.js';
import { SCHEMA_TOPICS } from '../agent/contract/topics.js';
import { PACKAGE_ROOT } from '../agent/inference/default-models.js';

export interface GeneratedFile {
  path: string;
  content: string;
}

export function generatedFiles(root = PACKAGE_ROOT): GeneratedFile[] {
  const mqtt = SCHEMA_TOPICS.map((t) => ({
    path: join(root, 'schemas/mqtt', t.schemaFile!),
    content: `${JSON.stringify(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        $id: `percept/mqtt/${t.schemaFile}`,
        ...t.schema,
        title: t.schema!.title ?? `{root}/${t.path}`,
        description: `${t.description}. ${t.retained ? 'Retained' : 'Not retained'}, QoS ${t.qos}. Generated from agent/contract/payloads.ts by npm run gen: do not edit.`,
      },
      null,
      2,
    )}\n`,
  }));
  return [{ path: join(root, 'config/percept.schema.json'), content: schemaJson() }, ...mqtt];
}
