// The configuration schema: the single source of the config's types, defaults and documentation. The
// JSON Schema users point their editor at (config/percept.schema.json) is generated from it.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const levelUnion = (opts = {}) => Type.Union(['error', 'warn', 'info', 'debug'].map((l) => Type.Literal(l)), opts);

// Per-key flags, kept in the generated JSON Schema as x- keywords (validators and editors ignore them).
// Set on a section, they apply to every key in it unless a key says otherwise.
/** A running agent applies the key at once (remote patch or SIGHUP); otherwise it waits for a restart. */
const HOT = { 'x-hot': true } as const;
/** A remote patch on {root}/config/set may set the key. Keys without it are local-only, unless the local
 *  file names them in remoteConfig.allow. Deny by default: a new key is local until marked. */
const REMOTE = { 'x-remote': true } as const;
const TUNE = { ...HOT, ...REMOTE } as const;

/** Node's timers overflow above 2^31-1 ms (they fire after 1 ms): no time value may come near. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const HOUR_MS = 3_600_000;
/** A time in ms with a sensible ceiling (every one of them ends up in a timer or a comparison). */
const ms = (def: number, min: number, max: number, description: string, flags: object = {}) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description, ...flags });
/** An MQTT topic level sequence: no wildcard, no NUL, no empty level, not a $-reserved topic. */
const TOPIC_PATTERN = '^[^$#+/\\u0000][^#+/\\u0000]*(/[^#+/\\u0000]+)*$';
const PATH = { maxLength: 4096 } as const;
/** `x-hint`: the message shown when a pattern does not match, instead of the regular expression. */
const TOPIC = { pattern: TOPIC_PATTERN, maxLength: 128, 'x-hint': 'must be MQTT topic levels without +, #, NUL, empty levels or a leading $ (e.g. percept, shop/floor1)' } as const;
const HHMM = { pattern: '^(([01]?\\d|2[0-3]):[0-5]\\d|24:00)$', 'x-hint': 'must be a time HH:MM from 00:00 to 24:00, e.g. "08:30"' } as const;
const NO_NUL = { pattern: '^[^\\u0000]*$', 'x-hint': 'must not contain a NUL character' } as const;

export const ConfigSchema = Type.Object({
  device: Type.Object({
    id: Type.String({ default: '', pattern: '^[A-Za-z0-9_-]*$', maxLength: 64, 'x-hint': 'must be letters, digits, _ or - (it is a topic level)', description: 'Device id in MQTT topics. Empty: the sanitised hostname.' }),
  }, { default: {}, additionalProperties: false }),
  source: Type.Object({
    uri: Type.String({ default: '', maxLength: 4096, description: 'Camera or clip: a video file, /dev/videoN, rtsp://…, gst:<GStreamer pipeline>, or a folder of images. Required to run (or --source).' }),
    loop: Type.Boolean({ default: true, description: 'Replay a file from the start when it ends (ignored with --exit-on-eof).', ...REMOTE }),
    imageIntervalMs: ms(200, 0, HOUR_MS, 'Image folders: time between images, used as their timestamps.', REMOTE),
    reconnectMinMs: ms(1000, 10, HOUR_MS, 'Live sources: first reconnect delay after a failure; doubles per attempt, with jitter…', REMOTE),
    reconnectMaxMs: ms(30000, 10, HOUR_MS, '…up to this.', REMOTE),
    frozenMs: ms(5000, 100, 600_000, 'Live sources: no frame for this long counts as a failure (frozen stream).', REMOTE),
  }, { default: {}, additionalProperties: false }),
  detector: Type.Object({
    model: Type.String({ default: '', ...PATH, 'x-remote': false, description: 'Detector model directory (with model.json). Empty: YuNet when fetched ("percept models fetch yunet-n", run by setup), else the converted face-api SSD.' }),
    scoreThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Minimum face score.', ...HOT }),
    iouThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Non-maximum suppression overlap.', ...HOT }),
    minFacePx: Type.Integer({ default: 20, minimum: 1, maximum: 10_000, description: 'Faces smaller than this (either side, frame pixels) are ignored.', ...HOT }),
    maxFaces: Type.Integer({ default: 20, minimum: 1, maximum: 200, description: 'At most this many faces per frame.', ...HOT }),
    intervalMs: ms(0, 0, 60_000, 'Run detection at most this often (0: every frame); tracks coast on their prediction in between.', HOT),
    inputWidth: Type.Integer({ default: 640, minimum: 0, maximum: 8192, description: 'Detectors with a dynamic input (YuNet): the frame is scaled down (never up) to fit this width, keeping its aspect ratio, e.g. 1280x720 → 640x360 (0: no limit). Smaller is faster and misses small faces. The SSD always sees 512x512.', ...HOT }),
    inputHeight: Type.Integer({ default: 0, minimum: 0, maximum: 8192, description: '…and this height (0: no limit).', ...HOT }),
  }, { default: {}, additionalProperties: false, ...REMOTE }),
  classifier: Type.Object({
    models: Type.Array(Type.String({ minLength: 1, ...PATH }), { default: [], maxItems: 16, 'x-remote': false, description: 'Attribute model directories. Empty: the converted face-api age/gender and expression nets. A multitask model (e.g. the PE-Core export) is one directory.' }),
    cropMargin: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'Crop margin around a face, as a fraction of its larger side, when the model manifest does not set one.' }),
    reclassifyMs: ms(4000, 100, HOUR_MS, 'Classify a visible person again after this long, to fuse more samples.', HOT),
    betterCropRatio: Type.Number({ default: 1.3, minimum: 1, maximum: 100, description: 'Or sooner, when a crop this many times better (size, score, sharpness) than the best so far appears.', ...HOT }),
    minGapMs: ms(1000, 0, HOUR_MS, 'Never classify the same person twice within this time.', HOT),
    maxSamples: Type.Integer({ default: 5, minimum: 1, maximum: 1000, description: 'Stop re-classifying a person after this many samples.', ...HOT }),
    maxFacesPerSecond: Type.Number({ default: 10, exclusiveMinimum: 0, maximum: 1000, description: 'Budget: at most this many faces classified per second, whatever the model speed.', ...HOT }),
    minFacePx: Type.Integer({ default: 40, minimum: 1, maximum: 10_000, description: 'Faces smaller than this (larger side, px) are tracked but not classified.', ...HOT }),
    minSharpness: Type.Number({ default: 20, minimum: 0, maximum: 1_000_000, description: 'Faces blurrier than this (variance of the Laplacian at 64 px) are not classified.', ...HOT }),
    edgeMargin: Type.Number({ default: 0.02, minimum: 0, maximum: 0.25, description: 'Faces this close to the frame border (fraction of its size) are likely cut off and not classified.', ...HOT }),
    enterTimeoutMs: ms(3000, 0, HOUR_MS, 'Announce a confirmed person after this long even without a usable crop.', HOT),
    queueSize: Type.Integer({ default: 32, minimum: 1, maximum: 1024, description: 'Classification requests waiting while the classifier is busy; when full the lowest-priority one is dropped (and counted).' }),
    maxBatch: Type.Integer({ default: 8, minimum: 1, maximum: 64, description: 'At most this many faces per classifier call.', ...HOT }),
  }, { default: {}, additionalProperties: false, ...REMOTE }),
  tracker: Type.Object({
    iouThreshold: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'Minimum overlap for a detection to continue a track.' }),
    minHits: Type.Integer({ default: 2, minimum: 1, maximum: 1000, description: 'Detections before a track counts as a person.' }),
    maxUnseenMs: ms(1000, 0, HOUR_MS, 'A track unseen this long is lost: its visit is suspended (visit.graceMs), not ended.'),
    tentativeUnseenMs: ms(300, 0, HOUR_MS, 'A track not yet confirmed ends after this long unseen.'),
  }, { default: {}, additionalProperties: false, ...TUNE }),
  visit: Type.Object({
    graceMs: ms(5000, 0, HOUR_MS, 'A person unseen this long has left. Until then a lost track only suspends the visit: when the face is seen again (re-identified by its appearance, kept in memory only) the visit resumes with the same person id.'),
    reidThreshold: Type.Number({ default: 0.6, exclusiveMinimum: 0, maximum: 4, description: 'Face-embedding distance below which two faces count as the same person (the 128-d face-api net: same person below ~0.6).' }),
    reidMargin: Type.Number({ default: 0.1, minimum: 0, maximum: 4, description: 'The best match must be closer than the second best by this much, or the face resumes nobody (ambiguous).' }),
    positionGraceMs: ms(3000, 0, HOUR_MS, 'Without an appearance (no embedder, or no usable crop yet) a lost visit resumes only when a face reappears where it was lost, within this time of the last sight.'),
  }, { default: {}, additionalProperties: false, ...TUNE }),
  fusion: Type.Object({
    margin: Type.Number({ default: 0.1, minimum: 0, maximum: 1, description: 'A new label must lead the published one by this fused probability…' }),
    minDurationMs: ms(1000, 0, HOUR_MS, '…for this long…'),
    minSamples: Type.Integer({ default: 2, minimum: 1, maximum: 1000, description: '…over this many samples before an "updated" event.' }),
  }, { default: {}, additionalProperties: false, ...TUNE }),
  audience: Type.Object({
    minViewerFacePx: Type.Integer({ default: 36, minimum: 0, maximum: 4096, description: 'Faces smaller than this (larger side, frame px) are far passers-by: counted as opportunities to see, but they open no visit.' }),
    ignoreZones: Type.Array(Type.Array(Type.Tuple([Type.Number({ minimum: 0, maximum: 1 }), Type.Number({ minimum: 0, maximum: 1 })]), { minItems: 3, maxItems: 64 }), { default: [], maxItems: 32, description: 'Polygons in fractions of the frame (x, y from the top left); faces centred inside are ignored (a mirror, a window, a TV).' }),
    staticAfterS: Type.Integer({ default: 60, minimum: 0, maximum: 86400, description: 'A face that has not moved for this long (a poster, a photo, a screen) stops counting. 0: never.' }),
    staticTolerance: Type.Number({ default: 0.1, minimum: 0, maximum: 1, description: 'How far a face may wander (fraction of its size) and still count as not moving.' }),
    lookYawDeg: Type.Number({ default: 25, minimum: 0, maximum: 90, description: 'Looking at the camera: head turned at most this far left or right…' }),
    lookPitchDeg: Type.Number({ default: 20, minimum: 0, maximum: 90, description: '…and at most this far up or down.' }),
    minGlanceMs: Type.Integer({ default: 500, minimum: 0, maximum: 60000, description: 'A looking spell this long counts as a glance.' }),
    watcherMinMs: Type.Integer({ default: 1000, minimum: 0, maximum: 3600000, description: 'A viewer who looked this long during a content play is a watcher.' }),
    nearestMaxHz: Type.Number({ default: 10, minimum: 0, maximum: 10, description: 'How often {root}/nearest is published while someone is present (0: never).' }),
  }, { default: {}, additionalProperties: false, ...TUNE }),
  camera: Type.Object({
    hfovDeg: Type.Number({ default: 70, exclusiveMinimum: 0, maximum: 179, description: 'Horizontal field of view of the camera (degrees), for the nearest person\'s direction.' }),
    vfovDeg: Type.Number({ default: 43, exclusiveMinimum: 0, maximum: 179, description: 'Vertical field of view (degrees).' }),
    faceWidthM: Type.Number({ default: 0.15, exclusiveMinimum: 0, maximum: 1, description: 'Typical face width (metres), for the distance estimate.' }),
  }, { default: {}, additionalProperties: false, ...TUNE }),
  inference: Type.Object({
    providers: Type.Array(Type.Union(['tensorrt', 'cuda', 'cpu'].map((p) => Type.Literal(p))), { default: ['cpu'], minItems: 1, maxItems: 3, uniqueItems: true, description: 'onnxruntime execution providers, tried in order per model.' }),
    threads: Type.Integer({ default: 2, minimum: 1, maximum: 64, description: 'Intra-op threads per model.', ...REMOTE }),
    verifySha256: Type.Boolean({ default: true, description: 'Check every model file against its manifest sha256 at start.' }),
  }, { default: {}, additionalProperties: false }),
  mqtt: Type.Object({
    url: Type.String({ default: '', maxLength: 4096, description: 'Broker URL (mqtt://, mqtts://, ws://, wss://). Empty: start an embedded broker.' }),
    prefix: Type.String({ default: 'percept', ...TOPIC, description: 'Topic root prefix: topic levels without + # NUL, empty levels or a leading $.' }),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' }),
    clientId: Type.String({ default: '', ...NO_NUL, maxLength: 128, description: 'Empty: percept-<device id>.' }),
    username: Type.String({ default: '', ...NO_NUL, maxLength: 1024 }),
    password: Type.String({ default: '', maxLength: 1024, description: 'Prefer passwordFile or PERCEPT_MQTT_PASSWORD; never logged.' }),
    passwordFile: Type.String({ default: '', ...PATH, description: 'File whose first line is the broker password (must exist).' }),
    embeddedHost: Type.String({ default: '127.0.0.1', maxLength: 255, description: 'Embedded broker listen address.' }),
    embeddedPort: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'Embedded broker port (0: any free port).' }),
    tls: Type.Object({
      ca: Type.String({ default: '', ...PATH, description: 'CA certificate file (PEM) to verify the broker with (mqtts://).' }),
      cert: Type.String({ default: '', ...PATH, description: 'Client certificate file (PEM), for brokers that require one.' }),
      key: Type.String({ default: '', ...PATH, description: 'Client private key file (PEM).' }),
      rejectUnauthorized: Type.Boolean({ default: true, description: 'Refuse a broker whose certificate does not verify. Turn off only for tests.' }),
    }, { default: {}, additionalProperties: false }),
    reconnectMinMs: ms(1000, 100, HOUR_MS, 'First reconnect delay; doubles per failed attempt, with jitter.', REMOTE),
    reconnectMaxMs: ms(60000, 100, HOUR_MS, 'Longest reconnect delay.', REMOTE),
    outboxMaxEvents: Type.Integer({ default: 10000, minimum: 1, maximum: 10_000_000, description: 'Undelivered events kept on disk; beyond, the oldest are dropped (counted in stats).', ...REMOTE }),
    outboxMaxAgeS: Type.Integer({ default: 604800, minimum: 1, maximum: 31_536_000, description: 'Undelivered events older than this are dropped (at most a year).', ...REMOTE }),
    statsIntervalS: Type.Integer({ default: 30, minimum: 1, maximum: 86_400, description: 'How often stats are published.', ...REMOTE }),
  }, { default: {}, additionalProperties: false }),
  remoteConfig: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'Accept JSON merge patches on {root}/config/set (tuning keys only; see allow).' }),
    persist: Type.Boolean({ default: false, description: 'Keep accepted patches across restarts, in config-overrides.json in the state directory (layered over this file). Off: patches last until the next start.' }),
    maxBytes: Type.Integer({ default: 65536, minimum: 1, maximum: 1_048_576, description: 'Larger config/set payloads are rejected.' }),
    allow: Type.Array(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)*$', maxLength: 128, 'x-hint': 'must be a dotted key path, e.g. mqtt.url' }), {
      default: [], maxItems: 64, uniqueItems: true,
      description: 'Local-only keys a remote patch may set as well, e.g. [mqtt.url] (broker, credentials, TLS, model paths, state.dir, inference providers, source.uri, device.id). Only this file can grant it; remoteConfig.* stays local.',
    }),
  }, { default: {}, additionalProperties: false }),
  schedule: Type.Object({
    timezone: Type.String({ default: 'UTC', maxLength: 64, description: 'IANA time zone for opening hours and the daily summary, e.g. Europe/Berlin.' }),
    openingHours: Type.Array(Type.Object({
      days: Type.String({ maxLength: 128, description: 'mon-fri, sat,sun, daily…' }),
      from: Type.String({ ...HHMM, description: 'HH:MM local time, 00:00–24:00' }),
      to: Type.String({ ...HHMM, description: 'HH:MM local time, 00:00–24:00 (may be past midnight)' }),
    }, { additionalProperties: false }), { default: [], maxItems: 64, description: 'Outside these hours a live camera is released and status says "paused". Empty: always open.' }),
  }, { default: {}, additionalProperties: false, ...REMOTE }),
  homeassistant: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'Publish Home Assistant MQTT discovery for people present, emotion, age-group and gender counts.', ...TUNE }),
    prefix: Type.String({ default: 'homeassistant', ...TOPIC, description: 'Home Assistant discovery prefix (topic levels without + # NUL).' }),
  }, { default: {}, additionalProperties: false }),
  preview: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'Serve an annotated live view (MJPEG and a page) for aiming the camera and choosing thresholds; "percept preview" prints how to open it. Images never leave the device unless you tunnel the port (ssh -L).' }),
    host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Listen address. Loopback only (127.0.0.1, ::1, localhost) unless preview.allowNonLoopback is true.' }),
    port: Type.Integer({ default: 8089, minimum: 0, maximum: 65535, description: 'Listen port (0: any free port, logged at start).' }),
    allowNonLoopback: Type.Boolean({ default: false, description: 'Allow a non-loopback preview.host: anyone on that network then sees the camera, unauthenticated.' }),
    maxFps: Type.Number({ default: 8, exclusiveMinimum: 0, maximum: 30, description: 'At most this many preview frames encoded per second, and only while a viewer is connected.' }),
  }, { default: {}, additionalProperties: false }),
  state: Type.Object({
    dir: Type.String({ default: '', ...PATH, description: 'Where the event seq, undelivered events, the day so far and remote config overrides are kept across restarts. Empty: $STATE_DIRECTORY under systemd, /var/lib/percept as root, else $XDG_STATE_HOME/percept (~/.local/state/percept).' }),
  }, { default: {}, additionalProperties: false }),
  log: Type.Object({
    level: levelUnion({ default: 'info', ...HOT }),
    format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], { default: 'auto', description: 'auto: JSON lines when stderr is not a terminal (journald), readable lines otherwise.' }),
    namespaces: Type.Record(Type.String(), levelUnion(), {
      default: {}, maxProperties: 64, propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,64}$', 'x-hint': 'namespace names are letters, digits and _ . : - (at most 64)' }, description: 'Per-namespace levels, e.g. {detect: debug} (at most 64).', ...HOT,
    }),
  }, { default: {}, additionalProperties: false, ...REMOTE }),
}, { additionalProperties: false, $id: 'https://percept.local/schema/config.json', title: 'percept configuration' });

export type Config = Static<typeof ConfigSchema>;


export type { TSchema };
