// percept run: config from file/env/flags, then the agent until a signal (or the end of a file).
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type ConfigLayers, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Agent } from '../service/agent.js';
import { child, createLogger } from '../lib/logging.js';
import type { EventPayload } from '../publish/payloads.js';
import { EXIT_FORCED, exitCodeFor } from '../lib/exit-codes.js';
import { envWarnings } from '../config/env-check.js';
import { Heartbeat, SdNotifier } from '../service/systemd-notify.js';
import { inferenceFaults } from '../inference/worker-session.js';
import { StartAborted } from '../service/model-wait.js';

export interface RunArgs {
  config?: string;
  source?: string;
  mqttUrl?: string;
  deviceId?: string;
  stateDir?: string;
  model?: string;
  exitOnEof: boolean;
  printEvents: boolean;
}

const SHUTDOWN_GRACE_MS = 15_000;

/**
 * Signals the agent deliberately ignores (logged), so none of them does its default thing:
 * SIGUSR1 would open Node's inspector on 127.0.0.1:9229, letting any local user run code in the agent
 * (a listener replaces Node's handler; Node 20 has no --disable-sigusr1); SIGUSR2 and SIGALRM would kill
 * it without "left" or offline; SIGXFSZ (a file-size limit) would kill it where a failed write is
 * handled (the state directory runs degraded). SIGPIPE is ignored by Node itself. SIGINT, SIGTERM and
 * SIGQUIT stop cleanly; SIGHUP reloads the config.
 */
const IGNORED_SIGNALS = {
  SIGUSR1: "Node's inspector stays closed",
  SIGUSR2: 'no meaning to percept; stop with SIGTERM',
  SIGALRM: 'no meaning to percept',
  SIGXFSZ: 'a write beyond the file-size limit fails and is handled',
} as const;

export function flagOverrides(a: Partial<RunArgs>): Record<string, unknown> {
  const o: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, v: unknown) => {
    if (v !== undefined) (o[section] ??= {})[key] = v;
  };
  set('source', 'uri', a.source);
  set('mqtt', 'url', a.mqttUrl);
  set('device', 'id', a.deviceId);
  set('state', 'dir', a.stateDir && resolve(a.stateDir));
  set('classifier', 'models', a.model && [resolve(a.model)]);
  return o;
}

export function loadOrReport(file: string | undefined, overrides: Record<string, unknown>, systemFile?: string | null): LoadedConfig | number {
  try {
    // The same checks as `percept config validate`, plus a source: every value that would fail later is
    // refused now with its key (exit 78, which systemd does not restart), never an exit 1 mid-run.
    return loadConfig({ file, overrides, systemFile, forRun: true, setAsideRejected: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`percept: ${err.message}\npercept: refusing to start; fix the keys above ("percept config validate FILE" checks a file).\n`);
    return exitCodeFor(err);
  }
}

export async function runAgent(
  config: Config,
  opts: { exitOnEof: boolean; configFile?: string | null; onEvent?: (p: EventPayload) => void; warnings?: string[]; layers?: ConfigLayers },
): Promise<number> {
  const log = createLogger(config.log);
  for (const w of opts.warnings ?? []) child(log, 'config').warn(w);
  // While the start waits for a model directory, systemd hears that it is up and waiting (not a start
  // timeout, not a watchdog stall): the wait has its own growing delays.
  let waitPing: NodeJS.Timeout | undefined;
  const onWaiting = (detail: string) => {
    notify.send('READY=1');
    notify.send(`STATUS=${detail}`);
    if (notify.watchdogMs && !waitPing) waitPing = setInterval(() => notify.send('WATCHDOG=1'), Math.max(100, notify.watchdogMs / 2));
  };
  const agent = new Agent({
    config,
    log,
    exitOnEof: opts.exitOnEof,
    configFile: opts.configFile ?? null,
    layers: opts.layers ?? null,
    onEvent: opts.onEvent,
    onWaiting,
  });
  // Handlers go in before start-up, so a stop during it (models loading, broker unreachable) is clean too.
  let signals = 0;
  let grace: NodeJS.Timeout | undefined;
  let stopAskedAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    // A double Ctrl-C is common and must not cost the open visits their "left": the second signal only
    // says what is going on; a third one (or the grace running out) forces the exit.
    if (signals === 2) {
      log.warn(`${sig} again: still stopping (open visits end with "left", events are flushed); send it once more to exit at once`);
      return;
    }
    if (signals > 2) forceExit(`${sig} a third time`);
    log.info(`${sig}: stopping (open visits end with "left", events are flushed)`);
    stopAskedAt = performance.now();
    agent.requestStop();
    grace = setTimeout(() => forceExit(`shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s`), SHUTDOWN_GRACE_MS);
    grace.unref();
  };
  const forceExit = (why: string): never => {
    // One line that says what a forced exit drops; the outbox is on disk, so queued events are not lost.
    let dropped = 'nothing had started';
    try {
      const s = agent.statsSnapshot();
      dropped = `${Math.max(0, s.visits.entered - s.visits.left)} open visit(s) without "left", ${s.outbox.depth} event(s) left in the outbox for the next start`;
    } catch {
      // stats unavailable this early: nothing started
    }
    process.stderr.write(`percept: forced exit (${why}): ${dropped}\n`);
    exitPastStuckWorkers(EXIT_FORCED);
  };
  const onHup = () => {
    notify.send('RELOADING=1');
    agent.reload();
    notify.send('READY=1');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGQUIT', onSignal);
  process.on('SIGHUP', onHup);
  const ignored = (sig: NodeJS.Signals) => log.warn(`${sig} ignored (${IGNORED_SIGNALS[sig as keyof typeof IGNORED_SIGNALS]})`);
  for (const sig of Object.keys(IGNORED_SIGNALS) as NodeJS.Signals[]) process.on(sig, ignored);
  const notify = new SdNotifier();
  let failed: unknown = null;
  const statusTimer = setInterval(() => notify.send(`STATUS=${agent.statusLine()}`), 10_000);
  statusTimer.unref();
  try {
    try {
      await agent.start();
    } catch (err) {
      if (err instanceof StartAborted) return 0;
      log.error((err as Error).message);
      await new Promise((r) => setTimeout(r, 50)); // let winston flush
      return exitCodeFor(err);
    } finally {
      clearInterval(waitPing);
    }
    // The watchdog follows the pipeline: no frame processed for a whole period while the camera is
    // supposed to deliver (not lost, not paused) means a stall, and a blocked event loop sends nothing.
    // Frames flowing is not enough: a classification that never returns while frames go on is a stall too.
    // Calls time out (inference.timeoutMs) and their worker is replaced, so one older than that plus a
    // watchdog period means the recovery itself is stuck.
    const beat = new Heartbeat(Math.max(notify.watchdogMs, 1000));
    agent.heartbeat = () => beat.beat();
    const callLimitMs = config.inference.timeoutMs + Math.max(notify.watchdogMs, 1000);
    notify.startWatchdog(() => (beat.alive() || !agent.expectsFrames()) && agent.oldestInferenceCallMs() <= callLimitMs);
    notify.send('READY=1');
    notify.send(`STATUS=${agent.statusLine()}`);
    try {
      if (!signals) await agent.run();
    } catch (err) {
      // Open visits are ended and events flushed by the shutdown below; the exit code says it failed.
      failed = err;
    } finally {
      notify.send('STOPPING=1');
      await agent.shutdown(failed ? 'capture-failed' : 'shutdown');
    }
  } finally {
    clearInterval(statusTimer);
    notify.close();
    // The stop is done but the process has a few ms left: a late second Ctrl-C must not kill it with the
    // default action (exit by signal instead of 0), so signals are ignored from here on.
    const ignore = () => undefined;
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP'] as const) process.on(sig, ignore);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGQUIT', onSignal);
    process.off('SIGHUP', onHup);
  }
  clearTimeout(grace); // the stop finished within its grace
  child(log, 'stats').info(`done: ${JSON.stringify(agent.statsSnapshot())}`);
  await new Promise((r) => setTimeout(r, 50));
  // A model still being read or loaded (a switch cut short by the stop) is waited for within the grace; one
  // whose read hangs would hold process exit for ever.
  const end = Date.now() + Math.max(0, SHUTDOWN_GRACE_MS - 1000 - (stopAskedAt ? performance.now() - stopAskedAt : 0));
  while (inferenceFaults.loading && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  // A capture failure is never a 0: Restart=on-failure must act on it.
  const code = failed ? exitCodeFor(failed) : 0;
  if (inferenceFaults.stuck || inferenceFaults.loading) exitPastStuckWorkers(code);
  // Everything is stopped and flushed: the process should end as the event loop drains. Should a handle
  // outlive the stop (a socket a broker restart left half-closed was seen once in CI), name it and exit
  // anyway rather than hang until the grace turns a clean stop into a forced one.
  setTimeout(() => {
    log.warn(`still open 2 s after a clean stop: ${process.getActiveResourcesInfo().join(', ')}; exiting`);
    process.exit(code);
  }, 2000).unref();
  return code;
}

/**
 * Exits. A replaced inference worker still inside a run that never returned would hang process.exit
 * (Node joins every thread) and abort it if the run ever came back: only SIGKILL ends such a process.
 * Everything that matters is on disk by then (outbox, open visits).
 */
function exitPastStuckWorkers(code: number): never {
  const stuck = inferenceFaults.stuck + inferenceFaults.loading;
  if (stuck) {
    process.stderr.write(`percept: ${stuck} inference worker(s) stuck in a run or a model read that never returned: ending with SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  }
  process.exit(code);
}

export async function runCommand(a: RunArgs): Promise<number> {
  for (const w of envWarnings(process.env)) process.stderr.write(`percept: ${w}\n`);
  const loaded = loadOrReport(a.config, flagOverrides(a));
  if (typeof loaded === 'number') return loaded;
  const onEvent = a.printEvents
    ? (p: EventPayload) => {
        process.stdout.write(`${JSON.stringify(p)}\n`);
      }
    : undefined;
  return runAgent(loaded.config, { exitOnEof: a.exitOnEof, configFile: loaded.file, onEvent, warnings: loaded.warnings, layers: loaded.layers });
}
