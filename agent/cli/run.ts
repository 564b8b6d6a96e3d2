// percept run: config from file/env/flags, then the agent until a signal (or the end of a file); the
// process side (signals, watchdog, forced exit) is service/supervisor.ts.
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { EventPayload } from '../publish/payloads.js';
import { exitCodeFor } from '../lib/exit-codes.js';
import { envWarnings } from '../config/env-check.js';
import { superviseAgent } from '../service/supervisor.js';

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

export async function runCommand(a: RunArgs): Promise<number> {
  for (const w of envWarnings(process.env)) process.stderr.write(`percept: ${w}\n`);
  const loaded = loadOrReport(a.config, flagOverrides(a));
  if (typeof loaded === 'number') return loaded;
  const onEvent = a.printEvents
    ? (p: EventPayload) => {
        process.stdout.write(`${JSON.stringify(p)}\n`);
      }
    : undefined;
  return superviseAgent(loaded.config, { exitOnEof: a.exitOnEof, configFile: loaded.file, onEvent, warnings: loaded.warnings, layers: loaded.layers });
}
