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
import type { Classifier } from '../classify/classifier.js';
import { DEFAULT_MODELS } from '../inference/default-models.js';
import type { VisitOptions } from '../track/visits.js';
import type { QualityOptions } from '../track/quality.js';
import type { GateOptions } from '../track/audience-gate.js';
import { MqttPublisher } from '../publish/mqtt-publisher.js';
import type { Outbox } from '../publish/outbox.js';
import type { StatusPayload } from '../contract/payloads.js';
import type { Logger } from '../lib/logging.js';

export function visitOptions(c: Config): VisitOptions {
  const k = c.classifier;
  return {
    get reclassifyMs() { return k.reclassifyMs; }, get betterCropRatio() { return k.betterCropRatio; },
    get minGapMs() { return k.minGapMs; }, get maxSamples() { return k.maxSamples; },
    get enterTimeoutMs() { return k.enterTimeoutMs; }, hysteresis: c.fusion,
  };
}

export function qualityOptions(c: Config): QualityOptions {
  const k = c.classifier;
  return {
    get minFacePx() { return k.minFacePx; }, goodFacePx: 112, get minSharpness() { return k.minSharpness; },
    get goodSharpness() { return 10 * Math.max(k.minSharpness, 1); }, get edgeMargin() { return k.edgeMargin; },
  };
}

export function gateOptions(c: Config): GateOptions {
  const a = c.audience;
  return {
    get minViewerFacePx() { return a.minViewerFacePx; }, get ignoreZones() { return a.ignoreZones; },
    get staticAfterMs() { return a.staticAfterS * 1000; }, get staticTolerance() { return a.staticTolerance; },
  };
}

export async function openModels(cv: CV, config: Config, log: (m: string) => void): Promise<{ detector: FaceDetector; classifier: Classifier }> {
  const session = { providers: config.inference.providers, intraOpThreads: config.inference.threads, verifySha256: config.inference.verifySha256 };
  const detector = await openDetector(cv, config.detector, session, log);
  try {
    const dirs = config.classifier.models.length ? config.classifier.models : [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression];
    return { detector, classifier: await OnnxClassifier.open(cv, dirs, config.classifier.cropMargin, session, log) };
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
  cv: CV, config: Config, exitOnEof: boolean, log: Logger, onCamera: (state: CameraState, detail: string) => void,
): Promise<OpenedSource> {
  const { uri } = config.source;
  const make = () => new OpenCvSource(cv, uri, { loop: config.source.loop && !exitOnEof, realtime: !exitOnEof, imageIntervalMs: config.source.imageIntervalMs,
    openTimeoutMs: config.source.openTimeoutMs, readTimeoutMs: config.source.readTimeoutMs });
  const kind = sourceKind(uri);
  if (kind === 'file' || kind === 'images') {
    const s = make();
    await s.open();
    log.info(`source ${s.uri} (${s.kind}${s.fps ? `, ${s.fps} fps` : ''})`);
    return { source: s, camera: null };
  }
  const camera = new ResilientSource(uri, make, config.source, (state, detail) => {
    if (state === 'lost') log.warn(`camera ${uri} lost: ${detail}`);
    else log.info(`camera ${uri}: ${state}`);
    onCamera(state, detail);
  });
  log.info(`source ${uri} (${kind}; reconnects on failure)`);
  return { source: camera, camera };
}

export function makePublisher(config: Config, url: string, device: string, birth: StatusPayload, outbox: Outbox, log: Logger): MqttPublisher {
  const m = config.mqtt;
  return new MqttPublisher({
    url, clientId: m.clientId || `percept-${device}`, username: m.username, password: m.password, passwordFile: m.passwordFile,
    protocolVersion: m.protocolVersion, prefix: m.prefix, device, tls: m.tls,
    reconnectMinMs: m.reconnectMinMs, reconnectMaxMs: Math.max(m.reconnectMinMs, m.reconnectMaxMs), birth,
  }, outbox, log);
}
