// PERCEPT_* variables that name no config key: a misspelt PERCEPT_DETECTOR_SCORE_THRESHHOLD would
// otherwise be ignored without a word, and the installer would wonder why the threshold never changed.
import { ENV_KEYS } from './load.js';

/** PERCEPT_* names that are not config keys but are read by percept's tooling. */
const TOOLING = new Set(['PERCEPT_MODEL_MIRROR', 'PERCEPT_BIN']);

export interface UnknownEnv {
  name: string;
  /** The closest config variable, when one is near (a likely typo). */
  suggestion?: string;
}

/** Levenshtein distance; a dozen lines here rather than a dependency (the CLI's flag and key suggestions use it too). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `name` when it is within `max` edits (a likely typo), else undefined. */
export function closest(name: string, candidates: Iterable<string>, max = 3): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= max ? best.c : undefined;
}

/** Every leaf config key, dotted (detector.minFacePx): for suggestions and shell completion. */
export function configKeys(): string[] {
  return ENV_KEYS.map((k) => k.path.join('.'));
}

export function unknownEnvVars(env: NodeJS.ProcessEnv): UnknownEnv[] {
  const known = new Set(ENV_KEYS.map((k) => k.name));
  return Object.keys(env)
    .filter((n) => n.startsWith('PERCEPT_') && !known.has(n) && !TOOLING.has(n))
    .sort()
    .map((name) => {
      const suggestion = closest(name, known);
      return suggestion ? { name, suggestion } : { name };
    });
}

/** One warning line per unknown variable, ready to print. */
export function envWarnings(env: NodeJS.ProcessEnv): string[] {
  return unknownEnvVars(env).map(
    (u) =>
      `warning: environment variable ${u.name} names no config key and is ignored` +
      (u.suggestion
        ? ` (did you mean ${u.suggestion}?)`
        : ' ("percept config print" shows the keys; PERCEPT_SECTION_KEY_NAME, e.g. PERCEPT_DETECTOR_MIN_FACE_PX)'),
  );
}
