// docs/mqtt.md, generated from the contract (agent/contract/topics.ts and its TypeBox payloads), so the
// reference an integrator reads cannot drift from what the agent publishes. npm run gen writes it.
import { CONTRACT_LABELS, TASKS } from '../../agent/contract/labels.js';
import { HA_DISCOVERY, TOPICS, type TopicSpec } from '../../agent/contract/topics.js';
import { plain, rows, table, cell, type Node } from './schema-table.js';

const HEADER = `# MQTT reference

<!-- Generated from agent/contract/ by \`npm run gen\` (scripts/docs/mqtt-doc.ts): do not edit by hand. -->

Every topic is under the device root \`{root}\` = \`{mqtt.prefix}/{deviceId}\` (prefix \`percept\` by default,
device id \`device.id\` or the host name). Each payload has a JSON Schema in [\`schemas/mqtt/\`](../schemas/mqtt),
generated from the same contract; the tests validate every message they see on the wire against them.
In the payload tables, *required* means the field is always present when its parent object is.
Delivery guarantees, remote configuration and rules are explained in [integration.md](integration.md).
`;

function topicRow(name: string, t: TopicSpec): string {
  const topic = t.path.startsWith('{') ? t.path : `{root}/${t.path.replace('+', '{entered|updated|left}')}`;
  const schema = t.schemaFile ? `[\`${t.schemaFile}\`](../schemas/mqtt/${t.schemaFile})` : name.startsWith('config') ? 'config schema' : '';
  return `| \`${topic.replace(/\|/g, '\\|')}\` | ${t.direction === 'out' ? 'agent → broker' : 'broker → agent'} | ${t.qos} | ${t.retained ? 'yes' : 'no'} | ${cell(t.description)} | ${schema} |`;
}

function payloadSection(name: string, t: TopicSpec): string {
  const topic = t.path.startsWith('{') ? t.path : `{root}/${t.path.replace('+', '{entered|updated|left}')}`;
  const head = `### \`${topic}\`\n\n${t.description}. ${t.direction === 'out' ? 'Published' : 'Received'} with QoS ${t.qos}, ${t.retained ? 'retained' : 'not retained'}.`;
  if (!t.schema) {
    const what =
      name === 'config'
        ? 'The effective configuration with secrets redacted; its shape is [`config/percept.schema.json`](../config/percept.schema.json) (keys: [config-reference.md](config-reference.md)).'
        : 'A JSON merge patch (RFC 7396) of the configuration ([`config/percept.schema.json`](../config/percept.schema.json)) with the optional fields `requestId` (echoed in `config/result`), `save` (default `remoteConfig.persist`) and `dryRun`. A retained `config/set` is ignored.';
    return `${head}\n\n${what}\n`;
  }
  const s = plain(t.schema);
  if (s.anyOf) {
    const variants = s.anyOf.map((v: Node) => {
      const state = v.properties?.state?.const;
      return `${state !== undefined ? `When \`state\` is \`${String(state)}\`:` : 'Variant:'}\n\n${table(rows(v))}`;
    });
    return `${head}\n\n${variants.join('\n\n')}\n`;
  }
  return `${head}\n\n${table(rows(s))}\n`;
}

export function mqttDoc(): string {
  const all = Object.entries(TOPICS as Record<string, TopicSpec>);
  const topics = [
    '## Topics',
    '',
    '| topic | direction | QoS | retained | what | schema |',
    '|---|---|---|---|---|---|',
    ...all.map(([n, t]) => topicRow(n, t)),
    topicRow('homeassistant', HA_DISCOVERY),
  ].join('\n');
  const labels = [
    '## Label spaces',
    '',
    "Labels are always named in these orders (a model's own labels are mapped to them by name):",
    '',
    ...TASKS.map((task) => `- ${task}: ${CONTRACT_LABELS[task].map((l) => `\`${l}\``).join(', ')}`),
  ].join('\n');
  const payloads = ['## Payloads', '', ...all.map(([n, t]) => payloadSection(n, t)), payloadSection('homeassistant', HA_DISCOVERY)].join('\n');
  return `${HEADER}\n${topics}\n\n${labels}\n\n${payloads}`;
}
