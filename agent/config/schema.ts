// The configuration schema: the single source of the config's types, defaults and documentation. The
// JSON Schema users point their editor at (config/percept.schema.json) is generated from it.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

import { HHMM, HOT, HOUR_MS, levelUnion, ms, NO_NUL, PATH, REMOTE, TOPIC, TUNE, MAX_TIMER_MS } from './schema-kit.js';
import { PipelineSections } from './schema-sections.js';

export { MAX_TIMER_MS };

const commandLimit = (perSecond: number, burst: number, description: string) =>
  Type.Object(
    {
      perSecond: Type.Number({ default: perSecond, exclusiveMinimum: 0, maximum: 10_000, description: 'Sustained messages a second.' }),
      burst: Type.Integer({ default: burst, minimum: 1, maximum: 100_000, description: 'Messages accepted at once after a quiet spell.' }),
    },
    { default: {}, additionalProperties: false, description, ...HOT },
  );

export const ConfigSchema = Type.Object(
  {
    ...PipelineSections,
    inference: Type.Object(
      {
        providers: Type.Array(Type.Union(['tensorrt', 'cuda', 'cpu'].map((p) => Type.Literal(p))), {
          default: ['cpu'],
          minItems: 1,
          maxItems: 3,
          uniqueItems: true,
          description: 'onnxruntime execution providers, tried in order per model.',
        }),
        threads: Type.Integer({ default: 2, minimum: 1, maximum: 64, description: 'Intra-op threads per model.', ...REMOTE }),
        verifySha256: Type.Boolean({ default: true, description: 'Check every model file against its manifest sha256 at start.' }),
        timeoutMs: ms(
          30000,
          100,
          600_000,
          'One inference call fails after this long; its worker (stuck in native code) is abandoned and the model reopened in a new one. Counted in stats.',
          REMOTE,
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    mqtt: Type.Object(
      {
        url: Type.String({ default: '', maxLength: 4096, description: 'Broker URL (mqtt://, mqtts://, ws://, wss://). Empty: start an embedded broker.' }),
        prefix: Type.String({ default: 'percept', ...TOPIC, description: 'Topic root prefix: topic levels without + # NUL, empty levels or a leading $.' }),
        protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' }),
        clientId: Type.String({ default: '', ...NO_NUL, maxLength: 128, description: 'Empty: percept-<device id>.' }),
        username: Type.String({ default: '', ...NO_NUL, maxLength: 1024 }),
        password: Type.String({ default: '', maxLength: 1024, description: 'Prefer passwordFile or PERCEPT_MQTT_PASSWORD; never logged.' }),
        passwordFile: Type.String({ default: '', ...PATH, description: 'File whose first line is the broker password (must exist).' }),
        embeddedHost: Type.String({ default: '127.0.0.1', maxLength: 255, description: 'Embedded broker listen address.' }),
        embeddedPort: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'Embedded broker port (0: any free port).' }),
        tls: Type.Object(
          {
            ca: Type.String({ default: '', ...PATH, description: 'CA certificate file (PEM) to verify the broker with (mqtts://).' }),
            cert: Type.String({ default: '', ...PATH, description: 'Client certificate file (PEM), for brokers that require one.' }),
            key: Type.String({ default: '', ...PATH, description: 'Client private key file (PEM).' }),
            rejectUnauthorized: Type.Boolean({ default: true, description: 'Refuse a broker whose certificate does not verify. Turn off only for tests.' }),
          },
          { default: {}, additionalProperties: false },
        ),
        reconnectMinMs: ms(1000, 100, HOUR_MS, 'First reconnect delay; doubles per failed attempt, with jitter.', REMOTE),
        reconnectMaxMs: ms(60000, 100, HOUR_MS, 'Longest reconnect delay.', REMOTE),
        outboxMaxEvents: Type.Integer({
          default: 10000,
          minimum: 1,
          maximum: 10_000_000,
          description: 'Undelivered events kept on disk; beyond, the oldest are dropped (counted in stats).',
          ...REMOTE,
        }),
        outboxMaxAgeS: Type.Integer({
          default: 604800,
          minimum: 1,
          maximum: 31_536_000,
          description: 'Undelivered events older than this are dropped (at most a year).',
          ...REMOTE,
        }),
        statsIntervalS: Type.Integer({ default: 30, minimum: 1, maximum: 86_400, description: 'How often stats are published.', ...REMOTE }),
        // Local-only: a remote sender must not lift its own limit.
        commandLimits: Type.Object(
          {
            configSet: commandLimit(5, 100, 'config/set: beyond the rate a patch is refused (answered on config/result with its requestId).'),
            contentSet: commandLimit(2, 5, 'content/set: beyond the rate plays are merged into the running one (counted as mergedPlays).'),
          },
          { default: {}, additionalProperties: false, description: 'Token-bucket rate limits of inbound command topics (counted in stats.commands).' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    remoteConfig: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Accept JSON merge patches on {root}/config/set (tuning keys only; see allow).' }),
        persist: Type.Boolean({
          default: true,
          description:
            'The default of a config/set patch\'s "save": keep accepted patches across restarts, in config-overrides.json in the state directory (layered over this file). Off: a patch without "save": true lasts until the next start. Saved overrides are read at every start either way.',
        }),
        maxBytes: Type.Integer({ default: 65536, minimum: 1, maximum: 1_048_576, description: 'Larger config/set payloads are rejected.' }),
        allow: Type.Array(
          Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)*$', maxLength: 128, 'x-hint': 'must be a dotted key path, e.g. mqtt.url' }),
          {
            default: [],
            maxItems: 64,
            uniqueItems: true,
            description:
              'Local-only keys a remote patch may set as well, e.g. [mqtt.url] (broker, credentials, TLS, model paths, state.dir, inference providers, source.uri, device.id). Only this file can grant it; remoteConfig.* stays local.',
          },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    schedule: Type.Object(
      {
        timezone: Type.String({ default: 'UTC', maxLength: 64, description: 'IANA time zone for opening hours and the daily summary, e.g. Europe/Berlin.' }),
        openingHours: Type.Array(
          Type.Object(
            {
              days: Type.String({ maxLength: 128, description: 'mon-fri, sat,sun, daily…' }),
              from: Type.String({ ...HHMM, description: 'HH:MM local time, 00:00–24:00' }),
              to: Type.String({ ...HHMM, description: 'HH:MM local time, 00:00–24:00 (may be past midnight)' }),
            },
            { additionalProperties: false },
          ),
          { default: [], maxItems: 64, description: 'Outside these hours a live camera is released and status says "paused". Empty: always open.' },
        ),
      },
      { default: {}, additionalProperties: false, ...REMOTE },
    ),
    homeassistant: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description: 'Publish Home Assistant MQTT discovery for people present, emotion, age-group and gender counts.',
          ...TUNE,
        }),
        prefix: Type.String({ default: 'homeassistant', ...TOPIC, description: 'Home Assistant discovery prefix (topic levels without + # NUL).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    preview: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            'Serve an annotated live view (MJPEG and a page) for aiming the camera and choosing thresholds; "percept preview" prints how to open it. Images never leave the device unless you tunnel the port (ssh -L).',
        }),
        host: Type.String({
          default: '127.0.0.1',
          minLength: 1,
          description: 'Listen address. Loopback only (127.0.0.1, ::1, localhost) unless preview.allowNonLoopback is true.',
        }),
        port: Type.Integer({ default: 8089, minimum: 0, maximum: 65535, description: 'Listen port (0: any free port, logged at start).' }),
        allowNonLoopback: Type.Boolean({
          default: false,
          description: 'Allow a non-loopback preview.host: anyone on that network then sees the camera, unauthenticated.',
        }),
        maxFps: Type.Number({
          default: 8,
          exclusiveMinimum: 0,
          maximum: 30,
          description: 'At most this many preview frames encoded per second, and only while a viewer is connected.',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    state: Type.Object(
      {
        dir: Type.String({
          default: '',
          ...PATH,
          description:
            'Where the event seq, undelivered events, the day so far and remote config overrides are kept across restarts. Empty: $STATE_DIRECTORY under systemd, /var/lib/percept as root, else $XDG_STATE_HOME/percept (~/.local/state/percept).',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: levelUnion({ default: 'info', ...HOT }),
        format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
          default: 'auto',
          description: 'auto: JSON lines when stderr is not a terminal (journald), readable lines otherwise.',
        }),
        namespaces: Type.Record(Type.String(), levelUnion(), {
          default: {},
          maxProperties: 64,
          propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,64}$', 'x-hint': 'namespace names are letters, digits and _ . : - (at most 64)' },
          description: 'Per-namespace levels, e.g. {detect: debug} (at most 64).',
          ...HOT,
        }),
      },
      { default: {}, additionalProperties: false, ...REMOTE },
    ),
  },
  { additionalProperties: false, $id: 'https://percept.local/schema/config.json', title: 'percept configuration' },
);

export type Config = Static<typeof ConfigSchema>;

export type { TSchema };
