// percept doctor: checks this device as an installer would — machine, OpenCV, cameras, execution
// providers, models, state directory, broker, clock, service — one line each with a fix for every line
// that is not ok. Exit 0 when everything the configuration asks for works, 1 otherwise.
import { ConfigError, defaults, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { defaultStateDir } from '../lib/state-dir.js';
import { exitCodeOf, fail, ok, runChecks, warn, type Check, type Result } from './doctor/check.js';
import { brokerCheck } from './doctor/broker.js';
import { hostChecks } from './doctor/host.js';
import { modelChecks } from './doctor/models.js';
import { opencvCheck } from './doctor/opencv.js';
import { platformChecks } from './doctor/platform.js';
import { providerChecks } from './doctor/providers.js';
import { json, table } from './doctor/report.js';
import { stateCheck } from './doctor/state.js';
import { camerasCheck, kindOf, sourceCheck } from './doctor/video.js';

export interface DoctorArgs {
  config?: string;
  json: boolean;
}

/** What the agent starts without and waits for (no source, a model directory not there yet) has its own line below. */
const OWN_LINE = /^(source\.uri|detector\.model|classifier\.models\.\d+):/;

/** The config `percept run` would use, checked as it checks it; when it is refused, the rest is checked against what can be read. */
export function loadForDoctor(file: string | undefined): { config: Config; file: string | null; result: Result } {
  try {
    const loaded = loadConfig({ file, forRun: true });
    const where = loaded.file ?? 'no config file (defaults and PERCEPT_* environment)';
    const notes = loaded.warnings.filter((w) => !OWN_LINE.test(w));
    const result = notes.length ? warn(`${where}: ${notes.join('; ')}`, 'percept config print shows the effective config') : ok(`${where}: valid`);
    return { config: loaded.config, file: loaded.file, result };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const refused = fail(err.message.replace(/:?\n\s*/g, '; '), `percept config validate ${file ?? '/etc/percept/percept.yaml'} names each problem; fix them`);
    try {
      const loaded = loadConfig({ file });
      return { config: loaded.config, file: loaded.file, result: refused };
    } catch {
      return { config: defaults(), file: file ?? null, result: { ...refused, detail: `${refused.detail} (the other checks use the defaults)` } };
    }
  }
}

export function doctorChecks(config: Config, configResult: Result): Check[] {
  const kind = kindOf(config.source.uri);
  return [
    { id: 'config', timeoutMs: 1000, run: async () => configResult },
    ...platformChecks(),
    opencvCheck(kind),
    sourceCheck(config.source.uri),
    camerasCheck(kind),
    ...providerChecks(config.inference.providers),
    ...modelChecks(config),
    stateCheck(config.state.dir || defaultStateDir()),
    brokerCheck(config),
    ...hostChecks(),
  ];
}

export async function doctorRun(a: DoctorArgs): Promise<number> {
  const { config, file, result } = loadForDoctor(a.config);
  // On a terminal, what is being checked is shown while it runs: the model checks take a while on a small board.
  const progress = !a.json && process.stderr.isTTY ? (id: string) => process.stderr.write(`\r\x1b[Kchecking ${id}…`) : null;
  const checks = doctorChecks(config, result).map((c) => ({ ...c, run: (s: AbortSignal) => (progress?.(c.id), c.run(s)) }));
  const lines = await runChecks(checks);
  if (progress) process.stderr.write('\r\x1b[K');
  process.stdout.write(a.json ? json(lines, file) : table(lines));
  return exitCodeOf(lines);
}
