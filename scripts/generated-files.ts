// Every generated file of the repository and how it is made: the config schema users point their editor
// at, one JSON schema per MQTT payload, the model.json schema and the reference pages of docs/ (config
// keys, MQTT topics), all from the TypeBox sources. `npm run gen` writes them; a unit
// test fails when a committed one is stale.
import { join } from 'node:path';
import { schemaJson } from '../agent/config/write-schema.js';
import { SCHEMA_TOPICS } from '../agent/contract/topics.js';
import { ManifestSchema } from '../agent/contract/manifest.js';
import { PACKAGE_ROOT } from '../agent/inference/default-models.js';
import { configDoc } from './docs/config-doc.js';
import { mqttDoc } from './docs/mqtt-doc.js';

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
  const docs = [
    { path: join(root, 'docs/config-reference.md'), content: configDoc() },
    { path: join(root, 'docs/mqtt.md'), content: mqttDoc() },
  ];
  const model = {
    path: join(root, 'schemas/model.schema.json'),
    content: `${JSON.stringify(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        $id: 'percept/model.schema.json',
        ...ManifestSchema,
        description: `${ManifestSchema.description} Generated from agent/contract/manifest.ts by npm run gen: do not edit.`,
      },
      null,
      2,
    )}\n`,
  };
  return [{ path: join(root, 'config/percept.schema.json'), content: schemaJson() }, model, ...mqtt, ...docs];
}
