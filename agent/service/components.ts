// How each component is built from the config: small factories the composition root calls in order.
// Views of the live config are getters, so hot changes of a remote patch show through at once.
import type { Config } from '../config/schema.js';
import type { CV } from '../capture/opencv.js';
import type { FrameSource } from '../capture/frame.js';
import { OpenCvSource, sourceKind } from '../capture/opencv-source.js';
import { ResilientSource, type CameraState } from '../capture/resilient-source.js';
import { openDetector } from '../detect/open-detector.js';
import type { FaceDetector } from '../detect/detector.js';
import { OnnxClassifier } from '../classify/onnx-classifier.js';
import { SwitchableClassifier } from '../classify/switchable-classifier.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODELS } from '../inference/default-models.js';
import { reportedTasks } from '../contract/labels.js';
import { OnnxEmbedder } from '../classify/onnx-embedder.js';
import type { Embedder } from '../classify/embedder.js';
import { SWITCH_DEADLINE_FACTOR, type SessionOptions } from '../inference/worker-session.js';
import type { VisitOptions } from '../track/visits.js';
import type { QualityOptions } from '../track/quality.js';
import type { GateOptions } from '../track/audience-gate.js';
import { MqttPublisher } from '../publish/mqtt-publisher.js';
import type { DeliveryQueue } from '../publish/outbox.js';
import type { OnlineStatus, StatusPayload } from '../contract/payloads.js';
import type { Logger } from '../lib/logging.js';
import { credentialFile } from '../lib/credentials.js';
import { EventSink, type EventSinkOptions } from '../publish/event-sink.js';
import { onlineStatus } from '../publish/status.js';

/** `c.visit` and `c.fusion` are the live sections themselves (not copies), so hot changes show through. */
export function visitOptions(c: Config, embedder: Embedder | null, reidLog?: Logger): VisitOptions {
  const k = c.classifier;
  const a = c.audience;
  return {
    get reclassifyMs() {
      return k.reclassifyMs;
    },
    get betterCropRatio() {
      return k.betterCropRatio;
    },
    get minGapMs() {
      return k.minGapMs;
    },
    get maxSamples() {
      return k.maxSamples;
    },
    get enterTimeoutMs() {
      return k.enterTimeoutMs;
    },
    hysteresis: c.fusion,
    reid: c.visit,
    ...(reidLog ? { reidLog } : {}),
    appearance: embedder !== null,
    ...(embedder ? { metric: embedder.metric } : {}),
    attention: {
      get minGlanceMs() {
        return a.minGlanceMs;
      },
      maxGapMs: 1000,
    },
  };
}

export function qualityOptions(c: Config): QualityOptions {
  const k = c.classifier;
  return {
    get minFacePx() {
      return k.minFacePx;
    },
    goodFacePx: 112,
    get minSharpness() {
      return k.minSharpness;
    },
    get goodSharpness() {
      return 10 * Math.max(k.minSharpness, 1);
    },
    get edgeMargin() {
      return k.edgeMargin;
    },
  };
}

export function gateOptions(c: Config): GateOptions {
  const a = c.audience;
  return {
    get minViewerFacePx() {
      return a.minViewerFacePx;
    },
    get ignoreZones() {
      return a.ignoreZones;
    },
    get staticAfterMs() {
      return a.staticAfterS * 1000;
    },
    get staticTolerance() {
      return a.staticTolerance;
    },
  };
}

export interface Models {
  detector: FaceDetector;
  /** Switchable while running: `percept models use` and config reloads swap the model behind it. */
  classifier: SwitchableClassifier;
  /** Face embeddings for re-identification; null when the converted net is missing (visits then resume by position). */
  embedder: Embedder | null;
}

export async function closeModels(m: Models): Promise<void> {
  await Promise.allSettled([m.detector.close(), m.classifier.close(), m.embedder?.close()]);
}

function sessionOptions(config: Config): SessionOptions {
  return {
    providers: config.inference.providers,
    intraOpThreads: config.inference.threads,
    verifySha256: config.inference.verifySha256,
    timeoutMs: config.inference.timeoutMs,
  };
}

/** The attribute model directories a value of classifier.models stands for (empty: the default nets; the expression net only with emotion on). */
export function classifierDirs(models: readonly string[], emotion = true): string[] {
  return models.length ? [...models] : [DEFAULT_MODELS.ageGender, ...(emotion ? [DEFAULT_MODELS.expression] : [])];
}

/**
 * Opens the attribute models named by `models` (classifier.models), each in its worker. With `verify`
 * (a switch while running) every file's sha256 is checked whatever inference.verifySha256 says, and one
 * inference on a zero batch must give the manifest's outputs: a model that fails is never switched to.
 */
export async function openClassifier(cv: CV, config: Config, models: readonly string[], log: Logger, verify = false): Promise<OnnxClassifier> {
  // A switch while running has a deadline (a hung read must not hold later switches or a stop); start-up has systemd's.
  const deadline = { verifySha256: true, openTimeoutMs: SWITCH_DEADLINE_FACTOR * config.inference.timeoutMs };
  const session = { ...sessionOptions(config), ...(verify ? deadline : {}), warmBatches: config.classifier.maxBatch };
  const k = config.classifier;
  const classifier = await OnnxClassifier.open(cv, classifierDirs(models, k.emotion), k.cropMargin, session, log, reportedTasks(k.emotion));
  if (verify) {
    try {
      await classifier.verify();
    } catch (err) {
      await classifier.close();
      throw err;
    }
  }
  return classifier;
}

export async function openModels(cv: CV, config: Config, log: Logger): Promise<Models> {
  const detector = await openDetector(cv, config.detector, sessionOptions(config), log);
  try {
    const classifier = new SwitchableClassifier(await openClassifier(cv, config, config.classifier.models, log));
    // The embedder gets the classifier's batches (pipeline.ts): warmed to the same size.
    const session = { ...sessionOptions(config), warmBatches: config.classifier.maxBatch };
    let embedder: Embedder | null = null;
    if (existsSync(join(DEFAULT_MODELS.embedder, 'model.json'))) {
      try {
        embedder = await OnnxEmbedder.open(cv, DEFAULT_MODELS.embedder, session, log);
      } catch (err) {
        await classifier.close();
        throw err;
      }
    } else {
      log.warn(
        `re-identification by appearance is off: no face embedding model in ${DEFAULT_MODELS.embedder} (npm run setup converts it); lost visits resume by position only`,
      );
    }
    return { detector, classifier, embedder };
  } catch (err) {
    await detector.close();
    throw err;
  }
}

export interface OpenedSource {
  source: FrameSource;
  /** Set for cameras and streams, which reconnect for ever instead of ending. */
  camera: ResilientSource | null;
}

export async function openSource(
  cv: CV,
  config: Config,
  exitOnEof: boolean,
  log: Logger,
  onCamera: (state: CameraState, detail: string) => void,
): Promise<OpenedSource> {
  const { uri } = config.source;
  const make = () =>
    new OpenCvSource(cv, uri, {
      loop: config.source.loop && !exitOnEof,
      realtime: !exitOnEof,
      imageIntervalMs: config.source.imageIntervalMs,
      log,
      openTimeoutMs: config.source.openTimeoutMs,
      readTimeoutMs: config.source.readTimeoutMs,
    });
  const kind = sourceKind(uri);
  // No source.uri is a live source that waits (the packaged config ships without one).
  if (uri && (kind === 'file' || kind === 'images')) {
    const s = make();
    await s.open();
    log.info(`source ${s.uri} (${s.kind}${s.fps ? `, ${s.fps} fps` : ''})`);
    return { source: s, camera: null };
  }
  const camera = new ResilientSource(uri, make, config.source, (state, detail) => {
    if (state === 'lost') log.warn(`camera ${uri} lost: ${detail}`);
    else if (state === 'waiting') log.warn(`camera ${uri || '(none)'} waiting: ${detail}`);
    else log.info(`camera ${uri}: ${state}`);
    onCamera(state, detail);
  });
  if (uri) log.info(`source ${uri} (${kind}; reconnects on failure)`);
  else log.warn(camera.detail);
  return { source: camera, camera };
}

/** The retained online status at start: what the camera is doing and why (a file source is `ok`), and stored overrides refused. */
export function birthStatus(device: string, version: string, model: string, camera: ResilientSource | null, overridesRejected?: string): OnlineStatus {
  return onlineStatus({
    device,
    version,
    model,
    ...(overridesRejected ? { overridesRejected } : {}),
    ...(camera ? { camera: camera.state, ...(camera.detail ? { cameraDetail: camera.detail } : {}) } : {}),
  });
}

export function makePublisher(config: Config, url: string, device: string, birth: StatusPayload, queue: DeliveryQueue, log: Logger): MqttPublisher {
  const m = config.mqtt;
  return new MqttPublisher(
    {
      url,
      clientId: m.clientId || `percept-${device}`,
      username: m.username,
      password: m.password,
      // A systemd credential (percept secret set) when the config names no password of its own.
      passwordFile: m.passwordFile || (m.password ? '' : credentialFile('mqtt-password')),
      protocolVersion: m.protocolVersion,
      prefix: m.prefix,
      device,
      tls: m.tls.key ? m.tls : { ...m.tls, key: credentialFile('tls-key') },
      reconnectMinMs: m.reconnectMinMs,
      reconnectMaxMs: Math.max(m.reconnectMinMs, m.reconnectMaxMs),
      birth,
    },
    queue,
    log,
  );
}

/** The outbox, seq and state store, started (pending events are delivered once a publisher attaches). */
export function openEventSink(c: Config, stateDir: string, eventTopic: EventSinkOptions['eventTopic'], log: Logger): EventSink {
  const sink = new EventSink({
    stateDir,
    eventTopic,
    maxEvents: c.mqtt.outboxMaxEvents,
    maxAgeMs: c.mqtt.outboxMaxAgeS * 1000,
    log,
  });
  sink.start();
  return sink;
}

/** The pipeline's hot settings, read live from the config sections. */
export function pipelineSettings(c: Config) {
  return {
    get maxBatch() {
      return c.classifier.maxBatch;
    },
    get lookYawDeg() {
      return c.audience.lookYawDeg;
    },
    get lookPitchDeg() {
      return c.audience.lookPitchDeg;
    },
  };
}
