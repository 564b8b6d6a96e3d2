// The stats body: the pipeline's own figures plus what each component reports about itself.
import type { ResilientSource } from '../capture/resilient-source.js';
import type { ClassificationQueue } from '../track/classify-queue.js';
import type { Tracker } from '../track/tracker.js';
import type { AudienceGate } from '../track/audience-gate.js';
import type { Visit, VisitBook } from '../track/visits.js';
import type { EventSink } from '../publish/event-sink.js';
import type { PipelineStats } from './stats.js';
import { inferenceFaults } from '../inference/worker-session.js';

export interface StatsSources {
  stats: PipelineStats;
  queue: ClassificationQueue<Visit>;
  visits: VisitBook | null;
  tracker: Tracker | null;
  gate: AudienceGate | null;
  sink: EventSink | null;
  connected: () => boolean;
  camera: ResilientSource | null;
}

/** Visit figures: counts, label changes per visit and classifier calls per person-second. */
function visitFigures(v: VisitBook | null, t: Tracker | null) {
  const open = v ? [...v.visits.values()].filter((x) => x.entered) : [];
  const personMs = (v?.finishedDwellMs ?? 0) + open.reduce((a, x) => a + (x.track.lastSeen - x.track.firstSeen), 0);
  const calls = (v?.finishedCalls ?? 0) + open.reduce((a, x) => a + x.samples, 0);
  const per = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : 0);
  return {
    entered: v?.entered ?? 0,
    left: v?.left ?? 0,
    updated: v?.updates ?? 0,
    labelChangesPerVisit: per(v?.updates ?? 0, v?.entered ?? 0),
    classifierCallsPerPersonSecond: per(calls, personMs / 1000),
    tracksConfirmed: t?.confirmedTotal ?? 0,
    tracksEnded: t?.endedTotal ?? 0,
    fragmentsDropped: v?.fragmentsDropped ?? 0,
  };
}

export function statsSnapshot(s: StatsSources) {
  const q = s.queue;
  return s.stats.snapshot({
    classifyQueue: { depth: q.depth, maxDepth: q.maxDepth, dropped: q.dropped, capacity: q.capacity },
    outbox: s.sink?.stats() ?? { depth: 0, dropped: 0, delivered: 0 },
    mqttConnected: s.connected(),
    inference: {
      timeouts: inferenceFaults.timeouts,
      workerRestarts: inferenceFaults.workerRestarts,
      stuckWorkers: inferenceFaults.stuck,
      modelChanged: inferenceFaults.modelChanged,
    },
    camera: s.camera ? { state: s.camera.state, reconnects: s.camera.reconnects, lastError: s.camera.lastError } : { state: 'file' },
    visits: visitFigures(s.visits, s.tracker),
    audience: { farFaces: s.gate?.farFaces ?? 0, staticFaces: s.gate?.staticFaces ?? 0, ignoredFaces: s.gate?.ignored ?? 0 },
  });
}
