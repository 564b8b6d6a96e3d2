// TypeBox schemas of every MQTT payload (design §4). The TS types below derive from them, the JSON
// schemas in schemas/mqtt/ are generated from them (npm run gen), and the tests validate the wire
// against those files, so a payload cannot drift from its documentation.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
export { ConfigIssueSchema, ConfigResultSchema, type ConfigResultBody, type ConfigResultPayload } from './command-payloads.js';
import { CONTRACT_LABELS, type Task } from './labels.js';
import { DateTime, Envelope, SchemaField, Ts } from './formats.js';
import { ContentTotalsSchema, ImpressionMergedPlays, SummaryContentFields } from './command-payloads.js';

const Probability = Type.Number({ minimum: 0, maximum: 1 });

export const PredictionSchema = (task: Task) =>
  Type.Object(
    {
      label: Type.Union(
        CONTRACT_LABELS[task].map((l) => Type.Literal(l)),
        {
          description:
            'The arg-max of `probs`: never a label whose probability is below another one in this payload. Hysteresis (fusion.margin, minDurationMs, minSamples) decides only when an `updated` event is sent, never what a payload says.',
        },
      ),
      p: Type.Number({ minimum: 0, maximum: 1, description: "The label's probability in `probs`." }),
      probs: Type.Record(Type.String(), Probability, {
        description:
          'The fused probability of every label of the task: the quality-weighted mean of every sample of the visit so far (`samples`). They sum to 1 (to rounding).',
      }),
      years: Type.Optional(Type.Number({ description: 'Regression models only: the estimated age.' })),
      confident: Type.Optional(
        Type.Boolean({
          description:
            'Visit events: the label has the evidence fusion asks for (fusion.enterMinSamples samples, or a fused p of at least fusion.enterMinP); false when `entered` was sent at classifier.enterTimeoutMs without it.',
        }),
      ),
    },
    { additionalProperties: false },
  );

export const RelativeBoxSchema = Type.Object(
  {
    x: Probability,
    y: Probability,
    w: Probability,
    h: Probability,
  },
  { additionalProperties: false, description: 'Fractions of the frame, cut to it.' },
);

export const AttentionSchema = Type.Object(
  {
    attentionMs: Type.Integer({ minimum: 0, description: 'Time spent looking at the camera (|yaw| and |pitch| within audience.lookYawDeg / lookPitchDeg).' }),
    glances: Type.Integer({ minimum: 0, description: 'Looking spells of at least audience.minGlanceMs.' }),
    firstLookAfterMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'From first seen to the first look; null: never looked.' }),
  },
  { additionalProperties: false },
);
export type AttentionSummary = Static<typeof AttentionSchema>;

export const EventSchema = Type.Object(
  {
    schema: SchemaField(),
    seq: Type.Integer({ minimum: 1, description: 'Rises by exactly 1 per event and survives restarts: a gap means loss.' }),
    type: Type.Union([Type.Literal('entered'), Type.Literal('updated'), Type.Literal('left')]),
    ts: Ts(),
    device: Type.String(),
    person: Type.String({ format: 'uuid', description: 'Random per visit; never an identity.' }),
    firstSeen: DateTime(),
    dwellMs: Type.Integer({ minimum: 0 }),
    box: RelativeBoxSchema,
    age: Type.Optional(PredictionSchema('age')),
    gender: Type.Optional(PredictionSchema('gender')),
    emotion: Type.Optional(PredictionSchema('emotion')),
    samples: Type.Integer({ minimum: 0, description: 'Classifications fused into the labels.' }),
    model: Type.String(),
    attention: Type.Optional(AttentionSchema),
    recovered: Type.Optional(
      Type.Literal(true, {
        description:
          'On "left": the visit was still open when the agent stopped uncleanly; it is ended at the next start (dwell up to the last recorded sight).',
      }),
    ),
  },
  { additionalProperties: false, title: '{root}/events/{entered|updated|left} (QoS 1)' },
);
export type EventPayload = Static<typeof EventSchema>;

// 'waiting': a live source that has not delivered yet (missing device, pipeline not working, no source.uri);
// 'lost': one that delivered and then failed. Both retry with growing delays; cameraDetail says why.
export const CameraStateSchema = Type.Union(
  ['connecting', 'ok', 'waiting', 'lost', 'paused'].map((s) => Type.Literal(s)),
  { description: 'The video source: ok while it delivers frames (a file source is ok while it plays).' },
);

export const OnlineStatusSchema = Type.Object(
  {
    ...Envelope(),
    state: Type.Literal('online'),
    version: Type.String(),
    model: Type.String(),
    startedAt: DateTime('When this run of the agent started.'),
    camera: CameraStateSchema,
    cameraDetail: Type.Optional(Type.String()),
    degraded: Type.Optional(Type.String({ description: 'Why the agent runs degraded (e.g. the state directory is full); absent when healthy.' })),
    overridesRejected: Type.Optional(
      Type.String({
        description: 'The stored config overrides were refused at start (invalid, or from a newer version): why, and the file they were kept aside as.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const OfflineStatusSchema = Type.Object(
  {
    schema: SchemaField(),
    device: Type.String(),
    ts: Type.Optional(Ts()),
    state: Type.Literal('offline'),
    reason: Type.Optional(
      Type.String({ description: 'Why: the stop\'s reason (e.g. "shutdown"), with ts; or "connection lost": the last will, sent by the broker, without ts.' }),
    ),
  },
  { additionalProperties: false },
);

export const StatusSchema = Type.Union([OnlineStatusSchema, OfflineStatusSchema], { title: '{root}/status (retained, QoS 1)' });
export type OnlineStatus = Static<typeof OnlineStatusSchema>;
export type StatusPayload = Static<typeof StatusSchema>;
export type CameraState = 'connecting' | 'ok' | 'waiting' | 'lost' | 'paused';

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));

export const AudiencePersonSchema = Type.Object(
  {
    person: Type.String(),
    firstSeen: DateTime(),
    dwellMs: Type.Integer({ description: 'From firstSeen to the last sight (what the `left` event will say), not to now.' }),
    lastSeenMs: Type.Integer({ minimum: 0, description: "Time from the person's last detection to frameTs." }),
    lost: Type.Boolean({
      description:
        'Not detected in the latest detection pass: the track coasts, or the person is out of view and kept for visit.graceMs. Never looking while lost.',
    }),
    age: Type.Optional(Type.String()),
    gender: Type.Optional(Type.String()),
    emotion: Type.Optional(Type.String()),
    confidence: Type.Optional(
      Type.Record(Type.String(), Probability, { description: 'Fused probability of each label (the arg-max of the fused probabilities), by task.' }),
    ),
    looking: Type.Optional(Type.Boolean({ description: 'Looking at the camera in the latest detection; false while lost.' })),
    attentionMs: Type.Optional(Type.Integer({ minimum: 0 })),
    glances: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const AudienceSchema = Type.Object(
  {
    ...Envelope(),
    frameTs: DateTime('The time of the frame the snapshot describes.'),
    count: Type.Integer({ minimum: 0, description: 'People present, lost ones (within visit.graceMs) included.' }),
    people: Type.Array(AudiencePersonSchema),
    // emotion: absent with classifier.emotion false (privacy), in every count below too.
    histograms: Type.Object({ age: Counts, gender: Counts, emotion: Type.Optional(Counts) }, { additionalProperties: Counts }),
  },
  { additionalProperties: false, title: '{root}/audience (retained, on change, at most once a second)' },
);
export type AudiencePayload = Static<typeof AudienceSchema>;

export { StatsSchema } from './stats-payload.js';
const HourCounts = Type.Record(Type.String(), Type.Integer());

export const DailySummarySchema = Type.Object(
  {
    ...Envelope(),
    date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'The day, in timeZone.' }),
    timeZone: Type.String({ description: 'The IANA time zone (schedule.timezone) of date and of every hour in byHour.' }),
    visits: Type.Integer({ minimum: 0 }),
    final: Type.Optional(Type.Boolean({ description: 'true once the day is over.' })),
    attentionMs: Type.Optional(Type.Integer({ minimum: 0, description: "Time the day's finished visits spent looking at the camera." })),
    plays: Type.Optional(Type.Integer({ minimum: 0, description: 'Content plays that ended today (each one an impressions record).' })),
    byHour: Type.Array(
      Type.Object(
        {
          hour: Type.Integer({ minimum: 0, maximum: 23, description: 'The hour of the day in timeZone.' }),
          visits: Type.Integer({ minimum: 0 }),
          age: HourCounts,
          gender: HourCounts,
          emotion: Type.Optional(HourCounts),
        },
        { additionalProperties: false },
      ),
    ),
    byContent: Type.Optional(
      Type.Record(Type.String(), ContentTotalsSchema, {
        description: "Per content id: totals of the day's plays (at most 200 ids; the rest in otherContent).",
      }),
    ),
    ...SummaryContentFields,
  },
  { additionalProperties: false, title: '{root}/summary/daily (retained): visits per local hour by label, counts only' },
);
export type DailySummaryPayload = Static<typeof DailySummarySchema>;

export const DiscoverySchema = Type.Object(
  {
    name: Type.String(),
    unique_id: Type.String(),
    default_entity_id: Type.String({ description: 'sensor.percept_{device}_{sensor} (replaces object_id, deprecated by Home Assistant 2025.10).' }),
    state_topic: Type.String(),
    value_template: Type.String(),
    unit_of_measurement: Type.Optional(Type.String()),
    state_class: Type.Optional(
      Type.Union([Type.Literal('measurement'), Type.Literal('total_increasing')], {
        description: 'measurement: a count now; total_increasing: a count of the day (falls to 0 at midnight: a new cycle); absent: a text state.',
      }),
    ),
    entity_category: Type.Optional(Type.Literal('diagnostic')),
    icon: Type.Optional(Type.String()),
    availability: Type.Array(Type.Object({ topic: Type.String() })),
    device: Type.Object({ identifiers: Type.Array(Type.String()), name: Type.String() }),
    origin: Type.Object({ name: Type.String(), sw_version: Type.String(), support_url: Type.Optional(Type.String()) }),
  },
  { additionalProperties: false, title: '{homeassistant prefix}/sensor/percept_{device}/{sensor}/config (retained; empty payload removes)' },
);

export type { TSchema };

const LabelCounts = Type.Object({ age: Counts, gender: Counts, emotion: Type.Optional(Counts) }, { additionalProperties: false });

export const ContentSetSchema = Type.Object(
  {
    id: Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], { description: 'What is on screen now; null: nothing.' }),
    name: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false, title: '{root}/content/set (in, not retained): what the signage player shows now' },
);
export type ContentSet = Static<typeof ContentSetSchema>;

export const ImpressionSchema = Type.Object(
  {
    ...Envelope(),
    contentId: Type.String(),
    contentName: Type.Optional(Type.String()),
    startedAt: DateTime(),
    endedAt: DateTime(),
    durationMs: Type.Integer({ minimum: 0 }),
    ots: Type.Integer({ minimum: 0, description: 'Opportunities to see: every face that could see the screen during the play, far passers-by included.' }),
    viewers: Type.Integer({ minimum: 0, description: 'Visits present during the play.' }),
    watchers: Type.Integer({ minimum: 0, description: 'Viewers who looked for at least audience.watcherMinMs during the play.' }),
    attentionMs: Type.Integer({ minimum: 0, description: 'Sum over viewers of the time spent looking during the play.' }),
    demographics: LabelCounts,
    mergedPlays: ImpressionMergedPlays,
  },
  { additionalProperties: false, title: '{root}/impressions (QoS 1, through the outbox): one record per finished content play' },
);
export type ImpressionPayload = Static<typeof ImpressionSchema>;

export const NearestSchema = Type.Object(
  {
    ...Envelope(),
    person: Type.Union([Type.String(), Type.Null()], { description: 'null: nobody is present.' }),
    lastSeenMs: Type.Optional(Type.Integer({ minimum: 0, description: "Time from the person's last detection to the frame." })),
    lost: Type.Optional(Type.Boolean({ description: 'Not detected in the latest detection pass (coasting, or out of view within visit.graceMs).' })),
    atEdge: Type.Optional(Type.Literal(true, { description: 'The face touches the frame edge and may be cut: no distanceM.' })),
    azimuthDeg: Type.Optional(Type.Number({ description: 'Left (−) / right (+) of the camera axis.' })),
    elevationDeg: Type.Optional(Type.Number({ description: 'Below (−) / above (+) the camera axis.' })),
    distanceM: Type.Optional(
      Type.Number({ minimum: 0, description: 'Estimated from the face width (camera.faceWidthM); absent for a face at the frame edge.' }),
    ),
    looking: Type.Optional(Type.Boolean({ description: 'false while lost.' })),
    age: Type.Optional(Type.String()),
    gender: Type.Optional(Type.String()),
    emotion: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: '{root}/nearest (QoS 0, ≤ 10 Hz while someone is present; one empty record when nobody is)' },
);
export type NearestPayload = Static<typeof NearestSchema>;
