// Home Assistant MQTT discovery: sensors read from the retained audience snapshot (and, for the day's
// totals, the retained daily summary), availability from the status topic. Removing them is publishing an empty retained payload on each config topic.
import { CONTRACT_LABELS } from '../contract/labels.js';
import type { OutPayloads, TopicParams } from '../contract/topics.js';

/** One sensor's discovery config: the topic's parameters and its payload (null removes the sensor). */
export interface DiscoveryMessage {
  params: TopicParams['homeassistantDiscovery'];
  payload: OutPayloads['homeassistantDiscovery'];
}

export function discoveryMessages(
  opts: { prefix: string; root: string; device: string; version: string; model: string; emotion?: boolean },
  enabled: boolean,
): DiscoveryMessage[] {
  const id = `percept_${opts.device.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const device = { identifiers: [id], name: `percept ${opts.device}`, manufacturer: 'percept', model: opts.model, sw_version: opts.version };
  const availability = {
    topic: `${opts.root}/status`,
    value_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const summary = `${opts.root}/summary/daily`;
  const sensors: { key: string; name: string; template: string; unit?: string; icon: string; topic?: string; emotion?: true }[] = [
    { key: 'people', name: 'People present', template: '{{ value_json.count }}', unit: 'people', icon: 'mdi:account-group' },
    {
      key: 'watchers',
      name: 'Watchers now',
      template: "{{ value_json.people | selectattr('looking', 'defined') | selectattr('looking') | list | count }}",
      unit: 'people',
      icon: 'mdi:eye',
    },
    {
      key: 'attention_today',
      name: 'Attention today',
      template: '{{ ((value_json.attentionMs | default(0)) / 1000) | round(0) }}',
      unit: 's',
      icon: 'mdi:eye-check',
      topic: summary,
    },
    {
      key: 'impressions_today',
      name: 'Impressions today',
      template: '{{ value_json.impressions | default(0) }}',
      unit: 'plays',
      icon: 'mdi:billboard',
      topic: summary,
    },
    {
      key: 'dominant_emotion',
      name: 'Dominant emotion',
      emotion: true,
      icon: 'mdi:emoticon-outline',
      template:
        "{% set h = value_json.histograms.emotion %}{% if value_json.count > 0 %}{{ (h | dictsort(false, 'value') | last)[0] }}{% else %}none{% endif %}",
    },
    ...CONTRACT_LABELS.gender.map((g) => ({
      key: `gender_${g}`,
      name: `Gender ${g}`,
      template: `{{ value_json.histograms.gender['${g}'] }}`,
      unit: 'people',
      icon: 'mdi:gender-male-female',
    })),
    ...CONTRACT_LABELS.age.map((a) => ({
      key: `age_${a.replace(/[^0-9]+/g, '_').replace(/_$/, 'plus')}`,
      name: `Age ${a}`,
      template: `{{ value_json.histograms.age['${a}'] }}`,
      unit: 'people',
      icon: 'mdi:human-male-height',
    })),
  ];
  return sensors.map((s) => ({
    params: { haPrefix: opts.prefix, nodeId: id, sensor: s.key },
    // With classifier.emotion false the emotion sensor is removed (an empty retained config), not just left stale.
    payload:
      enabled && !(s.emotion && opts.emotion === false)
        ? {
            name: s.name,
            unique_id: `${id}_${s.key}`,
            object_id: `${id}_${s.key}`,
            state_topic: s.topic ?? `${opts.root}/audience`,
            value_template: s.template,
            ...(s.unit ? { unit_of_measurement: s.unit, state_class: 'measurement' } : {}),
            icon: s.icon,
            availability: [availability],
            device,
          }
        : null,
  }));
}
