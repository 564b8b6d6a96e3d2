// The composition root: builds every component from the config, starts them in order (models, source,
// state, broker, publisher, device topics) and stops them in reverse. Nothing is written to the state
// directory until everything that can fail on bad input (config, models, source) has been checked.
// Components hold the live config sections, so hot keys of a remote patch take effect at once.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { deviceId } from '../config/load.js';
import { loadOpenCV } from '../capture/opencv.js';
import { OpenCvSource, sourceKind } from '../capture/opencv-source.js';
import { ResilientSource } from '../capture/resilient-source.js';
import { cronTask, isOpen, SummaryBook } from './schedule.js';
import type { ScheduledTask } from 'node-cron';
import type { FrameSource } from '../capture/frame.js';
import { SsdDetector } from '../detect/ssd-detector.js';
import type { FaceDetector } from '../detect/detector.js';
import { OnnxClassifier } from '../classify/onnx-classifier.js';
import type { Classifier } from '../classify/classifier.js';
import { DEFAULT_MODELS, PACKAGE_ROOT } from '../inference/default-models.js';
import { Tracker } from '../track/tracker.js';
import { FacesPerSecondLimit } from '../track/faces-per-second.js';
import { VisitBook, type Visit, type VisitEvent, type VisitOptions } from '../track/visits.js';
import { ClassificationQueue } from '../track/classify-queue.js';
import type { QualityOptions } from '../track/quality.js';
import { EmbeddedBroker } from '../publish/embedded-broker.js';
import { MqttPublisher } from '../publish/mqtt-publisher.js';
import type { Publisher } from '../publish/publisher.js';
import { Outbox } from '../publish/outbox.js';
import { eventPayload, topics, type EventPayload } from '../publish/payloads.js';
import { StateStore } from '../publish/state-store.js';
import { child, mostVerbose, type Logger } from './logging.js';
import { Pipeline } from './pipeline.js';
import { PipelineStats } from './stats.js';
import { DeviceTopics } from './device-topics.js';

export const VERSION = (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string }).version;

export interface AgentOptions {
  config: Config;
  /** The file the config came from, if any (remote patches may be persisted into it). */
  configFile?: string | null;
  log: Logger;
  /** Read every frame of a file and exit at its end (tests, batch runs). */
  exitOnEof: boolean;
  /** Every event payload, e.g. printed to stdout. */
  onEvent?: (payload: EventPayload) => void;
}

/** Views of the live config in the shapes the components take; getters, so hot changes show through. */
function visitOptions(c: Config): VisitOptions {
  const k = c.classifier;
  return {
    get reclassifyMs() { return k.reclassifyMs; }, get betterCropRatio() { return k.betterCropRatio; },
    get minGapMs() { return k.minGapMs; }, get maxSamples() { return k.maxSamples; },
    get enterTimeoutMs() { return k.enterTimeoutMs; }, hysteresis: c.fusion,
  };
}

function qualityOptions(c: Config): QualityOptions {
  const k = c.classifier;
  return {
    get minFacePx() { return k.minFacePx; }, goodFacePx: 112, get minSharpness() { return k.minSharpness; },
    get goodSharpness() { return 10 * Math.max(k.minSharpness, 1); }, get edgeMargin() { return k.edgeMargin; },
  };
}

export class Agent {
  private detector: FaceDetector | null = null;
  private classifier: Classifier | null = null;
  private source: FrameSource | null = null;
  private broker: EmbeddedBroker | null = null;
  private publisher: Publisher | null = null;
  private outbox: Outbox | null = null;
  private topicsMgr: DeviceTopics | null = null;
  private pipeline: Pipeline | null = null;
  private tracker: Tracker | null = null;
  private visits: VisitBook | null = null;
  private readonly log: Logger;
  private camera: ResilientSource | null = null;
  private readonly tasks: ScheduledTask[] = [];
  private summary: SummaryBook | null = null;
  private summaryDirty = false;
  /** Called on every sign of progress (a frame processed, a camera reconnect attempt). */
  heartbeat: (() => void) | null = null;
  readonly stats = new PipelineStats();
  readonly queue: ClassificationQueue<Visit>;
  readonly device: string;

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log;
    this.device = deviceId(opts.config);
    this.queue = new ClassificationQueue(opts.config.classifier.queueSize);
  }

  get config(): Config { return this.opts.config; }

  async start(): Promise<void> {
    const config = this.opts.config;
    const log = this.log;
    if (!config.source.uri) throw new Error('no source: set source.uri in the config or pass --source (a video file, /dev/videoN, rtsp://…, gst:<pipeline> or a folder of images)');
    const cv = await loadOpenCV();
    const session = { providers: config.inference.providers, intraOpThreads: config.inference.threads, verifySha256: config.inference.verifySha256 };
    const modelLog = (m: string) => child(log, 'models').info(m);
    try {
      this.detector = await SsdDetector.open(cv, config.detector.model || DEFAULT_MODELS.detector, config.detector, session, modelLog);
      const classifierDirs = config.classifier.models.length ? config.classifier.models : [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression];
      this.classifier = await OnnxClassifier.open(cv, classifierDirs, config.classifier.cropMargin, session, modelLog);

      const captureLog = child(log, 'capture');
      const makeSource = () => new OpenCvSource(cv, config.source.uri, {
        loop: config.source.loop && !this.opts.exitOnEof, realtime: !this.opts.exitOnEof, imageIntervalMs: config.source.imageIntervalMs,
      });
      const kind = sourceKind(config.source.uri);
      let source: FrameSource;
      if (kind === 'file' || kind === 'images') {
        const s = makeSource();
        await s.open();
        source = s;
        captureLog.info(`source ${s.uri} (${s.kind}${s.fps ? `, ${s.fps} fps` : ''})`);
      } else {
        // Cameras and streams come and go: reconnect for ever, never exit for them.
        this.camera = new ResilientSource(config.source.uri, makeSource, config.source, (state, detail) => {
          if (state === 'lost') captureLog.warn(`camera ${config.source.uri} lost: ${detail}`);
          else captureLog.info(`camera ${config.source.uri}: ${state}`);
          this.heartbeat?.();
          this.publisher?.updateStatus({ camera: state, cameraDetail: detail || undefined });
        });
        source = this.camera;
        captureLog.info(`source ${config.source.uri} (${kind}; reconnects on failure)`);
      }
      this.source = source;

      const state = new StateStore(config.state.dir);
      const publishLog = child(log, 'publish');
      this.outbox = new Outbox(config.state.dir, { maxEvents: config.mqtt.outboxMaxEvents, maxAgeMs: config.mqtt.outboxMaxAgeS * 1000 }, (m) => publishLog.warn(m));
      const pending = this.outbox.pending();
      state.ensureAtLeast(pending[pending.length - 1] ?? 0);
      if (pending.length) publishLog.info(`${pending.length} undelivered event(s) from an earlier run wait in the outbox (seq ${pending[0]}…${pending[pending.length - 1]})`);

      let url = config.mqtt.url;
      if (!url) {
        this.broker = await EmbeddedBroker.start(config.mqtt.embeddedHost, config.mqtt.embeddedPort);
        url = this.broker.url;
        publishLog.info(`embedded MQTT broker listening on ${url} (subscribe to ${config.mqtt.prefix}/${this.device}/#)`);
      }
      const model = this.classifier.name;
      const m = config.mqtt;
      this.publisher = new MqttPublisher({
        url, clientId: m.clientId || `percept-${this.device}`, username: m.username, password: m.password, passwordFile: m.passwordFile,
        protocolVersion: m.protocolVersion, prefix: m.prefix, device: this.device, tls: m.tls,
        reconnectMinMs: m.reconnectMinMs, reconnectMaxMs: Math.max(m.reconnectMinMs, m.reconnectMaxMs),
        birth: { state: 'online', version: VERSION, model, startedAt: new Date().toISOString(), ...(this.camera ? { camera: this.camera.state } : {}) },
      }, this.outbox, publishLog);
      await this.publisher.start();

      this.tracker = new Tracker(config.tracker);
      this.visits = new VisitBook(visitOptions(config), () => randomUUID());
      const visits = this.visits;
      this.topicsMgr = new DeviceTopics(this.publisher, {
        root: topics(m.prefix, this.device).root, device: this.device, version: VERSION, model, live: config,
        configFile: this.opts.configFile ?? null, log: child(log, 'config'), statsSnapshot: () => this.statsSnapshot(),
        present: () => visits.present(),
        onApplied: () => { log.level = mostVerbose(config.log); },
      });
      this.topicsMgr.start();
      const k = config.classifier;
      this.pipeline = new Pipeline({
        cv, source, detector: this.detector, classifier: this.classifier, tracker: this.tracker, visits, stats: this.stats,
        queue: this.queue, budget: new FacesPerSecondLimit(() => k.maxFacesPerSecond), quality: qualityOptions(config),
        settings: { get maxBatch() { return k.maxBatch; }, get detectIntervalMs() { return config.detector.intervalMs; } },
        log: child(log, 'pipeline'), everyFrame: this.opts.exitOnEof,
        emit: (ev, frame) => this.emit(ev, frame, state, model),
        onAudience: (people, ts) => this.topicsMgr?.audience(people, ts),
        onFrame: () => this.heartbeat?.(),
      });
      this.startSchedules(config, topics(m.prefix, this.device).dailySummary);
    } catch (err) {
      await this.shutdown('start-failed');
      throw err;
    }
  }

  /** Opening hours (checked every minute and at start) and the daily summary (published every minute when it changed, finalised at midnight). */
  private startSchedules(config: Config, summaryTopic: string): void {
    const tz = config.schedule.timezone;
    this.summary = new SummaryBook(tz, new Date());
    const check = () => {
      if (this.camera) {
        const open = isOpen(new Date(), config.schedule.openingHours, tz);
        if (!open && this.camera.state !== 'paused') { child(this.log, 'schedule').info('outside opening hours: camera released'); this.camera.pause(); }
        if (open && this.camera.state === 'paused') { child(this.log, 'schedule').info('opening hours: camera resumed'); this.camera.resume(); }
      }
      if (this.summaryDirty && this.summary) {
        this.summaryDirty = false;
        void this.publisher?.publishRaw(summaryTopic, JSON.stringify({ ...this.summary.current(), final: false }), true).catch(() => undefined);
      }
    };
    check();
    this.tasks.push(cronTask('* * * * *', tz, check));
    this.tasks.push(cronTask('0 0 * * *', tz, () => {
      const day = this.summary!.rollover(new Date());
      void this.publisher?.publishRaw(summaryTopic, JSON.stringify({ ...day, final: true }), true).catch(() => undefined);
    }));
  }

  /** The event gets the next seq and is stored durably before anything else sees it. */
  private emit(ev: VisitEvent, frame: { width: number; height: number }, state: StateStore, model: string): void {
    const t = performance.now();
    const seq = state.lastSeq + 1;
    const payload = eventPayload(ev, seq, this.device, model, frame);
    void this.publisher!.publishEvent(payload);
    state.commit(seq);
    this.stats.events++;
    this.stats.stages.publish.add(performance.now() - t);
    this.opts.onEvent?.(payload);
    if (ev.type === 'left' && this.summary) {
      this.summary.add(new Date(), { age: ev.attributes.age?.label, gender: ev.attributes.gender?.label, emotion: ev.attributes.emotion?.label });
      this.summaryDirty = true;
    }
  }

  statsSnapshot() {
    const v = this.visits;
    const t = this.tracker;
    const open = v ? [...v.visits.values()].filter((x) => x.entered) : [];
    const personMs = (v?.finishedDwellMs ?? 0) + open.reduce((a, x) => a + (x.track.lastSeen - x.track.firstSeen), 0);
    const calls = (v?.finishedCalls ?? 0) + open.reduce((a, x) => a + x.samples, 0);
    return this.stats.snapshot({
      classifyQueue: { depth: this.queue.depth, maxDepth: this.queue.maxDepth, dropped: this.queue.dropped, capacity: this.queue.capacity },
      outbox: { depth: this.outbox?.depth ?? 0, dropped: this.outbox?.dropped ?? 0, delivered: this.publisher?.delivered ?? 0 },
      mqttConnected: this.publisher?.connected ?? false,
      camera: this.camera ? { state: this.camera.state, reconnects: this.camera.reconnects, lastError: this.camera.lastError } : { state: 'file' },
      visits: {
        entered: v?.entered ?? 0, left: v?.left ?? 0, updated: v?.updates ?? 0,
        labelChangesPerVisit: v && v.entered ? Math.round((v.updates / v.entered) * 1000) / 1000 : 0,
        classifierCallsPerPersonSecond: personMs > 0 ? Math.round((calls / (personMs / 1000)) * 1000) / 1000 : 0,
        tracksConfirmed: t?.confirmedTotal ?? 0, tracksEnded: t?.endedTotal ?? 0,
      },
    });
  }

  /** Runs the pipeline until the source ends (with exitOnEof) or requestStop() is called. */
  async run(): Promise<void> {
    await this.pipeline!.run();
  }

  /** Stops capture; the pipeline then ends open visits, and shutdown() flushes and closes the rest. */
  requestStop(): void {
    this.pipeline?.stop();
    void this.source?.close();
  }

  /** False while frames are not expected (camera lost, reconnecting or paused outside opening hours). */
  expectsFrames(): boolean {
    return !this.camera || this.camera.state === 'ok';
  }

  /** One line for systemd's STATUS=. */
  statusLine(): string {
    const s = this.stats.snapshot();
    const people = this.visits ? this.visits.present().length : 0;
    return `${s.fps} frames/s, ${people} ${people === 1 ? 'person' : 'people'} present, camera ${this.camera?.state ?? 'file'}, ${this.outbox?.depth ?? 0} events queued`;
  }

  /** SIGHUP: re-reads the config file; hot keys apply at once, the rest is reported. */
  reload(): void {
    this.topicsMgr?.reloadFile();
  }

  async shutdown(reason = 'shutdown'): Promise<void> {
    for (const t of this.tasks) void t.stop();
    await this.topicsMgr?.stop();
    await this.publisher?.stop(reason).catch((err: Error) => this.log.warn(`publisher stop: ${err.message}`));
    await this.broker?.stop();
    await this.source?.close();
    await Promise.allSettled([this.detector?.close(), this.classifier?.close()]);
    this.topicsMgr = null;
    this.publisher = null;
    this.broker = null;
  }
}
