// The models under models/ by the name their manifest gives them: what "models list" shows, what
// "models verify/use NAME" accept and what shell completion offers. Only model.json is read (no
// onnxruntime, no schema check) so completion stays instant; the commands verify the directory after.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-root.js';

export const MODELS_ROOT = join(PACKAGE_ROOT, 'models');

/** Model directories (holding a model.json) below models/, two levels deep. */
export function findModelDirs(root = MODELS_ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (existsSync(join(dir, 'model.json'))) found.push(dir);
    if (depth === 0) return;
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory() && e !== 'node_modules' && !e.startsWith('.')) walk(p, depth - 1);
    }
  };
  if (existsSync(root)) walk(root, 2);
  return found.sort();
}

export interface NamedModel {
  dir: string;
  kind: unknown;
}

/** name → directory (and kind) for every model whose model.json names it; unreadable manifests are skipped. */
export function modelsByName(root = MODELS_ROOT): Map<string, NamedModel> {
  const byName = new Map<string, NamedModel>();
  for (const dir of findModelDirs(root)) {
    try {
      const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { name?: unknown; kind?: unknown };
      if (typeof m.name === 'string' && !byName.has(m.name)) byName.set(m.name, { dir, kind: m.kind });
    } catch {
      // "models list" reports it as invalid; here it just has no name.
    }
  }
  return byName;
}

/** A directory as given, or the directory of the model named `target` under models/; null: neither. */
export function modelDirOf(target: string, root = MODELS_ROOT): string | null {
  if (existsSync(target)) return resolve(target);
  return modelsByName(root).get(target)?.dir ?? null;
}
