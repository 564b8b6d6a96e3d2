// Validates MQTT traffic against the generated JSON schemas in schemas/mqtt/ (what integrators read),
// routed by the contract's topic table, and the retained config against config/percept.schema.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { HA_DISCOVERY, TOPICS, topicMatches, type TopicSpec } from '../../agent/contract/topics.js';
import { PACKAGE_ROOT } from './models.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function wireValidator(prefix: string, haPrefix = 'homeassistant') {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  const load = (file: string): ValidateFunction => {
    const schema = JSON.parse(readFileSync(join(PACKAGE_ROOT, file), 'utf8'));
    delete schema.$schema;
    return ajv.compile(schema);
  };
  const byTopic = new Map<TopicSpec, ValidateFunction>();
  for (const spec of Object.values(TOPICS as Record<string, TopicSpec>)) {
    if (spec.schemaFile) byTopic.set(spec, load(join('schemas/mqtt', spec.schemaFile)));
  }
  byTopic.set(TOPICS.config, load('config/percept.schema.json'));
  const ha = load(join('schemas/mqtt', HA_DISCOVERY.schemaFile!));
  const haConfig = new RegExp(`^${haPrefix}/sensor/[^/]+/[^/]+/config$`);
  /** Problems with one message; [] when it is valid. Inbound topics are skipped. */
  return (topic: string, payload: Buffer | string): string[] => {
    if (topic === `${haPrefix}/status`) return [];
    const text = String(payload);
    let validate: ValidateFunction | undefined;
    if (haConfig.test(topic)) {
      if (text === '') return [];
      validate = ha;
    } else {
      const root = topic.split('/').slice(0, 2).join('/');
      if (!root.startsWith(`${prefix}/`)) return [`no schema for topic ${topic}`];
      const spec = Object.values(TOPICS as Record<string, TopicSpec>).find((s) => topicMatches(s, root, topic));
      if (spec?.direction === 'in') return [];
      validate = spec && byTopic.get(spec);
    }
    if (!validate) return [`no schema for topic ${topic}`];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`${topic}: not JSON`];
    }
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${topic}${e.instancePath} ${e.message}`);
  };
}
