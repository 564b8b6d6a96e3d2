// Payload parts of the command rules (features/command-gate.ts) and of what a command flood is measured
// by: per-topic command counts, event-loop delay and durable writes in stats; merged plays and the bounded
// per-content totals in impressions and the daily summary; the answer to config/set. Kept apart so
// payloads.ts stays readable.
import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './formats.js';

export const CommandStatsFields = {
  commands: Type.Optional(
    Type.Record(
      Type.String(),
      Type.Object(
        {
          received: Type.Integer({ minimum: 0 }),
          accepted: Type.Integer({ minimum: 0 }),
          retainedIgnored: Type.Integer({ minimum: 0 }),
          limited: Type.Integer({ minimum: 0, description: 'Beyond the rate limit (mqtt.commandLimits): refused, or merged for content/set.' }),
          merged: Type.Optional(Type.Integer({ minimum: 0, description: 'content/set plays merged into the running one.' })),
          answersDropped: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { description: 'Inbound command topics since start, by topic (config/set, content/set, homeassistant/status).' },
    ),
  ),
  eventLoopDelayMs: Type.Optional(
    Type.Object(
      { p99: Type.Number({ minimum: 0 }), max: Type.Number({ minimum: 0 }) },
      { additionalProperties: false, description: 'Main-thread event-loop delay since the previous stats message (perf_hooks).' },
    ),
  ),
  durable: Type.Optional(
    Type.Object(
      {
        writes: Type.Integer({ minimum: 0, description: 'Durable file writes (tmp, fsync, rename, directory fsync) since start.' }),
        fsyncs: Type.Integer({ minimum: 0, description: 'fsync calls since start (files and directories).' }),
      },
      { additionalProperties: false },
    ),
  ),
};

export const ContentTotalsSchema = Type.Object(
  {
    plays: Type.Integer({ minimum: 0 }),
    ots: Type.Integer({ minimum: 0 }),
    viewers: Type.Integer({ minimum: 0 }),
    watchers: Type.Integer({ minimum: 0 }),
    attentionMs: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const SummaryContentFields = {
  otherContent: Type.Optional(
    Type.Object(
      {
        contents: Type.Integer({ minimum: 1, description: 'Content ids folded in here (an id may count again if it came back).' }),
        ...ContentTotalsSchema.properties,
      },
      {
        additionalProperties: false,
        description: 'Totals of content ids moved out of byContent to bound its size: the id with the fewest plays goes first.',
      },
    ),
  ),
  mergedPlays: Type.Optional(Type.Integer({ minimum: 0, description: 'Plays merged into others today because content/set went beyond its rate limit.' })),
};

export const ImpressionMergedPlays = Type.Optional(
  Type.Integer({
    minimum: 1,
    description:
      'Plays announced on content/set during this one faster than mqtt.commandLimits.contentSet allows: not recorded on their own, their time is in this record.',
  }),
);

export const ConfigIssueSchema = Type.Object({ path: Type.String(), message: Type.String() }, { additionalProperties: false });

export const ConfigResultSchema = Type.Object(
  {
    ...Envelope(),
    requestId: Type.Union([Type.String(), Type.Null()]),
    ok: Type.Boolean(),
    errors: Type.Array(ConfigIssueSchema),
    applied: Type.Array(Type.String(), { description: 'Changed keys in effect now.' }),
    restartRequired: Type.Array(Type.String(), { description: 'Changed keys that take effect after a restart.' }),
    saved: Type.Optional(
      Type.Boolean({
        description:
          'On ok: true when the change is on disk (the overrides in the state directory) and survives a restart; false when it lasts until the next restart ("save": false in the request).',
      }),
    ),
    dryRun: Type.Optional(
      Type.Literal(true, { description: 'The request had "dryRun": true: evaluated only (ok: it would apply), nothing applied or saved.' }),
    ),
  },
  { additionalProperties: false, title: '{root}/config/result (QoS 1), the reply to {root}/config/set' },
);
export type ConfigResultPayload = Static<typeof ConfigResultSchema>;
/** A result before the publisher's envelope (schema, device, ts) is added. */
export type ConfigResultBody = Omit<ConfigResultPayload, 'schema' | 'device' | 'ts'>;
