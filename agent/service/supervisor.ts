// The agent as a process: started, watched by systemd's watchdog, stopped by a signal (or the end of a
// file), and its exit code. `percept run` and `percept demo` parse their options and call this.
import type { Config } from '../config/schema.js';
import type { ConfigLayers } from '../config/load.js';
import { child, createLogger } from '../lib/logging.js';
import { exitCodeFor } from '../lib/exit-codes.js';
import type { EventPayload } from '../publish/payloads.js';
import { inferenceFaults } from '../inference/worker-session.js';
import { Agent } from './agent.js';
import { Heartbeat, SdNotifier } from './systemd-notify.js';
import { StartAborted } from './model-wait.js';
import { exitPastStuckWorkers, handleSignals, SHUTDOWN_GRACE_MS } from './supervisor-signals.js';

export interface SuperviseOptions {
  exitOnEof: boolean;
  configFile?: string | null;
  onEvent?: (p: EventPayload) => void;
  warnings?: string[];
  layers?: ConfigLayers;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the agent until a stop; resolves with the process's exit code (or ends the process on a forced exit). */
export async function superviseAgent(config: Config, opts: SuperviseOptions): Promise<number> {
  const log = createLogger(config.log);
  for (const w of opts.warnings ?? []) child(log, 'config').warn(w);
  const notify = new SdNotifier();
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
  const signals = handleSignals(agent, log, notify);
  let failed: unknown = null;
  const statusTimer = setInterval(() => notify.send(`STATUS=${agent.statusLine()}`), 10_000);
  statusTimer.unref();
  try {
    try {
      await agent.start();
    } catch (err) {
      if (err instanceof StartAborted) return 0;
      log.error((err as Error).message);
      await pause(50); // let winston flush
      return exitCodeFor(err);
    } finally {
      clearInterval(waitPing);
    }
    watchPipeline(agent, notify, config.inference.timeoutMs);
    notify.send('READY=1');
    notify.send(`STATUS=${agent.statusLine()}`);
    try {
      if (!signals.count) await agent.run();
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
    signals.release();
  }
  signals.finished(); // the stop finished within its grace
  child(log, 'stats').info(`done: ${JSON.stringify(agent.statsSnapshot())}`);
  await pause(50);
  // A model still being read or loaded (a switch cut short by the stop) is waited for within the grace; one
  // whose read hangs would hold process exit for ever.
  const end = Date.now() + Math.max(0, SHUTDOWN_GRACE_MS - 1000 - (signals.askedAt ? performance.now() - signals.askedAt : 0));
  while (inferenceFaults.loading && Date.now() < end) await pause(100);
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
 * The watchdog follows the pipeline: no frame processed for a whole period while the camera is supposed
 * to deliver (not lost, not paused) means a stall, and a blocked event loop sends nothing. Frames flowing
 * is not enough: a classification that never returns while frames go on is a stall too. Calls time out
 * (inference.timeoutMs) and their worker is replaced, so one older than that plus a watchdog period means
 * the recovery itself is stuck.
 */
function watchPipeline(agent: Agent, notify: SdNotifier, timeoutMs: number): void {
  const beat = new Heartbeat(Math.max(notify.watchdogMs, 1000));
  agent.heartbeat = () => beat.beat();
  const callLimitMs = timeoutMs + Math.max(notify.watchdogMs, 1000);
  notify.startWatchdog(() => (beat.alive() || !agent.expectsFrames()) && agent.oldestInferenceCallMs() <= callLimitMs);
}
