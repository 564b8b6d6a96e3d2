// The {root}/stats payload (QoS 0, every mqtt.statsIntervalS): per-stage figures, kept apart from the
// event and audience payloads in payloads.ts, which re-exports it.
import { Type } from '@sinclair/typebox';
import { CommandStatsFields } from './command-payloads.js';
import { Envelope } from './formats.js';

const StageSummary = Type.Object({ n: Type.Integer(), meanMs: Type.Number(), p50Ms: Type.Number(), p99Ms: Type.Number() });

export const StatsSchema = Type.Object(
  {
    ...Envelope(),
    uptimeS: Type.Integer(),
    fps: Type.Number(),
    cpuPercent: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          "The agent's CPU share since the previous stats message (the first: since start), all its processes (the main one with its threads, and its capture processes), in percent of ONE core: 2 cores fully busy is 200.",
      }),
    ),
    frames: Type.Integer(),
    droppedFrames: Type.Integer(),
    faces: Type.Optional(Type.Integer()),
    classifierCalls: Type.Integer(),
    classifiedFaces: Type.Optional(Type.Integer()),
    events: Type.Optional(Type.Integer()),
    stages: Type.Record(Type.String(), StageSummary),
    enterLatency: Type.Optional(Type.Object({})),
    rssMB: Type.Integer(),
    heapUsedMB: Type.Optional(
      Type.Integer({ description: "The main thread's JS heap in use (MiB): its growth is a JS leak; RSS growth beside a flat heap is native memory." }),
    ),
    externalMB: Type.Optional(Type.Integer({ description: 'Memory held by the main thread outside its JS heap (buffers), MiB.' })),
    classifyQueue: Type.Object({ depth: Type.Integer(), maxDepth: Type.Integer(), dropped: Type.Integer(), capacity: Type.Integer() }),
    outbox: Type.Object({ depth: Type.Integer(), dropped: Type.Integer(), delivered: Type.Integer() }),
    mqttConnected: Type.Optional(Type.Boolean()),
    classifyFailures: Type.Optional(Type.Integer()),
    detectFailures: Type.Optional(Type.Integer()),
    detect: Type.Optional(
      Type.Object(
        {
          fullPasses: Type.Integer({ description: 'Detection passes on the whole frame since start.' }),
          regionPasses: Type.Integer({ description: 'Detection passes on regions only (motion and tracked faces) since start.' }),
        },
        { description: 'How often the face detector ran (motion gating).' },
      ),
    ),
    capture: Type.Optional(
      Type.Object(
        {
          wholeFrames: Type.Integer({ description: 'Frames the capture process handed over at full resolution since start.' }),
          smallFrames: Type.Integer({
            description: "Frames handed over only as a copy the detector's size (nobody in view, preview not watched): the cheap path of an empty scene.",
          }),
          fetchedWhole: Type.Integer({
            description: 'Of the small ones, frames whose full-resolution pixels were fetched afterwards (a face was found on them).',
          }),
        },
        { description: 'What the capture process handed over: full frames only when something needs their pixels.' },
      ),
    ),
    inference: Type.Optional(
      Type.Object(
        {
          timeouts: Type.Integer({ description: 'Inference calls that missed inference.timeoutMs.' }),
          workerRestarts: Type.Integer({ description: 'Inference workers replaced after a timeout or a crash.' }),
          stuckWorkers: Type.Integer({ description: 'Replaced workers still inside a run that has not returned.' }),
          modelChanged: Type.Optional(
            Type.Integer({ description: 'Workers that refused a model file whose bytes no longer have the sha256 loaded at start (replaced on disk).' }),
          ),
        },
        { description: 'Inference faults since start.' },
      ),
    ),
    ...CommandStatsFields,
    visits: Type.Object({
      entered: Type.Integer(),
      left: Type.Integer(),
      updated: Type.Integer(),
      labelChangesPerVisit: Type.Number(),
      classifierCallsPerPersonSecond: Type.Number(),
      tracksConfirmed: Type.Integer(),
      tracksEnded: Type.Integer(),
      fragmentsDropped: Type.Optional(
        Type.Integer({ description: 'Confirmed tracks that ended before visit.minDwellMs / visit.minPasses made them a visit: no events.' }),
      ),
    }),
  },
  { title: '{root}/stats (QoS 0, every mqtt.statsIntervalS)' },
);
