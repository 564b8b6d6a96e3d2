// The config sections of the data path — where frames come from and how faces become visits and
// audience figures. The rest (inference, MQTT, remote config, schedule, service) is in schema.ts.
import { Type } from '@sinclair/typebox';
import { HOT, HOUR_MS, ms, PATH, REMOTE, TUNE } from './schema-kit.js';
import { MotionSection } from './schema-motion.js';
import { AudienceSections } from './schema-audience.js';

export const PipelineSections = {
  device: Type.Object(
    {
      id: Type.String({
        default: '',
        pattern: '^[A-Za-z0-9_-]*$',
        maxLength: 64,
        'x-hint': 'must be letters, digits, _ or - (it is a topic level)',
        description: 'Device id in MQTT topics. Empty: the sanitised hostname.',
      }),
    },
    { default: {}, additionalProperties: false },
  ),
  source: Type.Object(
    {
      uri: Type.String({
        default: '',
        maxLength: 4096,
        description: 'Camera or clip: a video file, /dev/videoN, rtsp://…, gst:<GStreamer pipeline>, or a folder of images. Required to run (or --source).',
      }),
      loop: Type.Boolean({ default: true, description: 'Replay a file from the start when it ends (ignored with --exit-on-eof).', ...REMOTE }),
      imageIntervalMs: ms(200, 0, HOUR_MS, 'Image folders: time between images, used as their timestamps.', REMOTE),
      reconnectMinMs: ms(1000, 10, HOUR_MS, 'Live sources: first reconnect delay after a failure; doubles per attempt, with jitter…', REMOTE),
      reconnectMaxMs: ms(30000, 10, HOUR_MS, '…up to this.', REMOTE),
      frozenMs: ms(5000, 100, 600_000, 'Live sources: no frame for this long counts as a failure (frozen stream).', REMOTE),
      openTimeoutMs: ms(
        15000,
        1000,
        300_000,
        'Opening a source (capture process start, OpenCV load, VideoCapture open) fails after this long; live sources then reconnect. A GStreamer pipeline whose source never delivers blocks in open forever.',
        REMOTE,
      ),
      readTimeoutMs: ms(
        10000,
        100,
        300_000,
        'One frame read or image decode fails after this long (the capture process is killed; live sources reconnect).',
        REMOTE,
      ),
    },
    { default: {}, additionalProperties: false },
  ),
  detector: Type.Object(
    {
      model: Type.String({
        default: '',
        ...PATH,
        'x-remote': false,
        description:
          'Detector model directory (with model.json). Empty: YuNet when fetched ("percept models fetch yunet-n", run by setup), else the converted face-api SSD.',
      }),
      scoreThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Minimum face score.', ...HOT }),
      iouThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Non-maximum suppression overlap.', ...HOT }),
      minFacePx: Type.Integer({
        default: 20,
        minimum: 1,
        maximum: 10_000,
        description: 'Faces smaller than this (either side, frame pixels) are ignored.',
        ...HOT,
      }),
      maxFaces: Type.Integer({ default: 20, minimum: 1, maximum: 200, description: 'At most this many faces per frame.', ...HOT }),
      intervalMs: ms(
        0,
        0,
        60_000,
        'Run a detection pass (full-frame or regions) at most this often (0: every frame); tracks coast on their prediction in between.',
        HOT,
      ),
      fullFrameMs: ms(
        1000,
        0,
        60_000,
        'With motion.enabled, a full-frame detection pass at least this often, so a person who arrives without moving (or stood there at start) is found; between them the detector sees only the regions with motion and around the tracked faces. 0: every pass is full-frame. The SSD detector always detects the whole frame.',
        HOT,
      ),
      inputWidth: Type.Integer({
        default: 640,
        minimum: 0,
        maximum: 8192,
        description:
          'Detectors with a dynamic input (YuNet): the frame is scaled down (never up) to fit this width, keeping its aspect ratio, e.g. 1280x720 → 640x360 (0: no limit). Smaller is faster and misses small faces. The SSD always sees 512x512.',
        ...HOT,
      }),
      inputHeight: Type.Integer({ default: 0, minimum: 0, maximum: 8192, description: '…and this height (0: no limit).', ...HOT }),
    },
    { default: {}, additionalProperties: false, ...REMOTE },
  ),
  motion: MotionSection,
  classifier: Type.Object(
    {
      models: Type.Array(Type.String({ minLength: 1, ...PATH }), {
        default: [],
        maxItems: 16,
        // Hot: a running agent opens and verifies the new models, then switches (features/model-switch.ts).
        // Never remote unless the local file opens it: a model path is a local decision.
        ...HOT,
        'x-remote': false,
        description:
          'Attribute model directories. Empty: the converted face-api age/gender and expression nets. A multitask model (e.g. the PE-Core export) is one directory. A running agent switches to new ones on SIGHUP ("percept models use DIR") once they pass verification.',
      }),
      emotion: Type.Boolean({
        default: true,
        // Not remote: turning emotion recognition back on is a legal decision for whoever holds the device's file.
        'x-remote': false,
        description:
          'Run the emotion task. false: the expression model is not opened (an emotion head of a multitask model is not read), and emotion leaves events, audience, nearest, Home Assistant, impressions and the daily summary (docs/privacy.md). Takes effect at restart.',
      }),
      cropMargin: Type.Number({
        default: 0.2,
        minimum: 0,
        maximum: 1,
        description: 'Crop margin around a face, as a fraction of its larger side, when the model manifest does not set one.',
      }),
      reclassifyMs: ms(4000, 100, HOUR_MS, 'Classify a visible person again after this long, to fuse more samples.', HOT),
      betterCropRatio: Type.Number({
        default: 1.3,
        minimum: 1,
        maximum: 100,
        description: 'Or sooner, when a crop this many times better (size, score, sharpness) than the best so far appears.',
        ...HOT,
      }),
      minGapMs: ms(1000, 0, HOUR_MS, 'Never classify the same person twice within this time.', HOT),
      maxSamples: Type.Integer({ default: 5, minimum: 1, maximum: 1000, description: 'Stop re-classifying a person after this many samples.', ...HOT }),
      maxFacesPerSecond: Type.Number({
        default: 10,
        exclusiveMinimum: 0,
        maximum: 1000,
        description: 'Budget: at most this many faces classified per second, whatever the model speed.',
        ...HOT,
      }),
      minFacePx: Type.Integer({
        default: 40,
        minimum: 1,
        maximum: 10_000,
        description: 'Faces smaller than this (larger side, px) are tracked but not classified.',
        ...HOT,
      }),
      minSharpness: Type.Number({
        default: 20,
        minimum: 0,
        maximum: 1_000_000,
        description: 'Faces blurrier than this (variance of the Laplacian at 64 px) are not classified.',
        ...HOT,
      }),
      edgeMargin: Type.Number({
        default: 0.02,
        minimum: 0,
        maximum: 0.25,
        description: 'Faces this close to the frame border (fraction of its size) are likely cut off and not classified.',
        ...HOT,
      }),
      enterTimeoutMs: ms(3000, 0, HOUR_MS, 'Announce a confirmed person after this long even without a usable crop.', HOT),
      queueSize: Type.Integer({
        default: 32,
        minimum: 1,
        maximum: 1024,
        description: 'Classification requests waiting while the classifier is busy; when full the lowest-priority one is dropped (and counted).',
      }),
      maxBatch: Type.Integer({ default: 8, minimum: 1, maximum: 64, description: 'At most this many faces per classifier call.', ...HOT }),
    },
    { default: {}, additionalProperties: false, ...REMOTE },
  ),
  tracker: Type.Object(
    {
      iouThreshold: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'Minimum overlap for a detection to continue a track.' }),
      minHits: Type.Integer({ default: 2, minimum: 1, maximum: 1000, description: 'Detections before a track counts as a person.' }),
      maxUnseenMs: ms(1000, 0, HOUR_MS, 'A track unseen this long is lost: its visit is suspended (visit.graceMs), not ended.'),
      tentativeUnseenMs: ms(300, 0, HOUR_MS, 'A track not yet confirmed ends after this long unseen.'),
    },
    { default: {}, additionalProperties: false, ...TUNE },
  ),
  visit: Type.Object(
    {
      graceMs: ms(
        5000,
        0,
        HOUR_MS,
        'A person unseen this long has left. Until then a lost track only suspends the visit: when the face is seen again (re-identified by its appearance, kept in memory only) the visit resumes with the same person id.',
      ),
      reidThreshold: Type.Number({
        default: 0.45,
        exclusiveMinimum: 0,
        maximum: 4,
        description:
          'Face-embedding distance below which two faces count as the same person (the converted 128-d face-api net: 0.45 — the published 0.6 calls most pairs of different people on the test photos the same).',
      }),
      reidMargin: Type.Number({
        default: 0.1,
        minimum: 0,
        maximum: 4,
        description: 'The best match must be closer than the second best by this much, or the face resumes nobody (ambiguous).',
      }),
      positionGraceMs: ms(
        3000,
        0,
        HOUR_MS,
        'Without an appearance (no embedder, or no usable crop yet) a lost visit resumes only when a face reappears where it was lost, within this time of the last sight.',
      ),
      minDwellMs: ms(
        500,
        0,
        HOUR_MS,
        'A track is announced as a visit only once seen over this long: fragments born where people cross or are hidden vanish without events (counted in stats visits.fragmentsDropped).',
      ),
      minPasses: Type.Integer({
        default: 3,
        minimum: 1,
        maximum: 1000,
        description: '…and in at least this many detection passes (passes, not frames: detection may not run on every frame).',
      }),
    },
    { default: {}, additionalProperties: false, ...TUNE },
  ),
  fusion: Type.Object(
    {
      margin: Type.Number({
        default: 0.1,
        minimum: 0,
        maximum: 1,
        description: 'An "updated" event is sent only when a new arg-max leads the last announced label by this fused probability…',
      }),
      minDurationMs: ms(1000, 0, HOUR_MS, '…for this long…'),
      minSamples: Type.Integer({ default: 2, minimum: 1, maximum: 1000, description: '…over this many samples before an "updated" event.' }),
      enterMinSamples: Type.Integer({
        default: 2,
        minimum: 1,
        maximum: 1000,
        description: '"entered" waits (up to classifier.enterTimeoutMs) until this many samples are fused, or until every task reaches enterMinP.',
      }),
      enterMinP: Type.Object(
        {
          age: Type.Number({ default: 0.35, minimum: 0, maximum: 1, description: 'Fused probability of the age group that is confident from one sample.' }),
          gender: Type.Number({ default: 0.75, minimum: 0, maximum: 1, description: 'Fused probability of the gender that is confident from one sample.' }),
          emotion: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'Fused probability of the emotion that is confident from one sample.' }),
        },
        { default: {}, additionalProperties: false },
      ),
    },
    { default: {}, additionalProperties: false, ...TUNE },
  ),
  ...AudienceSections,
};
