// npm run soak: the agent on a looping clip played in real time, against a real mosquitto that is
// restarted every few minutes, watched by a persistent-session QoS 1 subscriber. Samples the agent's
// RSS and open fds every 10 s; at the end reports growth, seq contiguity and the exit code of a SIGTERM.
// Exits 1 when a seq is missing or the agent did not live to the end (figures in --out either way).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startMosquitto, type Broker } from '../test/helpers/mosquitto.js';
import { PACKAGE_ROOT } from '../test/helpers/models.js';
import { flush } from '../test/helpers/mqtt-flush.js';
import { growthFigures, seqFigures, soakProblems, type Sample } from './soak-figures.js';

const SAMPLE_EVERY_S = 10;
const WARMUP_S = 120;
const BROKER_DOWN_S = 5;

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'restart-every-s': { type: 'string', default: '300' },
    source: { type: 'string', default: join(PACKAGE_ROOT, '.cache/demo/demo-clip.avi') },
    out: { type: 'string' },
    'device-id': { type: 'string', default: 'soak' },
    prefix: { type: 'string', default: 'percept' },
  },
});
const minutes = Number(opt.minutes);
const restartEveryS = Number(opt['restart-every-s']);
if (!(minutes > 0) || !(restartEveryS > BROKER_DOWN_S)) throw new Error(`--minutes must be > 0 and --restart-every-s > ${BROKER_DOWN_S}`);
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

/** Events stored but not yet acknowledged by the broker: the outbox names its entries by seq. */
function outboxDepth(stateDir: string): number {
  const dir = join(stateDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^\d+\.json$/.test(n)).length : 0;
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
const root = `${opt.prefix}/${opt['device-id']}`;
let broker: Broker = await startMosquitto('', { persistence: true });
log(`mosquitto on ${broker.url}; state ${stateDir}; source ${opt.source}; ${minutes} min, broker restart every ${restartEveryS} s`);

const seqs: number[] = [];
const sub = await mqtt.connectAsync(broker.url, { clientId: `soak-${process.pid}`, clean: false, reconnectPeriod: 500 });
// Refused connections while the broker is down are expected; the client keeps retrying.
sub.on('error', (err) => {
  if (!/ECONNREFUSED/.test(err.message)) log(`subscriber: ${err.message}`);
});
sub.on('message', (topic, payload) => {
  if (!topic.startsWith(`${root}/events/`)) return;
  seqs.push((JSON.parse(String(payload)) as { seq: number }).seq);
});
await sub.subscribeAsync(`${root}/#`, { qos: 1 });

const startedAt = Date.now();
const elapsedS = () => Math.round((Date.now() - startedAt) / 1000);
const agent = spawn(
  process.execPath,
  [join(PACKAGE_ROOT, 'bin/percept.js'), 'run', '--source', opt.source!, '--mqtt-url', broker.url, '--device-id', opt['device-id']!, '--state-dir', stateDir],
  { stdio: ['ignore', 'ignore', 'pipe'] },
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
    await broker.stop();
    log(`broker stopped (restart ${restarts + 1}); down for ${BROKER_DOWN_S} s`);
    await sleep(BROKER_DOWN_S * 1000);
    broker = await startMosquitto('', { port: broker.port, dir: broker.dir, persistence: true });
    restarts++;
  }
}

async function sampleLoop() {
  while (!stopping && diedAtS === null) {
    await sleep(SAMPLE_EVERY_S * 1000);
    const f = procFigures(pid);
    if (!f || diedAtS !== null) return;
    const t = elapsedS();
    rss.push({ t, value: f.rssKb });
    fds.push({ t, value: f.fds });
    log(`t=${t}s rss=${(f.rssKb / 1024).toFixed(1)} MiB fds=${f.fds} events=${seqs.length} outbox=${outboxDepth(stateDir)} restarts=${restarts}`);
  }
}

const restarting = restartLoop();
const sampling = sampleLoop();
await Promise.race([sleep(minutes * 60_000), exited]);
stopping = true;
wakeOnStop();
await sampling;
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
const problems = soakProblems({ seq, aliveAtEnd, exitCode });
const report = {
  startedAt: new Date(startedAt).toISOString(),
  minutes,
  restartEveryS,
  brokerDownS: BROKER_DOWN_S,
  source: opt.source,
  warmupS: WARMUP_S,
  rssKb: rssFig,
  fds: fdFig,
  seq,
  brokerRestarts: restarts,
  aliveAtEnd,
  diedAtS: aliveAtEnd ? null : diedAtS,
  sigtermExitCode: exitCode,
  sigtermStopMs: stopMs,
  outboxLeft: outboxDepth(stateDir),
  samples: rss.map((s, i) => ({ t: s.t, rssKb: s.value, fds: fds[i]!.value })),
  agentLog: join(work, 'agent.log'),
  problems,
};
writeFileSync(join(work, 'agent.log'), agentLog);
if (opt.out) writeFileSync(opt.out, `${JSON.stringify(report, null, 2)}\n`);
const mib = (kb: number | null) => (kb === null ? '–' : `${(kb / 1024).toFixed(1)} MiB`);
log(
  `RSS after ${WARMUP_S} s warm-up: first ${mib(rssFig.first)}, last ${mib(rssFig.last)}, max ${mib(rssFig.max)}, growth ${rssFig.growthPct ?? '–'} % (slope ${rssFig.slopePerHour === null ? '–' : mib(rssFig.slopePerHour)}/h)`,
);
log(`fds: first ${fdFig.first ?? '–'}, last ${fdFig.last ?? '–'}, max ${fdFig.max ?? '–'}`);
log(
  `events: ${seq.received} received, ${seq.distinct} distinct seqs (${seq.first ?? '–'}…${seq.last ?? '–'}), gaps ${seq.gaps}, duplicates ${seq.duplicates}, out of order ${seq.outOfOrder}`,
);
log(`broker restarts: ${restarts}; agent alive at end: ${aliveAtEnd}; SIGTERM → exit ${exitCode} in ${stopMs} ms; outbox left ${report.outboxLeft}`);
log(problems.length ? `FAILED: ${problems.join('; ')}` : 'passed');
log(`agent log: ${report.agentLog}${opt.out ? `; figures: ${opt.out}` : ''}`);
process.exitCode = problems.length ? 1 : 0;
