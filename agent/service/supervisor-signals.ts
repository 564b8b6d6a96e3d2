// The process side of a stop: which signal does what, the grace a stop gets, and the forced exit when the
// grace runs out (or a third signal arrives). Split from supervisor.ts so the run's flow reads on its own.
import type { Logger } from '../lib/logging.js';
import { EXIT_FORCED } from '../lib/exit-codes.js';
import { inferenceFaults } from '../inference/worker-session.js';
import type { Agent } from './agent.js';
import type { SdNotifier } from './systemd-notify.js';

export const SHUTDOWN_GRACE_MS = 15_000;

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
type Ignored = keyof typeof IGNORED_SIGNALS;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;

/** What the run needs to know of the signals so far. */
export interface StopSignals {
  /** How many stop signals arrived (0: none yet). */
  readonly count: number;
  /** performance.now() at the first stop signal, 0 before. */
  readonly askedAt: number;
  /** The stop finished: the forced exit is called off. */
  finished(): void;
  /** Handlers off; from here on stop signals are ignored, since the process is about to end anyway. */
  release(): void;
}

/**
 * Installs the handlers before start-up, so a stop during it (models loading, broker unreachable) is clean
 * too: the first stop signal asks the agent to stop and starts the grace; the second only says what is
 * going on; a third (or the grace running out) forces the exit.
 */
export function handleSignals(agent: Agent, log: Logger, notify: SdNotifier): StopSignals {
  let count = 0;
  let askedAt = 0;
  let grace: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    // A double Ctrl-C is common and must not cost the open visits their "left".
    if (count === 2) {
      log.warn(`${sig} again: still stopping (open visits end with "left", events are flushed); send it once more to exit at once`);
      return;
    }
    if (count > 2) forceExit(agent, `${sig} a third time`);
    log.info(`${sig}: stopping (open visits end with "left", events are flushed)`);
    askedAt = performance.now();
    agent.requestStop();
    grace = setTimeout(() => forceExit(agent, `shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s`), SHUTDOWN_GRACE_MS);
    grace.unref();
  };
  const onHup = () => {
    notify.send('RELOADING=1');
    agent.reload();
    notify.send('READY=1');
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  process.on('SIGHUP', onHup);
  const ignored = (sig: NodeJS.Signals) => log.warn(`${sig} ignored (${IGNORED_SIGNALS[sig as Ignored]})`);
  for (const sig of Object.keys(IGNORED_SIGNALS) as Ignored[]) process.on(sig, ignored);
  return {
    get count() {
      return count;
    },
    get askedAt() {
      return askedAt;
    },
    finished: () => clearTimeout(grace),
    release: () => {
      // The stop is done but the process has a few ms left: a late second Ctrl-C must not kill it with
      // the default action (exit by signal instead of 0), so signals are ignored from here on.
      const ignore = () => undefined;
      for (const sig of [...STOP_SIGNALS, 'SIGHUP'] as const) process.on(sig, ignore);
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
      process.off('SIGHUP', onHup);
    },
  };
}

function forceExit(agent: Agent, why: string): never {
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
}

/**
 * Exits. A replaced inference worker still inside a run that never returned would hang process.exit
 * (Node joins every thread) and abort it if the run ever came back: only SIGKILL ends such a process.
 * Everything that matters is on disk by then (outbox, open visits).
 */
export function exitPastStuckWorkers(code: number): never {
  const stuck = inferenceFaults.stuck + inferenceFaults.loading;
  if (stuck) {
    process.stderr.write(`percept: ${stuck} inference worker(s) stuck in a run or a model read that never returned: ending with SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  }
  process.exit(code);
}
