// percept config validate FILE | print
import { Document, isCollection } from 'yaml';
import { ConfigError, loadConfig, provenance, type LoadedConfig } from '../config/load.js';
import { getPath, KEYS, setPath } from '../config/keys.js';
import { redact } from '../lib/redact.js';
import { EXIT_MODEL, exitCodeFor } from '../lib/exit-codes.js';
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { loadManifest, ModelError, type ModelManifest } from '../inference/manifest.js';

type ModelKind = ModelManifest['kind'];

/** What `percept run` would refuse in the model directories the config names (exit 65 there): the manifests. */
function modelProblems(config: Config): string[] {
  const wanted: [string, string, ModelKind][] = [
    ['detector.model', config.detector.model, 'detector'],
    ...config.classifier.models.map((dir, i): [string, string, ModelKind] => [`classifier.models.${i}`, dir, 'attributes']),
  ];
  const problems: string[] = [];
  for (const [key, dir, kind] of wanted) {
    if (!existsSync(dir)) continue; // run waits for a directory that is not there yet: a warning above
    try {
      const { manifest } = loadManifest(dir);
      if (manifest.kind !== kind)
        problems.push(`${key}: ${dir} holds a${manifest.kind === 'attributes' ? 'n' : ''} ${manifest.kind} model; a ${kind} model is needed here`);
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      problems.push(`${key}: ${err.message}`);
    }
  }
  return problems;
}

export function configValidate(file: string | undefined): number {
  if (!file) {
    process.stderr.write('percept config validate: name the file to check, e.g. percept config validate /etc/percept/percept.yaml\n');
    return 64;
  }
  try {
    // The file alone, with the checks `percept run` makes (a source, files that must exist, the model
    // manifests): environment overrides and stored remote overrides are not part of what is being checked.
    const { config, warnings } = loadConfig({ file, env: {}, forRun: true, readOverrides: false });
    // What the agent starts without and waits for (no source yet, a model volume not mounted) is valid
    // but said, so a file shipped without a source does not pass unnoticed.
    for (const w of warnings) process.stderr.write(`${file}: warning: ${w}\n`);
    // Weights are not hashed here (seconds for a large model): run and `percept models verify` do that.
    const models = modelProblems(config);
    if (models.length) {
      process.stderr.write(`${file}: the models it names would not open:\n${models.map((p) => `  ${p}`).join('\n')}\n`);
      return EXIT_MODEL;
    }
    process.stdout.write(`${file}: valid${warnings.length ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return exitCodeFor(err);
  }
}

/** The effective config as YAML, each value followed by the layer it comes from. */
export function printWithLayers(loaded: LoadedConfig): string {
  // Schema order (the order of config/percept.yaml), whatever order the layers named the keys in.
  const ordered: Record<string, unknown> = {};
  for (const key of KEYS) setPath(ordered, key.segments, getPath(loaded.config, key.segments));
  const doc = new Document(redact(ordered));
  const from = provenance(loaded.layers);
  for (const key of KEYS) {
    const node = doc.getIn(key.segments, true) as { comment?: string | null; flow?: boolean } | undefined;
    if (!node || typeof node !== 'object') continue;
    node.comment = ` ${from[key.path]}`;
    if (isCollection(node)) node.flow = true; // keeps the comment on the key's line
  }
  const { fileName, overridesFile } = loaded.layers;
  const header = [
    '# effective configuration; secrets redacted. Each value says where it comes from:',
    `#   default < file (${fileName ?? 'none'}) < overrides (${overridesFile ?? 'none'}) < environment (PERCEPT_*) < flags`,
  ];
  return `${header.join('\n')}\n${doc.toString()}`;
}

export function configPrint(file: string | undefined): number {
  try {
    const loaded = loadConfig({ file });
    for (const w of loaded.warnings) process.stderr.write(`percept: ${w}\n`);
    process.stdout.write(printWithLayers(loaded));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return exitCodeFor(err);
  }
}
