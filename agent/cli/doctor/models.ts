// The models the configuration runs, each verified as `percept models verify` does (manifest, every
// file's sha256, the graph against the manifest: cli/models-commands.ts), in a child process with a deadline.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { chooseDetectorDir } from '../../detect/open-detector.js';
import { DEFAULT_MODELS } from '../../inference/default-models.js';
import { classifierDirs } from '../../service/components.js';
import { fail, ok, warn, type Check, type Result } from './check.js';
import { runProbe, type ProbeAnswer } from './exec.js';

const SETUP_FIX = 'npm run setup converts the default models (percept models fetch yunet-n fetches YuNet)';

export interface ModelRole {
  id: string;
  dir: string;
  /** Named in the config (detector.model, classifier.models) rather than a default. */
  configured: string | null;
  /** Said on an ok line, e.g. why this detector. */
  note?: string;
  /** The agent runs without it (the embedder): missing is a warning. */
  optional?: boolean;
}

export function modelRoles(config: Config): ModelRole[] {
  const det = chooseDetectorDir(config.detector.model);
  const roles: ModelRole[] = [
    { id: 'model.detector', dir: det.dir, configured: config.detector.model ? 'detector.model' : null, note: det.why },
    ...classifierDirs(config.classifier.models, config.classifier.emotion).map((dir, i) => ({
      id: `model.classifier.${i}`,
      dir,
      configured: config.classifier.models.length ? `classifier.models[${i}]` : null,
    })),
    { id: 'model.embedder', dir: DEFAULT_MODELS.embedder, configured: null, optional: true },
  ];
  return roles;
}

export function modelResult(role: ModelRole, a: ProbeAnswer): Result {
  if (a.ok) {
    const files = Number(a.files);
    const base = `${String(a.name)}: ${files > 1 ? `${files} files match their` : '1 file matches its'} sha256, graph matches the manifest (${role.dir})`;
    // The SSD in place of YuNet works, but is the weaker detector: worth a line with its fix.
    if (role.note?.includes('not installed')) return warn(`${base}; YuNet is not installed`, 'percept models fetch yunet-n (the better detector)');
    return ok(base);
  }
  const fix = role.configured
    ? `correct ${role.configured} or install the model there ("percept models verify DIR" checks one)`
    : role.optional
      ? `${SETUP_FIX}; without it re-identification is by position only`
      : SETUP_FIX;
  if (role.optional && !existsSync(join(role.dir, 'model.json')))
    return warn(`no face embedding model in ${role.dir}: re-identification by appearance is off`, fix);
  return fail(a.error, fix);
}

export function modelChecks(config: Config): Check[] {
  return modelRoles(config).map((role) => ({
    id: role.id,
    // Hashing a large export (PE-Core-L: over a gigabyte) and loading it takes tens of seconds on a small board.
    timeoutMs: 300_000,
    run: async (signal) => modelResult(role, await runProbe(['model', role.dir], 295_000, signal)),
  }));
}
