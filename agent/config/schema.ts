// The configuration schema: the single source of the config's types, defaults and documentation. The
// JSON Schema users point their editor at (config/percept.schema.json) is generated from it.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const levelUnion = (opts = {}) => Type.Union(['error', 'warn', 'info', 'debug'].map((l) => Type.Literal(l)), opts);

export const ConfigSchema = Type.Object({
  device: Type.Object({
    id: Type.String({ default: '', pattern: '^[A-Za-z0-9_-]*$', maxLength: 64, description: 'Device id in MQTT topics. Empty: the sanitised hostname.' }),
  }, { default: {}, additionalProperties: false }),
  source: Type.Object({
    uri: Type.String({ default: '', description: 'Camera or clip: a video file, /dev/videoN, rtsp://…, gst:<GStreamer pipeline>, or a folder of images.' }),
    loop: Type.Boolean({ default: true, description: 'Replay a file from the start when it ends (ignored with --exit-on-eof).' }),
    imageIntervalMs: Type.Integer({ default: 200, minimum: 0, description: 'Image folders: time between images, used as their timestamps.' }),
    reconnectMinMs: Type.Integer({ default: 1000, minimum: 10, description: 'Live sources: first reconnect delay after a failure; doubles per attempt, with jitter…' }),
    reconnectMaxMs: Type.Integer({ default: 30000, minimum: 10, description: '…up to this.' }),
    frozenMs: Type.Integer({ default: 5000, minimum: 100, description: 'Live sources: no frame for this long counts as a failure (frozen stream).' }),
    openTimeoutMs: Type.Integer({ default: 15000, minimum: 1000, maximum: 300000, description: 'Opening a source (capture process start, OpenCV load, VideoCapture open) fails after this long; live sources then reconnect. A GStreamer pipeline whose source never delivers blocks in open forever.' }),
    readTimeoutMs: Type.Integer({ default: 10000, minimum: 100, maximum: 300000, description: 'One frame read or image decode fails after this long (the capture process is killed; live sources reconnect).' }),
  }, { default: {}, additionalProperties: false }),
  detector: Type.Object({
    model: Type.String({ default: '', description: 'Detector model directory (with model.json). Empty: YuNet when fetched ("percept models fetch yunet-n", run by setup), else the converted face-api SSD.' }),
    scoreThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Minimum face score.' }),
    iouThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Non-maximum suppression overlap.' }),
    minFacePx: Type.Integer({ default: 20, minimum: 1, description: 'Faces smaller than this (either side, frame pixels) are ignored.' }),
    maxFaces: Type.Integer({ default: 20, minimum: 1, maximum: 200, description: 'At most this many faces per frame.' }),
    intervalMs: Type.Integer({ default: 0, minimum: 0, description: 'Run detection at most this often (0: every frame); tracks coast on their prediction in between.' }),
    inputWidth: Type.Integer({ default: 640, minimum: 0, description: 'Detectors with a dynamic input (YuNet): the frame is scaled down (never up) to fit this width, keeping its aspect ratio, e.g. 1280x720 → 640x360 (0: no limit). Smaller is faster and misses small faces. The SSD always sees 512x512.' }),
    inputHeight: Type.Integer({ default: 0, minimum: 0, description: '…and this height (0: no limit).' }),
  }, { default: {}, additionalProperties: false }),
  classifier: Type.Object({
    models: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Attribute model directories. Empty: the converted face-api age/gender and expression nets. A multitask model (e.g. the PE-Core export) is one directory.' }),
    cropMargin: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'Crop margin around a face, as a fraction of its larger side, when the model manifest does not set one.' }),
    reclassifyMs: Type.Integer({ default: 4000, minimum: 100, description: 'Classify a visible person again after this long, to fuse more samples.' }),
    betterCropRatio: Type.Number({ default: 1.3, minimum: 1, description: 'Or sooner, when a crop this many times better (size, score, sharpness) than the best so far appears.' }),
    minGapMs: Type.Integer({ default: 1000, minimum: 0, description: 'Never classify the same person twice within this time.' }),
    maxSamples: Type.Integer({ default: 5, minimum: 1, description: 'Stop re-classifying a person after this many samples.' }),
    maxFacesPerSecond: Type.Number({ default: 10, exclusiveMinimum: 0, description: 'Budget: at most this many faces classified per second, whatever the model speed.' }),
    minFacePx: Type.Integer({ default: 40, minimum: 1, description: 'Faces smaller than this (larger side, px) are tracked but not classified.' }),
    minSharpness: Type.Number({ default: 20, minimum: 0, description: 'Faces blurrier than this (variance of the Laplacian at 64 px) are not classified.' }),
    edgeMargin: Type.Number({ default: 0.02, minimum: 0, maximum: 0.25, description: 'Faces this close to the frame border (fraction of its size) are likely cut off and not classified.' }),
    enterTimeoutMs: Type.Integer({ default: 3000, minimum: 0, description: 'Announce a confirmed person after this long even without a usable crop.' }),
    queueSize: Type.Integer({ default: 32, minimum: 1, maximum: 1024, description: 'Classification requests waiting while the classifier is busy; when full the lowest-priority one is dropped (and counted).' }),
    maxBatch: Type.Integer({ default: 8, minimum: 1, maximum: 64, description: 'At most this many faces per classifier call.' }),
  }, { default: {}, additionalProperties: false }),
  tracker: Type.Object({
    iouThreshold: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'Minimum overlap for a detection to continue a track.' }),
    minHits: Type.Integer({ default: 2, minimum: 1, description: 'Detections before a track counts as a person.' }),
    maxUnseenMs: Type.Integer({ default: 1000, minimum: 0, description: 'A person unseen this long has left.' }),
    tentativeUnseenMs: Type.Integer({ default: 300, minimum: 0, description: 'A track not yet confirmed ends after this long unseen.' }),
  }, { default: {}, additionalProperties: false }),
  fusion: Type.Object({
    margin: Type.Number({ default: 0.1, minimum: 0, maximum: 1, description: 'A new label must lead the published one by this fused probability…' }),
    minDurationMs: Type.Integer({ default: 1000, minimum: 0, description: '…for this long…' }),
    minSamples: Type.Integer({ default: 2, minimum: 1, description: '…over this many samples before an "updated" event.' }),
  }, { default: {}, additionalProperties: false }),
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
  }, { default: {}, additionalProperties: false }),
  camera: Type.Object({
    hfovDeg: Type.Number({ default: 70, exclusiveMinimum: 0, maximum: 179, description: 'Horizontal field of view of the camera (degrees), for the nearest person\'s direction.' }),
    vfovDeg: Type.Number({ default: 43, exclusiveMinimum: 0, maximum: 179, description: 'Vertical field of view (degrees).' }),
    faceWidthM: Type.Number({ default: 0.15, exclusiveMinimum: 0, maximum: 1, description: 'Typical face width (metres), for the distance estimate.' }),
  }, { default: {}, additionalProperties: false }),
  inference: Type.Object({
    providers: Type.Array(Type.Union(['tensorrt', 'cuda', 'cpu'].map((p) => Type.Literal(p))), { default: ['cpu'], minItems: 1, description: 'onnxruntime execution providers, tried in order per model.' }),
    threads: Type.Integer({ default: 2, minimum: 1, maximum: 64, description: 'Intra-op threads per model.' }),
    verifySha256: Type.Boolean({ default: true, description: 'Check every model file against its manifest sha256 at start.' }),
    timeoutMs: Type.Integer({ default: 30000, minimum: 100, maximum: 600000, description: 'One inference call fails after this long; its worker is terminated and the model reopened in a new one.' }),
  }, { default: {}, additionalProperties: false }),
  mqtt: Type.Object({
    url: Type.String({ default: '', description: 'Broker URL (mqtt://, mqtts://, ws://). Empty: start an embedded broker.' }),
    prefix: Type.String({ default: 'percept', pattern: '^[^#+]+$', description: 'Topic root prefix.' }),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' }),
    clientId: Type.String({ default: '', description: 'Empty: percept-<device id>.' }),
    username: Type.String({ default: '' }),
    password: Type.String({ default: '', description: 'Prefer passwordFile or PERCEPT_MQTT_PASSWORD; never logged.' }),
    passwordFile: Type.String({ default: '' }),
    embeddedHost: Type.String({ default: '127.0.0.1', description: 'Embedded broker listen address.' }),
    embeddedPort: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'Embedded broker port (0: any free port).' }),
    tls: Type.Object({
      ca: Type.String({ default: '', description: 'CA certificate file (PEM) to verify the broker with (mqtts://).' }),
      cert: Type.String({ default: '', description: 'Client certificate file (PEM), for brokers that require one.' }),
      key: Type.String({ default: '', description: 'Client private key file (PEM).' }),
      rejectUnauthorized: Type.Boolean({ default: true, description: 'Refuse a broker whose certificate does not verify. Turn off only for tests.' }),
    }, { default: {}, additionalProperties: false }),
    reconnectMinMs: Type.Integer({ default: 1000, minimum: 100, description: 'First reconnect delay; doubles per failed attempt, with jitter.' }),
    reconnectMaxMs: Type.Integer({ default: 60000, minimum: 100, description: 'Longest reconnect delay.' }),
    outboxMaxEvents: Type.Integer({ default: 10000, minimum: 1, description: 'Undelivered events kept on disk; beyond, the oldest are dropped (counted in stats).' }),
    outboxMaxAgeS: Type.Integer({ default: 604800, minimum: 1, description: 'Undelivered events older than this are dropped.' }),
    statsIntervalS: Type.Integer({ default: 30, minimum: 1, description: 'How often stats are published.' }),
  }, { default: {}, additionalProperties: false }),
  remoteConfig: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'Accept JSON merge patches on {root}/config/set.' }),
    persist: Type.Boolean({ default: false, description: 'Write accepted patches back to the config file (only when one was given).' }),
    maxBytes: Type.Integer({ default: 65536, minimum: 1, description: 'Larger config/set payloads are rejected.' }),
  }, { default: {}, additionalProperties: false }),
  schedule: Type.Object({
    timezone: Type.String({ default: 'UTC', description: 'IANA time zone for opening hours and the daily summary, e.g. Europe/Berlin.' }),
    openingHours: Type.Array(Type.Object({
      days: Type.String({ description: 'mon-fri, sat,sun, daily…' }),
      from: Type.String({ pattern: '^\\d{1,2}:\\d{2}$', description: 'HH:MM local time' }),
      to: Type.String({ pattern: '^\\d{1,2}:\\d{2}$', description: 'HH:MM local time (may be past midnight)' }),
    }, { additionalProperties: false }), { default: [], description: 'Outside these hours a live camera is released and status says "paused". Empty: always open.' }),
  }, { default: {}, additionalProperties: false }),
  homeassistant: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'Publish Home Assistant MQTT discovery for people present, emotion, age-group and gender counts.' }),
    prefix: Type.String({ default: 'homeassistant', description: 'Home Assistant discovery prefix.' }),
  }, { default: {}, additionalProperties: false }),
  state: Type.Object({
    dir: Type.String({ default: '/var/lib/percept', description: 'Where the event sequence number is kept across restarts.' }),
  }, { default: {}, additionalProperties: false }),
  log: Type.Object({
    level: levelUnion({ default: 'info' }),
    format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], { default: 'auto', description: 'auto: JSON lines when stderr is not a terminal (journald), readable lines otherwise.' }),
    namespaces: Type.Record(Type.String(), levelUnion(), { default: {}, description: 'Per-namespace levels, e.g. {detect: debug}.' }),
  }, { default: {}, additionalProperties: false }),
}, { additionalProperties: false, $id: 'https://percept.local/schema/config.json', title: 'percept configuration' });

export type Config = Static<typeof ConfigSchema>;

/** Config keys that contain secrets: redacted wherever the config is shown or published. */
export const SECRET_PATHS = [['mqtt', 'password']];

export type { TSchema };
