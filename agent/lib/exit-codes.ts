// Every exit code percept uses, in one place. sysexits(3) values, so systemd units and scripts tell a
// configuration to fix (78, not restarted) from a crash (1, restarted by Restart=on-failure).

/** sysexits EX_USAGE: an unknown command, a misspelt flag, a missing argument. */
export const EXIT_USAGE = 64;
/** sysexits EX_DATAERR: a model directory that cannot be used. */
export const EXIT_MODEL = 65;
/** sysexits EX_NOINPUT: a source that cannot be opened. */
export const EXIT_SOURCE = 66;
/** sysexits EX_UNAVAILABLE: a device did not answer (agent stopped, wrong id, broker unreachable). */
export const EXIT_NO_ANSWER = 69;
/** sysexits EX_SOFTWARE: a forced stop (a third signal, or shutdown beyond its grace); what it dropped is logged. */
export const EXIT_FORCED = 70;
/** sysexits EX_CANTCREAT: the state directory cannot be used. */
export const EXIT_CANTCREAT = 73;
/** sysexits EX_CONFIG: a configuration that does not validate. */
export const EXIT_CONFIG = 78;
/** A running device (or the local check before sending) refused a config change. */
export const EXIT_REFUSED = 1;
/** Anything else that ends a command. */
export const EXIT_FAILURE = 1;

/** An error that knows the exit code it ends a command with (ConfigError, SourceError, StateDirError, …). */
export interface ExitCoded {
  readonly exitCode: number;
}

const hasExitCode = (err: unknown): err is ExitCoded => typeof err === 'object' && err !== null && typeof (err as Partial<ExitCoded>).exitCode === 'number';

/** The exit code for an error that ends a command: config 78, model 65, source 66, state directory 73, other 1. */
export function exitCodeFor(err: unknown): number {
  return hasExitCode(err) ? err.exitCode : EXIT_FAILURE;
}
