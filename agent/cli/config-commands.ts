// percept config validate FILE | print
import { stringify } from 'yaml';
import { ConfigError, loadConfig, redact } from '../config/load.js';
import { exitCodeFor } from './exit-codes.js';

export function configValidate(file: string | undefined): number {
  if (!file) {
    process.stderr.write('percept config validate: name the file to check, e.g. percept config validate /etc/percept/percept.yaml\n');
    return 64;
  }
  try {
    // The file alone: environment overrides are not part of what is being checked.
    loadConfig({ file, env: {} });
    process.stdout.write(`${file}: valid\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return exitCodeFor(err);
  }
}

export function configPrint(file: string | undefined): number {
  try {
    const { config, file: used } = loadConfig({ file });
    process.stdout.write(`# effective configuration (${used ?? 'defaults'} + PERCEPT_* environment); secrets redacted\n${stringify(redact(config))}`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return exitCodeFor(err);
  }
}
