// The one topic table of the MQTT contract (design §4): every topic the agent publishes or listens to,
// relative to the device root `{prefix}/{deviceId}`, with its delivery and its payload schema. Topic
// strings are built here and nowhere else; the JSON schemas in schemas/mqtt/ are generated from it.
import type { Static, TSchema } from '@sinclair/typebox';
import type { ConfigResultPayload } from './command-payloads.js';
import {
  AudienceSchema,
  ConfigResultSchema,
  ContentSetSchema,
  DailySummarySchema,
  DiscoverySchema,
  EventSchema,
  ImpressionSchema,
  NearestSchema,
  StatsSchema,
  StatusSchema,
} from './payloads.js';

export const EVENT_TYPES = ['entered', 'updated', 'left'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface TopicSpec {
  /** Relative to the device root; `+` stands for one level (the event type). */
  path: string;
  direction: 'out' | 'in';
  retained: boolean;
  qos: 0 | 1;
  /** The file under schemas/mqtt/ generated from `schema`; absent for inbound topics validated elsewhere. */
  schemaFile?: string;
  schema?: TSchema;
  description: string;
}

export const TOPICS = {
  status: {
    path: 'status',
    direction: 'out',
    retained: true,
    qos: 1,
    schemaFile: 'status.schema.json',
    schema: StatusSchema,
    description: 'online with version and model, offline as last will or on a clean stop',
  },
  event: {
    path: 'events/+',
    direction: 'out',
    retained: false,
    qos: 1,
    schemaFile: 'event.schema.json',
    schema: EventSchema,
    description: 'entered, updated and left per visit; seq rises by one per event across restarts',
  },
  audience: {
    path: 'audience',
    direction: 'out',
    retained: true,
    qos: 1,
    schemaFile: 'audience.schema.json',
    schema: AudienceSchema,
    description: 'who is present now, on change, at most once a second',
  },
  stats: {
    path: 'stats',
    direction: 'out',
    retained: false,
    qos: 0,
    schemaFile: 'stats.schema.json',
    schema: StatsSchema,
    description: 'per-stage figures every mqtt.statsIntervalS',
  },
  config: {
    path: 'config',
    direction: 'out',
    retained: true,
    qos: 1,
    description: 'the effective configuration, secrets redacted (config/percept.schema.json)',
  },
  configSet: {
    path: 'config/set',
    direction: 'in',
    retained: false,
    qos: 1,
    description: 'a JSON merge patch with optional requestId, save (default remoteConfig.persist, true) and dryRun',
  },
  configResult: {
    path: 'config/result',
    direction: 'out',
    retained: false,
    qos: 1,
    schemaFile: 'config-result.schema.json',
    schema: ConfigResultSchema,
    description: 'the reply to config/set',
  },
  contentSet: {
    path: 'content/set',
    direction: 'in',
    retained: false,
    qos: 1,
    schemaFile: 'content-set.schema.json',
    schema: ContentSetSchema,
    description: 'the signage player says what is on screen',
  },
  impressions: {
    path: 'impressions',
    direction: 'out',
    retained: false,
    qos: 1,
    schemaFile: 'impressions.schema.json',
    schema: ImpressionSchema,
    description: 'one record per finished content play, through the outbox',
  },
  nearest: {
    path: 'nearest',
    direction: 'out',
    retained: false,
    qos: 0,
    schemaFile: 'nearest.schema.json',
    schema: NearestSchema,
    description: 'the nearest person for robots, at most 10 Hz',
  },
  dailySummary: {
    path: 'summary/daily',
    direction: 'out',
    retained: true,
    qos: 1,
    schemaFile: 'summary-daily.schema.json',
    schema: DailySummarySchema,
    description: 'visits per local hour by label, counts only',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicName = keyof typeof TOPICS;

/** Concrete topic strings of one device. */
export function deviceTopics(prefix: string, device: string) {
  const root = `${prefix}/${device}`;
  const at = (name: TopicName) => `${root}/${TOPICS[name].path}`;
  return {
    root,
    status: at('status'),
    event: (type: EventType) => `${root}/events/${type}`,
    audience: at('audience'),
    stats: at('stats'),
    config: at('config'),
    configSet: at('configSet'),
    configResult: at('configResult'),
    dailySummary: at('dailySummary'),
    contentSet: at('contentSet'),
    impressions: at('impressions'),
    nearest: at('nearest'),
  };
}

export type DeviceTopics = ReturnType<typeof deviceTopics>;

/** Home Assistant's side: discovery config topics and its birth message topic. */
export function homeAssistantTopics(haPrefix: string) {
  return {
    status: `${haPrefix}/status`,
    sensorConfig: (nodeId: string, key: string) => `${haPrefix}/sensor/${nodeId}/${key}/config`,
  };
}

/** Matches a concrete topic against a table path ('+' is one level). */
export function topicMatches(spec: TopicSpec, root: string, topic: string): boolean {
  const want = `${root}/${spec.path}`.split('/');
  const got = topic.split('/');
  return want.length === got.length && want.every((w, i) => w === '+' || w === got[i]);
}

/** Home Assistant discovery configs live outside the device root but are part of the contract too. */
export const HA_DISCOVERY: TopicSpec = {
  path: '{homeassistant prefix}/sensor/percept_{device}/{sensor}/config',
  direction: 'out',
  retained: true,
  qos: 1,
  schemaFile: 'homeassistant-discovery.schema.json',
  schema: DiscoverySchema,
  description: 'sensor discovery; an empty payload removes one',
};

/** The topics the agent publishes, by name: what `Publisher.publish` takes. */
export const OUT_TOPICS = {
  status: TOPICS.status,
  event: TOPICS.event,
  audience: TOPICS.audience,
  stats: TOPICS.stats,
  config: TOPICS.config,
  configResult: TOPICS.configResult,
  impressions: TOPICS.impressions,
  nearest: TOPICS.nearest,
  dailySummary: TOPICS.dailySummary,
  homeassistantDiscovery: HA_DISCOVERY,
} as const satisfies Record<string, TopicSpec>;

export type OutTopicName = keyof typeof OUT_TOPICS;

/** What each outbound topic carries. `null` on a retained topic publishes the empty payload that removes it. */
export interface OutPayloads {
  status: Static<typeof StatusSchema>;
  event: Static<typeof EventSchema>;
  audience: Static<typeof AudienceSchema>;
  /** Built from every component's figures (validated against StatsSchema when published). */
  stats: object;
  /** The effective config, redacted (config/percept.schema.json). */
  config: object;
  configResult: ConfigResultPayload;
  impressions: Static<typeof ImpressionSchema>;
  nearest: Static<typeof NearestSchema>;
  dailySummary: Static<typeof DailySummarySchema>;
  homeassistantDiscovery: Static<typeof DiscoverySchema> | null;
}

/** The parameters of parameterised topics (the `+` of events/+, Home Assistant's discovery path). */
export interface TopicParams {
  event: EventType;
  homeassistantDiscovery: { haPrefix: string; nodeId: string; sensor: string };
}

/** The extra argument a topic name needs, as a rest tuple: none for plain topics. */
export type ParamsOf<N extends OutTopicName> = N extends keyof TopicParams ? [params: TopicParams[N]] : [];

/** The concrete topic of an outbound name under a device root. */
export function topicOf<N extends OutTopicName>(root: string, name: N, ...params: ParamsOf<N>): string {
  const p = params[0] as TopicParams[keyof TopicParams] | undefined;
  if (name === 'homeassistantDiscovery') {
    const d = p as TopicParams['homeassistantDiscovery'];
    return homeAssistantTopics(d.haPrefix).sensorConfig(d.nodeId, d.sensor);
  }
  const path = TOPICS[name as Exclude<OutTopicName, 'homeassistantDiscovery'>].path;
  return `${root}/${name === 'event' ? path.replace('+', p as EventType) : path}`;
}

/** Records that go through the durable outbox: QoS 1 in the table (the outbox removes an entry only on PUBACK). */
export type RecordTopicName = 'impressions' | 'dailySummary';

/** Every topic with a generated schema file. */
export const SCHEMA_TOPICS: TopicSpec[] = [...Object.values(TOPICS as Record<string, TopicSpec>), HA_DISCOVERY].filter((t) => t.schemaFile);
