// Validates MQTT traffic against the payload schemas kept in schemas/mqtt/ (and the config schema).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { PACKAGE_ROOT } from './models.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function wireValidator(prefix: string, haPrefix = 'homeassistant') {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  const dir = join(PACKAGE_ROOT, 'schemas/mqtt');
  for (const f of readdirSync(dir)) ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
  const configSchema = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'config/percept.schema.json'), 'utf8'));
  delete configSchema.$schema;
  const byName = (n: string) => ajv.getSchema(n)!;
  const routes: [RegExp, ValidateFunction | 'config' | 'ha'][] = [
    [new RegExp(`^${prefix}/[^/]+/status$`), byName('status.schema.json')],
    [new RegExp(`^${prefix}/[^/]+/events/(entered|updated|left)$`), byName('event.schema.json')],
    [new RegExp(`^${prefix}/[^/]+/audience$`), byName('audience.schema.json')],
    [new RegExp(`^${prefix}/[^/]+/stats$`), byName('stats.schema.json')],
    [new RegExp(`^${prefix}/[^/]+/summary/daily$`), byName('summary-daily.schema.json')],
    [new RegExp(`^${prefix}/[^/]+/config/result$`), byName('config-result.schema.json')],
    [new RegExp(`^${prefix}/[^/]+/config$`), ajv.compile(configSchema)],
    [new RegExp(`^${haPrefix}/sensor/[^/]+/[^/]+/config$`), 'ha'],
  ];
  const ha = byName('homeassistant-discovery.schema.json');
  /** Problems with one message; [] when it is valid. Unknown topics and config/set (inbound) are skipped. */
  return (topic: string, payload: Buffer | string): string[] => {
    if (topic.endsWith('/config/set') || topic === `${haPrefix}/status`) return [];
    const route = routes.find(([re]) => re.test(topic));
    if (!route) return [`no schema for topic ${topic}`];
    const text = String(payload);
    const validate = route[1] === 'ha' ? ha : route[1] as ValidateFunction;
    if (route[1] === 'ha' && text === '') return [];
    let body: unknown;
    try { body = JSON.parse(text); } catch { return [`${topic}: not JSON`]; }
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${topic}${e.instancePath} ${e.message}`);
  };
}
