// The composition root: builds every component from the config, starts them in order (models, source,
// state, broker, publisher) and stops them in reverse. Nothing is written to the state directory until
// everything that can fail on bad input (config, models, source) has been checked.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { deviceId } from '../config/load.js';
import { loadOpenCV } from '../capture/opencv.js';
import { OpenCvSource } from '../capture/opencv-source.js';
import type { FrameSource } from '../capture/frame.js';
import { SsdDetector } from '../detect/ssd-detector.js';
import type { FaceDetector } from '../detect/detector.js';
import { OnnxClassifier } from '../classify/onnx-classifier.js';
import type { Classifier } from '../classify/classifier.js';
import { DEFAULT_MODELS, PACKAGE_ROOT } from '../inference/default-models.js';
import { Tracker } from '../track/tracker.js';
import { CallBudget } from '../track/budget.js';
import { AudienceThrottle, audiencePayload } from '../publish/audience.js';
import { VisitBook, type AudiencePerson, type Visit, type VisitEvent } from '../track/visits.js';
import { ClassificationQueue } from '../track/classify-queue.js';
import { EmbeddedBroker } from '../publish/embedded-broker.js';
import { MqttPublisher } from '../publish/mqtt-publisher.js';
import { eventPayload, type EventPayload } from '../publish/payloads.js';
import type { Publisher } from '../publish/publisher.js';
import { StateStore } from '../publish/state-store.js';
import { child, type Logger } from './logging.js';
import { Pipeline } from './pipeline.js';
import { PipelineStats } from './stats.js';

export const VERSION = (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string }).version;

const STATS_INTERVAL_MS = 30_000;

export interface AgentOptions {
  config: Config;
  log: Logger;
  /** Read every frame of a file and exit at its end (tests, batch runs). */
  exitOnEof: boolean;
  /** Every event payload as a JSON line, e.g. to stdout. */
  onEvent?: (payload: EventPayload) => void;
}

export class Agent {
  private detector: FaceDetector | null = null;
  private classifier: Classifier | null = null;
  private source: FrameSource | null = null;
  private broker: EmbeddedBroker | null = null;
  private publisher: Publisher | null = null;
  private pipeline: Pipeline | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly log: Logger;
  readonly stats = new PipelineStats();
  readonly queue: ClassificationQueue<Visit>;
  private tracker: Tracker | null = null;
  private visits: VisitBook | null = null;
  readonly device: string;
  brokerUrl = '';

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log;
    this.device = deviceId(opts.config);
    this.queue = new ClassificationQueue(opts.config.classifier.queueSize);
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    const log = this.log;
    if (!config.source.uri) throw new Error('no source: set source.uri in the config or pass --source (a video file, /dev/videoN, rtsp://…, gst:<pipeline> or a folder of images)');
    const cv = await loadOpenCV();
    const session = { providers: config.inference.providers, intraOpThreads: config.inference.threads, verifySha256: config.inference.verifySha256 };
    const modelLog = (m: string) => child(log, 'models').info(m);
    try {
      this.detector = await SsdDetector.open(cv, config.detector.model || DEFAULT_MODELS.detector, {
        scoreThreshold: config.detector.scoreThreshold, iouThreshold: config.detector.iouThreshold,
        minFacePx: config.detector.minFacePx, maxFaces: config.detector.maxFaces,
      }, session, modelLog);
      const classifierDirs = config.classifier.models.length ? config.classifier.models : [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression];
      this.classifier = await OnnxClassifier.open(cv, classifierDirs, config.classifier.cropMargin, session, modelLog);

      const source = new OpenCvSource(cv, config.source.uri, {
        loop: config.source.loop && !this.opts.exitOnEof, realtime: !this.opts.exitOnEof, imageIntervalMs: config.source.imageIntervalMs,
      });
      await source.open();
      this.source = source;
      child(log, 'capture').info(`source ${source.uri} (${source.kind}${source.fps ? `, ${source.fps} fps` : ''})`);

      const state = new StateStore(config.state.dir);
      let url = config.mqtt.url;
      if (!url) {
        this.broker = await EmbeddedBroker.start(config.mqtt.embeddedHost, config.mqtt.embeddedPort);
        url = this.broker.url;
        child(log, 'publish').info(`embedded MQTT broker listening on ${url} (subscribe to ${config.mqtt.prefix}/${this.device}/#)`);
      }
      this.brokerUrl = url;
      const model = this.classifier.name;
      this.publisher = new MqttPublisher({
        url, clientId: config.mqtt.clientId || `percept-${this.device}`, username: config.mqtt.username,
        password: config.mqtt.password, passwordFile: config.mqtt.passwordFile, protocolVersion: config.mqtt.protocolVersion,
        prefix: config.mqtt.prefix, device: this.device,
        birth: { state: 'online', version: VERSION, model, startedAt: new Date().toISOString() },
      }, child(log, 'publish'));
      await this.publisher.start();

      const c = config.classifier;
      this.tracker = new Tracker(config.tracker);
      this.visits = new VisitBook({
        reclassifyMs: c.reclassifyMs, betterCropRatio: c.betterCropRatio, minGapMs: c.minGapMs, maxSamples: c.maxSamples,
        enterTimeoutMs: c.enterTimeoutMs, hysteresis: config.fusion,
      }, () => randomUUID());
      this.pipeline = new Pipeline({
        cv, source, detector: this.detector, classifier: this.classifier, tracker: this.tracker, visits: this.visits, stats: this.stats,
        queue: this.queue, budget: new CallBudget(c.maxFacesPerSecond),
        quality: { minFacePx: c.minFacePx, goodFacePx: 112, minSharpness: c.minSharpness, goodSharpness: 10 * Math.max(c.minSharpness, 1), edgeMargin: c.edgeMargin },
        log: child(log, 'pipeline'), maxBatch: c.maxBatch, detectIntervalMs: config.detector.intervalMs, everyFrame: this.opts.exitOnEof,
        emit: (ev, frame) => this.emit(ev, frame, state, model),
        onAudience: (people, ts) => this.audience(people, ts),
      });
      this.statsTimer = setInterval(() => { void this.publisher?.publishStats(this.statsSnapshot()).catch(() => undefined); }, STATS_INTERVAL_MS);
      this.statsTimer.unref();
    } catch (err) {
      await this.shutdown('start-failed');
      throw err;
    }
  }

  private emit(ev: VisitEvent, frame: { width: number; height: number }, state: StateStore, model: string): void {
    const t = performance.now();
    const payload = eventPayload(ev, state.next(), this.device, model, frame);
    this.stats.events++;
    this.opts.onEvent?.(payload);
    const p: Promise<void> = this.publisher!.publishEvent(payload)
      .catch((err: Error) => { child(this.log, 'publish').error(`event seq ${payload.seq} not published: ${err.message}`); })
      .finally(() => { this.pending.delete(p); this.stats.stages.publish.add(performance.now() - t); });
    this.pending.add(p);
  }

  private readonly throttle = new AudienceThrottle(1000);
  private audienceTimer: NodeJS.Timeout | null = null;
  private audienceTs = 0;

  /** Retained audience snapshot on change, at most once a second; a change inside the second is sent when it is up. */
  private audience(people: AudiencePerson[], ts: number): void {
    this.audienceTs = ts;
    if (this.throttle.due(people, Date.now())) {
      this.track(this.publisher!.publishAudience(audiencePayload(people, ts, this.device)));
    } else if (!this.audienceTimer && this.throttle.changed(people)) {
      this.audienceTimer = setTimeout(() => {
        this.audienceTimer = null;
        const now = this.visits?.present() ?? [];
        if (this.publisher && this.throttle.due(now, Date.now())) this.track(this.publisher.publishAudience(audiencePayload(now, this.audienceTs, this.device)));
      }, 1000);
    }
  }

  /** Publishes without awaiting, keeping the promise so shutdown can flush it. */
  private track(p: Promise<void>): void {
    const tracked: Promise<void> = p.catch((err: Error) => { child(this.log, 'publish').warn(err.message); }).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  statsSnapshot() {
    const v = this.visits;
    const t = this.tracker;
    const open = v ? [...v.visits.values()].filter((x) => x.entered) : [];
    const personMs = (v?.finishedDwellMs ?? 0) + open.reduce((a, x) => a + (x.track.lastSeen - x.track.firstSeen), 0);
    const calls = (v?.finishedCalls ?? 0) + open.reduce((a, x) => a + x.samples, 0);
    return this.stats.snapshot({
      classifyQueue: { depth: this.queue.depth, maxDepth: this.queue.maxDepth, dropped: this.queue.dropped, capacity: this.queue.capacity },
      visits: {
        entered: v?.entered ?? 0, left: v?.left ?? 0, updated: v?.updates ?? 0,
        labelChangesPerVisit: v && v.entered ? Math.round((v.updates / v.entered) * 1000) / 1000 : 0,
        classifierCallsPerPersonSecond: personMs > 0 ? Math.round((calls / (personMs / 1000)) * 1000) / 1000 : 0,
        tracksConfirmed: t?.confirmedTotal ?? 0, tracksEnded: t?.endedTotal ?? 0,
      },
    });
  }

  /** Runs the pipeline until the source ends (with exitOnEof) or stop() is called. */
  async run(): Promise<void> {
    await this.pipeline!.run();
  }

  /** Stops capture; the pipeline then ends open visits, and everything is flushed and closed. */
  requestStop(): void {
    this.pipeline?.stop();
    void this.source?.close();
  }

  async shutdown(reason = 'shutdown'): Promise<void> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.audienceTimer) clearTimeout(this.audienceTimer);
    // The last snapshot (usually nobody left) must not be lost to the once-a-second limit.
    if (this.visits && this.publisher && this.throttle.changed(this.visits.present())) {
      this.track(this.publisher.publishAudience(audiencePayload(this.visits.present(), this.audienceTs, this.device)));
    }
    await Promise.allSettled([...this.pending]);
    await this.publisher?.stop(reason).catch((err: Error) => this.log.warn(`publisher stop: ${err.message}`));
    await this.broker?.stop();
    await this.source?.close();
    await Promise.allSettled([this.detector?.close(), this.classifier?.close()]);
    this.publisher = null;
    this.broker = null;
  }
}
