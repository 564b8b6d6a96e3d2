// Which adapter runs a model is decided by what its manifest declares: each adapter names the kind it
// serves and the output types it decodes, a registry is a list of them in order of preference, and
// every adapter opens through openModel (load and check the manifest, the adapter's own checks, the
// worker session, then the adapter's build). Adding an adapter is its module plus one registry line.
import { loadManifest, ModelError, type LoadedManifest, type ModelKind, type OutputType } from './manifest.js';
import { WorkerSession, type SessionOptions } from './worker-session.js';
import type { Logger } from '../lib/logging.js';

export interface ModelAdapter<Opened, Context> {
  /** For errors and logs: what this adapter is (e.g. "grid decoder"). */
  readonly name: string;
  readonly kind: ModelKind;
  /** A manifest of this kind with any of these output types is handed to this adapter. */
  readonly outputTypes: readonly OutputType[];
  /**
   * What the adapter relies on beyond the manifest schema, checked before a worker starts (throws a
   * ModelError naming the output and the fix); returns how to build the adapter on the running session.
   * A build that throws has its session closed by openModel.
   */
  prepare(loaded: LoadedManifest, context: Context): (session: WorkerSession) => Opened | Promise<Opened>;
}

export type AdapterRegistry<Opened, Context> = readonly ModelAdapter<Opened, Context>[];

/** One line per adapter, e.g. `grid decoder (detector: grid-box-offsets)`. */
export function describeRegistry(registry: AdapterRegistry<unknown, never>): string {
  return registry.map((a) => `${a.name} (${a.kind}: ${a.outputTypes.join(' or ')})`).join(', ');
}

/** The first adapter in the registry that serves this manifest's kind and decodes one of its outputs. */
export function pickAdapter<Opened, Context>(registry: AdapterRegistry<Opened, Context>, loaded: LoadedManifest): ModelAdapter<Opened, Context> {
  const m = loaded.manifest;
  const types = [...new Set(m.outputs.map((o) => o.type))];
  const found = registry.find((a) => a.kind === m.kind && a.outputTypes.some((t) => types.includes(t)));
  if (found) return found;
  const kinds = [...new Set(registry.map((a) => a.kind))];
  const problem = kinds.includes(m.kind)
    ? `no ${m.kind} adapter decodes its outputs (${types.join(', ')})`
    : `kind is "${m.kind}", ${kinds.map((k) => `${/^[aeiou]/.test(k) ? 'an' : 'a'} ${k}`).join(' or ')} model is needed here`;
  throw new ModelError(loaded.dir, [`${problem}; the adapters here are ${describeRegistry(registry)}`]);
}

/** The shared open path: the manifest picks the adapter, then its checks, its worker session and its build. */
export async function openModel<Opened, Context>(
  registry: AdapterRegistry<Opened, Context>,
  dir: string,
  context: Context,
  session: SessionOptions,
  log?: Logger,
): Promise<Opened> {
  const loaded = loadManifest(dir);
  const build = pickAdapter(registry, loaded).prepare(loaded, context);
  const s = await WorkerSession.open(loaded, session, log);
  try {
    return await build(s);
  } catch (err) {
    await s.close();
    throw err;
  }
}
