// npm run soak: the agent on a looping clip played in real time, against a real mosquitto that is
// restarted every few minutes, watched by a persistent-session QoS 1 subscriber that also plays the
// signage player (a content/set every 30 s) and the fleet manager (a config/set every 5 minutes toggling
// a harmless hot key, with a requestId). Samples the RSS of the agent and of its capture process and
// the agent's open fds every 10 s; at the end reports growth, seq contiguity, config/set answers,
// impressions, schema checks and the exit code of a SIGTERM. Exits 1 on any problem soakProblems finds
// (figures in --out either way).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startMosquitto, type Broker } from '../test/helpers/mosquitto.js';
import { PACKAGE_ROOT } from '../test/helpers/models.js';
import { flush } from '../test/helpers/mqtt-flush.js';
import { wireValidator } from '../test/helpers/wire-schemas.js';
import { deviceTopics } from '../agent/contract/topics.js';
import { configAnswers, growthFigures, seqFigures, soakProblems, steadyGrowth, type Sample } from './soak-figures.js';
import { CONFIG_KEY, startCommands, type ConfigResult } from './soak-commands.js';
import { shippedUnitEnvironment } from './soak-env.js';

const SAMPLE_EVERY_S = 10;
const BROKER_DOWN_S = 5;

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'restart-every-s': { type: 'string', default: '300' },
    source: { type: 'string', default: join(PACKAGE_ROOT, '.cache/demo/demo-clip.avi') },
    out: { type: 'string' },
    'device-id': { type: 'string', default: 'soak' },
    prefix: { type: 'string', default: 'percept' },
    'content-every-s': { type: 'string', default: '30' },
    'config-every-s': { type: 'string', default: '300' },
    // RSS and fds are judged after this; the 10-minute figure is printed beside it either way.
    'warmup-s': { type: 'string', default: '120' },
  },
});
const minutes = Number(opt.minutes);
const WARMUP_S = Number(opt['warmup-s']);
/** The runs of 2026-12-06 settled only after ~9 minutes (onnxruntime's arenas growing with each new batch size, now warmed at load): printed beside the judged figure. */
const SETTLED_S = 600;
const restartEveryS = Number(opt['restart-every-s']);
const contentEveryS = Number(opt['content-every-s']);
const configEveryS = Number(opt['config-every-s']);
if (!(minutes > 0) || !(restartEveryS > BROKER_DOWN_S)) throw new Error(`--minutes must be > 0 and --restart-every-s > ${BROKER_DOWN_S}`);
if (!(contentEveryS > 0) || !(configEveryS > 0)) throw new Error('--content-every-s and --config-every-s must be > 0');
if (!existsSync(opt.source!)) throw new Error(`--source ${opt.source} does not exist (make the demo clip: npm run demo, or give a clip)`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function procFigures(pid: number): { rssKb: number; fds: number } | null {
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { rssKb: Number(rss?.[1] ?? NaN), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null; // the process is gone
  }
}

/** Child processes (the capture process) and theirs: a process lists its children per thread. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean)) {
        out.push(Number(c), ...descendants(Number(c)));
      }
    }
  } catch {
    // gone while being read
  }
  return out;
}

/** The agent's RSS plus its descendants' (kB). */
function treeRssKb(pid: number, own: number): number {
  return descendants(pid).reduce((sum, c) => sum + (procFigures(c)?.rssKb ?? 0), own);
}

/** Events stored but not yet acknowledged by the broker: the outbox names its entries by seq. */
function outboxDepth(stateDir: string): number {
  const dir = join(stateDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^\d+\.json$/.test(n)).length : 0;
}

/** Impressions stored and not yet acknowledged (the record outbox also holds the final daily summary). */
function impressionsLeft(stateDir: string): number {
  const dir = join(stateDir, 'outbox-records');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((n) => /^\d+\.json$/.test(n))
    .filter((n) => {
      try {
        return String((JSON.parse(readFileSync(join(dir, n), 'utf8')) as { topic?: string }).topic).endsWith('/impressions');
      } catch {
        return false;
      }
    }).length;
}

function lastIssuedSeq(stateDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { seq?: number }).seq;
  } catch {
    return undefined;
  }
}

const work = mkdtempSync(join(tmpdir(), 'percept-soak-'));
const stateDir = join(work, 'state');
const topics = deviceTopics(opt.prefix!, opt['device-id']!);
const root = topics.root;
let broker: Broker = await startMosquitto('', { persistence: true });
let brokerUp = true;
let nextRestartAt = Date.now() + restartEveryS * 1000;
log(
  `mosquitto on ${broker.url}; state ${stateDir}; source ${opt.source}; ${minutes} min, broker restart every ${restartEveryS} s, content/set every ${contentEveryS} s, config/set every ${configEveryS} s`,
);

const seqs: number[] = [];
/** The agent's own figures from its stats (kB, by its uptime): JS heap and buffers. */
const heap: Sample[] = [];
const external: Sample[] = [];
const configResults: ConfigResult[] = [];
const impressions = new Set<string>();
const validate = wireValidator(opt.prefix!);
const wireInvalid: string[] = [];
let wireInvalidCount = 0;
/** When the agent's birth message was last seen since the broker (re)started: it is subscribed again. */
let agentOnlineAt: number | null = null;
const sub = await mqtt.connectAsync(broker.url, { clientId: `soak-${process.pid}`, clean: false, reconnectPeriod: 500 });
// Refused and reset connections while the broker restarts are expected; the client keeps retrying.
sub.on('error', (err) => {
  if (!/ECONNREFUSED|ECONNRESET/.test(err.message)) log(`subscriber: ${err.message}`);
});
sub.on('message', (topic, payload, packet) => {
  const problems = validate(topic, payload);
  if (problems.length) {
    wireInvalidCount++;
    if (wireInvalid.length < 20) wireInvalid.push(...problems.slice(0, 2));
    return;
  }
  if (topic === topics.stats) {
    const st = JSON.parse(String(payload)) as { uptimeS: number; heapUsedMB?: number; externalMB?: number };
    if (st.heapUsedMB !== undefined) heap.push({ t: st.uptimeS, value: st.heapUsedMB * 1024 });
    if (st.externalMB !== undefined) external.push({ t: st.uptimeS, value: st.externalMB * 1024 });
  } else if (topic.startsWith(`${root}/events/`)) seqs.push((JSON.parse(String(payload)) as { seq: number }).seq);
  else if (topic === topics.configResult) configResults.push(JSON.parse(String(payload)) as ConfigResult);
  else if (topic === topics.impressions) {
    const i = JSON.parse(String(payload)) as { contentId: string; startedAt: string };
    impressions.add(`${i.contentId}@${i.startedAt}`); // QoS 1 may deliver one twice
  } else if (topic === topics.status && !packet.retain && (JSON.parse(String(payload)) as { state: string }).state === 'online') {
    agentOnlineAt = Date.now();
  }
});
await sub.subscribeAsync(`${root}/#`, { qos: 1 });

const unitEnv = shippedUnitEnvironment();
log(
  `agent environment from systemd/percept.service: ${
    Object.entries(unitEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'none'
  }`,
);
const startedAt = Date.now();
const elapsedS = () => Math.round((Date.now() - startedAt) / 1000);
const agent = spawn(
  process.execPath,
  [join(PACKAGE_ROOT, 'bin/percept.js'), 'run', '--source', opt.source!, '--mqtt-url', broker.url, '--device-id', opt['device-id']!, '--state-dir', stateDir],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...unitEnv } },
);
// The agent's log is kept whole in the work directory (it is the place to look up a missing seq).
let agentLog = '';
agent.stderr!.on('data', (d) => {
  agentLog += String(d);
});
let exitCode: number | null = null;
let diedAtS: number | null = null;
const exited = new Promise<void>((resolve) =>
  agent.once('exit', (code, signal) => {
    exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
    diedAtS = elapsedS();
    resolve();
  }),
);
const pid = agent.pid!;

const rss: Sample[] = [];
const treeRss: Sample[] = [];
const fds: Sample[] = [];
let restarts = 0;
let stopping = false;
let wakeOnStop: () => void = () => {};
const stopped = new Promise<void>((r) => {
  wakeOnStop = r;
});

async function restartLoop() {
  while (!stopping) {
    await Promise.race([sleep(restartEveryS * 1000), stopped]);
    if (stopping) return;
    brokerUp = false;
    agentOnlineAt = null;
    await broker.stop();
    log(`broker stopped (restart ${restarts + 1}); down for ${BROKER_DOWN_S} s`);
    await sleep(BROKER_DOWN_S * 1000);
    broker = await startMosquitto('', { port: broker.port, dir: broker.dir, persistence: true });
    nextRestartAt = Date.now() + restartEveryS * 1000;
    brokerUp = true;
    restarts++;
  }
}

async function sampleLoop() {
  while (!stopping && diedAtS === null) {
    await sleep(SAMPLE_EVERY_S * 1000);
    const f = procFigures(pid);
    if (!f || diedAtS !== null) return;
    const t = elapsedS();
    const tree = treeRssKb(pid, f.rssKb);
    rss.push({ t, value: f.rssKb });
    treeRss.push({ t, value: tree });
    fds.push({ t, value: f.fds });
    log(
      `t=${t}s rss=${(f.rssKb / 1024).toFixed(1)} MiB (with capture ${(tree / 1024).toFixed(1)}) fds=${f.fds} events=${seqs.length} outbox=${outboxDepth(stateDir)} restarts=${restarts} content/set=${commands.contentSent} config/set=${commands.configSent.length} answered=${configResults.length}`,
    );
  }
}

// A command is sent only while the agent is surely subscribed (its birth seen since the broker came
// back, plus a moment for its SUBSCRIBE, which follows the birth) and its answer has time to arrive
// before the next restart or the SIGTERM at the end: its subscription is not persistent, so a command sent while it reconnects is
// lost by design and would fail the check for the wrong reason.
const SETTLE_MS = 3000;
const ANSWER_GRACE_MS = 20_000;
const commands = startCommands({
  client: sub,
  topics,
  contentEveryS,
  configEveryS,
  stopped,
  ready: () =>
    brokerUp &&
    agentOnlineAt !== null &&
    Date.now() - agentOnlineAt >= SETTLE_MS &&
    Math.min(nextRestartAt, startedAt + minutes * 60_000) - Date.now() >= ANSWER_GRACE_MS,
  isStopping: () => stopping,
  log,
});
const restarting = restartLoop();
const sampling = sampleLoop();
await Promise.race([sleep(minutes * 60_000), exited]);
stopping = true;
wakeOnStop();
await sampling;
await commands.done;
const aliveAtEnd = diedAtS === null;
if (!aliveAtEnd) log(`the agent died at t=${diedAtS}s with exit ${exitCode}; last log lines:\n${agentLog.split('\n').slice(-20).join('\n')}`);
// A restart in progress finishes first, so the agent can deliver its last events before it stops.
await restarting;
const sigtermAt = Date.now();
if (aliveAtEnd) {
  agent.kill('SIGTERM');
  await exited;
}
const stopMs = Date.now() - sigtermAt;
// Every event the agent delivered before exiting has reached the broker; the marker proves the
// subscriber has them too.
await flush(sub, 30_000).catch((err: Error) => log(`flush: ${err.message}`));
await sub.endAsync();
await broker.stop();

const seq = seqFigures(seqs, 1, lastIssuedSeq(stateDir));
const rssFig = growthFigures(rss, WARMUP_S);
const fdFig = growthFigures(fds, WARMUP_S);
const rssSteady = steadyGrowth(rss, WARMUP_S);
const treeSteady = steadyGrowth(treeRss, WARMUP_S);
const fdSteady = steadyGrowth(fds, WARMUP_S);
const heapSteady = steadyGrowth(heap, WARMUP_S, 2);
const externalSteady = steadyGrowth(external, WARMUP_S, 2);
const settled = { rss: steadyGrowth(rss, SETTLED_S), treeRss: steadyGrowth(treeRss, SETTLED_S), heap: steadyGrowth(heap, SETTLED_S, 2) };
const config = configAnswers(commands.configSent, configResults, CONFIG_KEY);
const plays = { started: commands.contentSent, impressions: impressions.size, recordsLeft: impressionsLeft(stateDir) };
const problems = soakProblems({
  seq,
  aliveAtEnd,
  exitCode,
  rss: rssSteady,
  treeRss: treeSteady,
  fds: fdSteady,
  config,
  plays,
  wireInvalid: { count: wireInvalidCount, sample: wireInvalid },
});
const report = {
  startedAt: new Date(startedAt).toISOString(),
  minutes,
  restartEveryS,
  brokerDownS: BROKER_DOWN_S,
  source: opt.source,
  agentEnvironment: unitEnv,
  warmupS: WARMUP_S,
  contentEveryS,
  configEveryS,
  rssKb: { ...rssFig, steady: rssSteady },
  treeRssKb: { ...growthFigures(treeRss, WARMUP_S), steady: treeSteady },
  fds: { ...fdFig, steady: fdSteady },
  heapKb: { steady: heapSteady, samples: heap },
  externalKb: { steady: externalSteady, samples: external },
  afterSettling: { fromS: SETTLED_S, ...settled },
  seq,
  config,
  plays,
  wireInvalid: { count: wireInvalidCount, sample: wireInvalid },
  brokerRestarts: restarts,
  aliveAtEnd,
  diedAtS: aliveAtEnd ? null : diedAtS,
  sigtermExitCode: exitCode,
  sigtermStopMs: stopMs,
  outboxLeft: outboxDepth(stateDir),
  samples: rss.map((s, i) => ({ t: s.t, rssKb: s.value, treeRssKb: treeRss[i]!.value, fds: fds[i]!.value })),
  agentLog: join(work, 'agent.log'),
  problems,
};
writeFileSync(join(work, 'agent.log'), agentLog);
if (opt.out) writeFileSync(opt.out, `${JSON.stringify(report, null, 2)}\n`);
const mib = (kb: number | null) => (kb === null ? '–' : `${(kb / 1024).toFixed(1)} MiB`);
log(
  `RSS after ${WARMUP_S} s warm-up: first ${mib(rssFig.first)}, last ${mib(rssFig.last)}, max ${mib(rssFig.max)}, growth ${rssFig.growthPct ?? '–'} % (slope ${rssFig.slopePerHour === null ? '–' : mib(rssFig.slopePerHour)}/h)`,
);
log(
  `RSS medians (first/last minute after warm-up): agent ${mib(rssSteady.baseline)} → ${mib(rssSteady.final)} (${rssSteady.growthPct ?? '–'} %), with capture ${mib(treeSteady.baseline)} → ${mib(treeSteady.final)} (${treeSteady.growthPct ?? '–'} %)`,
);
log(
  `JS heap (agent stats, medians): ${mib(heapSteady.baseline)} → ${mib(heapSteady.final)} (${heapSteady.growthPct ?? '–'} %); buffers ${mib(externalSteady.baseline)} → ${mib(externalSteady.final)} (${externalSteady.growthPct ?? '–'} %)`,
);
log(
  `after ${SETTLED_S} s (settled): agent RSS ${mib(settled.rss.baseline)} → ${mib(settled.rss.final)} (${settled.rss.growthPct ?? '–'} %), with capture ${mib(settled.treeRss.baseline)} → ${mib(settled.treeRss.final)} (${settled.treeRss.growthPct ?? '–'} %), heap ${mib(settled.heap.baseline)} → ${mib(settled.heap.final)} (${settled.heap.growthPct ?? '–'} %)`,
);
log(`fds: first ${fdFig.first ?? '–'}, last ${fdFig.last ?? '–'}, max ${fdFig.max ?? '–'}; medians ${fdSteady.baseline ?? '–'} → ${fdSteady.final ?? '–'}`);
log(
  `config/set: ${config.sent} sent, ${config.applied} applied, ${config.wrong.length} refused, ${config.unanswered.length} unanswered; content/set: ${plays.started} plays, ${plays.impressions} impressions received, ${plays.recordsLeft} left in the outbox; off-schema messages: ${wireInvalidCount}`,
);
log(
  `events: ${seq.received} received, ${seq.distinct} distinct seqs (${seq.first ?? '–'}…${seq.last ?? '–'}), gaps ${seq.gaps}, duplicates ${seq.duplicates}, out of order ${seq.outOfOrder}`,
);
log(`broker restarts: ${restarts}; agent alive at end: ${aliveAtEnd}; SIGTERM → exit ${exitCode} in ${stopMs} ms; outbox left ${report.outboxLeft}`);
log(problems.length ? `FAILED: ${problems.join('; ')}` : 'passed');
log(`agent log: ${report.agentLog}${opt.out ? `; figures: ${opt.out}` : ''}`);
process.exitCode = problems.length ? 1 : 0;
