// Home Assistant MQTT discovery: sensors read from the retained audience snapshot (and, for the day's
// totals, the retained daily summary), availability from the status topic. Removing them is publishing an empty retained payload on each config topic.
import { CONTRACT_LABELS } from '../contract/labels.js';
import type { OutPayloads, TopicParams } from '../contract/topics.js';

/** One sensor's discovery config: the topic's parameters and its payload (null removes the sensor). */
export interface DiscoveryMessage {
  params: TopicParams['homeassistantDiscovery'];
  payload: OutPayloads['homeassistantDiscovery'];
}

interface Sensor {
  key: string;
  name: string;
  template: string;
  unit?: string;
  icon: string;
  /** The state topic, when not {root}/audience. */
  topic?: string;
  cls?: 'measurement' | 'total_increasing';
  diagnostic?: boolean;
  /** The emotion task's: removed when classifier.emotion is off. */
  emotion?: true;
}

/** Sensors of earlier versions: their retained configs are removed, or Home Assistant keeps a dead entity. */
const RETIRED = ['impressions_today'];

export function discoveryMessages(
  opts: { prefix: string; root: string; device: string; version: string; model: string; emotion?: boolean },
  enabled: boolean,
): DiscoveryMessage[] {
  const id = `percept_${opts.device.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const device = { identifiers: [id], name: `percept ${opts.device}`, manufacturer: 'percept', model: opts.model, sw_version: opts.version };
  const origin = { name: 'percept', sw_version: opts.version };
  const availability = {
    topic: `${opts.root}/status`,
    value_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const summary = `${opts.root}/summary/daily`;
  // state_class: measurement for counts of now, total_increasing for the day's counts (their fall to 0 at
  // midnight is a new cycle to Home Assistant), none for text states.
  const sensors: Sensor[] = [
    { key: 'people', name: 'People present', template: '{{ value_json.count }}', unit: 'people', icon: 'mdi:account-group', cls: 'measurement' },
    {
      key: 'watchers',
      name: 'Watchers now',
      template: "{{ value_json.people | selectattr('looking', 'defined') | selectattr('looking') | list | count }}",
      unit: 'people',
      icon: 'mdi:eye',
      cls: 'measurement',
    },
    {
      key: 'attention_today',
      name: 'Attention today',
      template: '{{ ((value_json.attentionMs | default(0)) / 1000) | round(0) }}',
      unit: 's',
      icon: 'mdi:eye-check',
      topic: summary,
      cls: 'total_increasing',
    },
    {
      key: 'plays_today',
      name: 'Plays today',
      template: '{{ value_json.plays | default(0) }}',
      unit: 'plays',
      icon: 'mdi:billboard',
      topic: summary,
      cls: 'total_increasing',
    },
    {
      key: 'dominant_emotion',
      name: 'Dominant emotion',
      emotion: true,
      icon: 'mdi:emoticon-outline',
      template:
        "{% set h = value_json.histograms.emotion %}{% if value_json.count > 0 %}{{ (h | dictsort(false, 'value') | last)[0] }}{% else %}none{% endif %}",
    },
    {
      key: 'camera',
      name: 'Camera',
      icon: 'mdi:cctv',
      template: '{{ value_json.camera | default(value_json.state) }}',
      topic: `${opts.root}/status`,
      diagnostic: true,
    },
    ...CONTRACT_LABELS.gender.map((g) => ({
      key: `gender_${g}`,
      name: `Gender ${g}`,
      template: `{{ value_json.histograms.gender['${g}'] }}`,
      unit: 'people',
      icon: 'mdi:gender-male-female',
      cls: 'measurement' as const,
    })),
    ...CONTRACT_LABELS.age.map((a) => ({
      key: `age_${a.replace(/[^0-9]+/g, '_').replace(/_$/, 'plus')}`,
      name: `Age ${a}`,
      template: `{{ value_json.histograms.age['${a}'] }}`,
      unit: 'people',
      icon: 'mdi:human-male-height',
      cls: 'measurement' as const,
    })),
  ];
  const params = (sensor: string) => ({ haPrefix: opts.prefix, nodeId: id, sensor });
  const retired = RETIRED.map((key) => ({ params: params(key), payload: null }));
  return [
    ...sensors.map((s) => ({
      params: params(s.key),
      // With classifier.emotion false the emotion sensor is removed (an empty retained config), not just left stale.
      payload:
        enabled && !(s.emotion && opts.emotion === false)
          ? {
              name: s.name,
              unique_id: `${id}_${s.key}`,
              default_entity_id: `sensor.${id}_${s.key}`,
              state_topic: s.topic ?? `${opts.root}/audience`,
              value_template: s.template,
              ...(s.unit ? { unit_of_measurement: s.unit } : {}),
              ...(s.cls ? { state_class: s.cls } : {}),
              ...(s.diagnostic ? { entity_category: 'diagnostic' as const } : {}),
              icon: s.icon,
              availability: [availability],
              device,
              origin,
            }
          : null,
    })),
    ...retired,
  ];
}
