// The composition root: builds every component from the config and wires them, in small steps that each
// register how they stop (state lock → models → source → state → broker → publisher → data path →
// features → control socket), and stops them in reverse. Besides its lock, nothing is written to the state
// directory until config, models and source have been checked. It holds no feature logic.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { deviceId, type ConfigLayers } from '../config/load.js';
import { loadOpenCV } from '../capture/opencv.js';
import type { FrameSource } from '../capture/frame.js';
import type { ResilientSource } from '../capture/resilient-source.js';
import { PACKAGE_VERSION } from '../lib/package-root.js';
import { checkPreviewConfig } from '../features/preview.js';
import { Tracker } from '../track/tracker.js';
import { AudienceGate } from '../track/audience-gate.js';
import { FacesPerSecondLimit } from '../track/faces-per-second.js';
import { VisitBook, type Visit, type VisitEvent } from '../track/visits.js';
import { ClassificationQueue } from '../track/classify-queue.js';
import { EmbeddedBroker } from '../publish/embedded-broker.js';
import type { Publisher } from '../publish/publisher.js';
import { TableRecords } from '../publish/durable-records.js';
import { eventPayload } from '../publish/payloads.js';
import { EventSink } from '../publish/event-sink.js';
import { defaultStateDir } from '../lib/state-dir.js';
import { ControlSocket, lockStateDir, reloadHandlers } from './control-socket.js';
import { deviceTopics } from '../contract/topics.js';
import type { EventPayload } from '../contract/payloads.js';
import { child, mostVerbose, type RootLogger } from '../lib/logging.js';
import { createBus, type AgentBus } from '../features/events.js';
import { buildFeatures } from '../features/index.js';
import { Pipeline } from './pipeline.js';
import { detectSettings } from './detect-step.js';
import { PipelineStats } from './stats.js';
import { Lifecycle } from './lifecycle.js';
import {
  birthStatus,
  closeModels,
  gateOptions,
  makePublisher,
  openClassifier,
  openEventSink,
  openModels,
  openSource,
  pipelineSettings,
  qualityOptions,
  visitOptions,
} from './components.js';
import { statsSnapshot } from './stats-snapshot.js';
import { endLeftoverVisits, watchDegraded } from './state-watch.js';
import { openWhenPresent } from './model-wait.js';
import { collectProviders, startBanner } from './banner.js';

/** Faces embedded per second at most: re-identification needs a few looks per person, not every frame. */
const EMBEDDINGS_PER_SECOND = 10;

export interface AgentOptions {
  config: Config;
  /** The file the config came from, if any (remote patches may be persisted into it). */
  configFile?: string | null;
  layers?: ConfigLayers | null;
  log: RootLogger;
  /** Read every frame of a file and exit at its end (tests, batch runs). */
  exitOnEof: boolean;
  /** Every event payload, e.g. printed to stdout. */
  onEvent?: (payload: EventPayload) => void;
  /** The start waits for a missing model directory: what, and the next try (a status for systemd, not a log: the log has its warning). */
  onWaiting?: (detail: string) => void;
}

export class Agent {
  readonly stats = new PipelineStats();
  readonly queue: ClassificationQueue<Visit>;
  readonly device: string;
  readonly bus: AgentBus;
  /** Called on every sign of progress (a frame processed, a camera reconnect attempt). */
  heartbeat: (() => void) | null = null;
  private readonly log: RootLogger;
  private readonly lifecycle: Lifecycle;
  private source: FrameSource | null = null;
  private camera: ResilientSource | null = null;
  private publisher: Publisher | null = null;
  private sink: EventSink | null = null;
  private tracker: Tracker | null = null;
  private visits: VisitBook | null = null;
  private gate: AudienceGate | null = null;
  private pipeline: Pipeline | null = null;
  private features: ReturnType<typeof buildFeatures> = [];
  private stopReason = 'shutdown';
  private readonly startAbort = new AbortController();

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log;
    this.device = deviceId(opts.config);
    this.queue = new ClassificationQueue(opts.config.classifier.queueSize, child(opts.log, 'classify'));
    this.lifecycle = new Lifecycle(opts.log, this.startAbort.signal);
    this.bus = createBus((name, err) => this.log.error(`a "${name}" listener failed: ${err.stack ?? err.message}`));
  }

  get config(): Config {
    return this.opts.config;
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    const log = this.log;
    const step = this.lifecycle.step.bind(this.lifecycle);
    checkPreviewConfig(config);
    try {
      const publishLog = child(log, 'publish');
      const stateDir = config.state.dir || defaultStateDir();
      if (!config.state.dir) publishLog.info(`state directory ${stateDir} (state.dir not set)`);
      await step(
        'state lock',
        () => lockStateDir(stateDir, publishLog),
        (lock) => lock.release(),
      );
      const cv = await loadOpenCV();
      const providers = new Set<string>();
      const modelLog = collectProviders(child(log, 'models'), providers);
      const wait = { config, signal: this.startAbort.signal, log: modelLog, onWait: this.opts.onWaiting };
      const { detector, classifier, embedder } = await step('models', () => openWhenPresent(() => openModels(cv, config, modelLog), wait), closeModels);
      const opened = await step(
        'source',
        () =>
          openSource(cv, config, this.opts.exitOnEof, child(log, 'capture'), (state, detail) => {
            this.heartbeat?.();
            this.bus.emit('status', { camera: state, cameraDetail: detail || undefined });
          }),
        (o) => o.source.close(),
      );
      this.source = opened.source;
      this.camera = opened.camera;
      const topics = deviceTopics(config.mqtt.prefix, this.device);
      const sink = await step(
        'state',
        () => openEventSink(config, stateDir, topics.event, publishLog),
        (made) => made.close(),
      );
      this.sink = sink;
      endLeftoverVisits(this.bus, sink, stateDir, publishLog);

      let url = config.mqtt.url;
      if (!url) {
        const broker = await step(
          'embedded broker',
          () => EmbeddedBroker.start(config.mqtt.embeddedHost, config.mqtt.embeddedPort),
          (b) => b.stop(),
        );
        url = broker.url;
        publishLog.info(`embedded MQTT broker listening on ${url} (subscribe to ${config.mqtt.prefix}/${this.device}/#)`);
      }
      const model = classifier.name;
      const birth = birthStatus(this.device, PACKAGE_VERSION, model, this.camera, this.opts.layers?.overridesRejected);
      const publisher = makePublisher(config, url, this.device, birth, sink, publishLog);
      this.publisher = publisher;
      sink.attach(publisher);
      this.bus.on('status', (fields) => publisher.updateStatus(fields));
      const degraded = watchDegraded(this.bus, sink, publishLog);
      await step(
        'degraded watch',
        () => degraded,
        (t) => clearInterval(t),
      );
      await step(
        'publisher',
        () => publisher.start(),
        () => publisher.stop(this.stopReason),
      );
      this.tracker = new Tracker(config.tracker);
      this.gate = new AudienceGate(gateOptions(config), config.tracker);
      this.visits = new VisitBook(visitOptions(config, embedder, child(log, 'reid')), () => randomUUID());
      const k = config.classifier;
      this.pipeline = new Pipeline({
        cv,
        source: opened.source,
        detector,
        classifier,
        embedder,
        embedBudget: new FacesPerSecondLimit(() => EMBEDDINGS_PER_SECOND),
        tracker: this.tracker,
        gate: this.gate,
        visits: this.visits,
        stats: this.stats,
        queue: this.queue,
        budget: new FacesPerSecondLimit(() => k.maxFacesPerSecond),
        quality: qualityOptions(config),
        settings: pipelineSettings(config),
        detectPlan: detectSettings(config),
        log: child(log, 'pipeline'),
        everyFrame: this.opts.exitOnEof,
        // The model's name at the time of the event: `percept models use` may have switched it since start.
        emit: (ev, frame) => this.onVisitEvent(ev, frame, classifier.name),
        onFrame: (frame) => {
          this.heartbeat?.();
          this.bus.emit('frame', frame);
        },
        wantsPixels: () => this.features.some((f) => f.wantsPixels?.() === true),
      });
      this.bus.on('config', () => {
        log.level = mostVerbose(config.log);
      });
      const ctx = {
        bus: this.bus,
        publisher,
        config,
        topics,
        device: this.device,
        version: PACKAGE_VERSION,
        model,
        stateDir,
        log: (ns: string) => child(log, ns),
        records: new TableRecords(sink, topics.root, publisher.contract),
      };
      const features = (this.features = buildFeatures(ctx, {
        configFile: this.opts.configFile ?? null,
        layers: this.opts.layers ?? null,
        camera: this.camera,
        statsSnapshot: () => this.statsSnapshot(),
        models: { classifier, open: (models) => openClassifier(cv, config, models, modelLog, true) },
      }));
      await this.lifecycle.group('features', features);
      const control = () =>
        ControlSocket.start(
          stateDir,
          reloadHandlers(() => this.reload(), features),
          log,
        );
      await step('control socket', control, (c) => c?.close());
      const [device, source, camera, broker] = [this.device, config.source.uri, this.camera?.state ?? 'file', url];
      const names = { detector: detector.name, classifier: classifier.name, embedder: embedder?.name ?? null };
      log.info(startBanner({ version: PACKAGE_VERSION, configFile: this.opts.configFile ?? null, device, source, camera, ...names, providers, broker }));
    } catch (err) {
      await this.shutdown('start-failed');
      throw err;
    }
  }

  /** A visit event gets the next seq and is stored durably before anything else sees it. */
  private onVisitEvent(event: VisitEvent, frame: { width: number; height: number }, model: string): void {
    const t = performance.now();
    const payload = this.sink!.emit((seq) => eventPayload(event, seq, this.device, model, frame));
    this.stats.events++;
    this.stats.stages.publish.add(performance.now() - t);
    this.bus.emit('visit', { event, payload });
    this.opts.onEvent?.(payload);
  }

  statsSnapshot() {
    return statsSnapshot({
      stats: this.stats,
      queue: this.queue,
      visits: this.visits,
      tracker: this.tracker,
      gate: this.gate,
      sink: this.sink,
      camera: this.camera,
      connected: () => this.publisher?.connected ?? false,
    });
  }

  /** Runs the pipeline until the source ends (with exitOnEof) or requestStop() is called. */
  async run(): Promise<void> {
    await this.pipeline!.run();
  }

  /** Stops capture; the pipeline then ends open visits, and shutdown() flushes and closes the rest. */
  requestStop(): void {
    this.startAbort.abort();
    this.pipeline?.stop();
    void this.source?.close();
  }

  /** Age of the oldest detection, classification or embedding call in flight, ms (0: none). */
  oldestInferenceCallMs(): number {
    return this.pipeline?.oldestCallMs() ?? 0;
  }

  /** False while frames are not expected (camera lost, reconnecting or paused outside opening hours). */
  expectsFrames(): boolean {
    return !this.camera || this.camera.state === 'ok';
  }

  /** One line for systemd's STATUS=. */
  statusLine(): string {
    const s = this.stats.snapshot();
    const people = this.visits ? this.visits.present().length : 0;
    return `${s.fps} frames/s, ${people} ${people === 1 ? 'person' : 'people'} present, camera ${this.camera?.state ?? 'file'}, ${this.sink?.depth ?? 0} events queued`;
  }

  /** SIGHUP: re-reads the config file; hot keys apply at once, the rest is reported. */
  reload(): void {
    this.bus.emit('reload', {});
  }

  async shutdown(reason = 'shutdown'): Promise<void> {
    this.stopReason = reason;
    await this.lifecycle.stopAll();
    this.publisher = null;
  }
}
