// percept models fetch NAME [--dest DIR]: installs a model pinned in models/catalog.json. Copies it from
// $PERCEPT_MODEL_MIRROR/<mirrorDir>/ when the mirror has it (air-gapped sites), else downloads the
// upstream file at its pinned commit. Everything lands in a staging directory next to the destination,
// is checked against the catalog's sha256, and only then replaces the destination with renames on the
// same filesystem: a wrong or partial file is never installed. Also run by setup as a script
// (node dist/agent/cli/models-fetch.js NAME), where a failure is one line and the SSD stays the detector.
import {
  chmodSync,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../inference/default-models.js';
import { loadManifest, sha256File, type ModelManifest } from '../inference/manifest.js';

export const CATALOG_FILE = join(PACKAGE_ROOT, 'models/catalog.json');
const FETCH_TIMEOUT_MS = 30_000;

interface CatalogFile {
  upstreamPath: string;
  path: string;
  sha256: string;
  bytes: number;
}
export interface CatalogEntry {
  description: string;
  upstream: { repo: string; commit: string; baseUrl: string };
  mirrorDir: string;
  /** Relative to the package root. */
  installDir: string;
  files: CatalogFile[];
  /** model.json without "files" (written from the checked files). */
  manifest: Omit<ModelManifest, 'files'>;
}

export class FetchError extends Error {
  constructor(
    message: string,
    readonly reason: 'unknown' | 'checksum' | 'unavailable',
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export function loadCatalog(path = CATALOG_FILE): Record<string, CatalogEntry> {
  return (
    JSON.parse(readFileSync(path, 'utf8')) as {
      models: Record<string, CatalogEntry>;
    }
  ).models;
}

export interface FetchOptions {
  dest?: string;
  /** Default: $PERCEPT_MODEL_MIRROR. */
  mirror?: string;
  /** Replaces the catalog's upstream base URL (default: $PERCEPT_MODEL_BASE_URL; tests point it at a local server). */
  baseUrl?: string;
  timeoutMs?: number;
  catalog?: Record<string, CatalogEntry>;
  /** The command's result line, printed to a terminal: output of `percept models fetch`, not a log (no level, no namespace). */
  print?: (line: string) => void;
}

export interface Fetched {
  name: string;
  dir: string;
  from: 'already installed' | string;
}

/** Streams the body to `to`, never more than `maxBytes` (the catalog's size): a larger body is refused, not buffered. */
async function download(url: string, to: string, timeoutMs: number, maxBytes: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new FetchError(`cannot download ${url}: ${why}`, 'unavailable');
  }
  if (!res.ok) throw new FetchError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}`, 'unavailable');
  const declared = Number(res.headers.get('content-length'));
  if (res.headers.has('content-length') && declared > maxBytes) {
    await res.body?.cancel();
    throw new FetchError(`${url} is ${declared} bytes, the catalog says ${maxBytes}: refused, nothing installed`, 'checksum');
  }
  let got = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      got += chunk.length;
      if (got > maxBytes) done(new FetchError(`${url} sent more than the ${maxBytes} bytes the catalog says: refused, nothing installed`, 'checksum'));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), cap, createWriteStream(to));
  } catch (err) {
    if (err instanceof FetchError) throw err;
    const e = err as Error;
    throw new FetchError(`cannot download ${url}: ${e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : e.message}`, 'unavailable');
  }
}

/** True when dir holds this entry's files with the pinned sha256 and a model.json. */
async function installed(entry: CatalogEntry, dir: string): Promise<boolean> {
  if (!existsSync(join(dir, 'model.json'))) return false;
  for (const f of entry.files) {
    if (!existsSync(join(dir, f.path)) || (await sha256File(join(dir, f.path))) !== f.sha256) return false;
  }
  return true;
}

export async function fetchModel(name: string, opts: FetchOptions = {}): Promise<Fetched> {
  const catalog = opts.catalog ?? loadCatalog();
  const entry = catalog[name];
  if (!entry) throw new FetchError(`no model "${name}" in the catalog (${CATALOG_FILE}); known: ${Object.keys(catalog).join(', ')}`, 'unknown');
  const dest = resolve(opts.dest ?? join(PACKAGE_ROOT, entry.installDir));
  if (await installed(entry, dest)) return { name, dir: dest, from: 'already installed' };
  const mirror = opts.mirror ?? process.env.PERCEPT_MODEL_MIRROR ?? '';
  const baseUrl = opts.baseUrl ?? process.env.PERCEPT_MODEL_BASE_URL ?? entry.upstream.baseUrl;
  mkdirSync(dirname(dest), { recursive: true });
  const staging = mkdtempSync(join(dirname(dest), `.${basename(dest)}.fetch-`));
  const sources = new Set<string>();
  try {
    for (const f of entry.files) {
      const to = join(staging, f.path);
      const mirrored = mirror ? join(mirror, entry.mirrorDir, f.path) : '';
      let from: string;
      if (mirrored && existsSync(mirrored)) {
        // Checked before copying: a wrong file (a 2 GB one in place of a 300 KB model) is not copied at all.
        const size = statSync(mirrored).size;
        if (!statSync(mirrored).isFile() || size !== f.bytes)
          throw new FetchError(
            `${name}: ${f.path} in the mirror (${mirrored}) is ${size} bytes, the catalog pins ${f.bytes}: refused, nothing installed`,
            'checksum',
          );
        copyFileSync(mirrored, to);
        from = mirrored;
        sources.add(`mirror ${join(mirror, entry.mirrorDir)}`);
      } else {
        from = new URL(f.upstreamPath, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
        const noMirror = mirror ? `the mirror ${mirror} has no ${join(entry.mirrorDir, f.path)}` : 'PERCEPT_MODEL_MIRROR is not set';
        try {
          await download(from, to, opts.timeoutMs ?? FETCH_TIMEOUT_MS, f.bytes);
        } catch (err) {
          if (err instanceof FetchError && err.reason === 'checksum') throw new FetchError(`${name}: ${err.message}`, 'checksum');
          throw new FetchError(`${name}: ${noMirror}, and ${(err as Error).message}`, 'unavailable');
        }
        sources.add(baseUrl);
      }
      const actual = await sha256File(to);
      if (actual !== f.sha256) {
        throw new FetchError(`${name}: ${f.path} from ${from} has sha256 ${actual}, the catalog pins ${f.sha256}: refused, nothing installed`, 'checksum');
      }
    }
    // mkdtemp makes the directory private and copies keep the mirror's modes: the service user must read them.
    chmodSync(staging, 0o755);
    for (const f of entry.files) chmodSync(join(staging, f.path), 0o644);
    const manifest: ModelManifest = {
      ...entry.manifest,
      files: entry.files.map((f) => ({
        path: f.path,
        sha256: f.sha256,
        bytes: f.bytes,
      })),
    };
    writeFileSync(join(staging, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    loadManifest(staging); // the catalog's manifest must be one the agent accepts
    // Swap in: the old copy (if any) steps aside, the new one takes its name, the old one goes.
    const old = `${staging}.old`;
    if (existsSync(dest)) renameSync(dest, old);
    renameSync(staging, dest);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  opts.print?.(`${name}: installed into ${dest} from ${[...sources].join(' and ')}`);
  return { name, dir: dest, from: [...sources].join(' and ') };
}

/** The CLI command: 0 installed, 64 unknown name, 65 checksum refused, 69 no source reachable. */
export async function modelsFetch(name: string | undefined, dest?: string): Promise<number> {
  if (!name) {
    process.stderr.write(`percept models fetch: name a model from the catalog (${Object.keys(loadCatalog()).join(', ')})\n`);
    return 64;
  }
  try {
    const r = await fetchModel(name, {
      dest,
      print: (l) => process.stdout.write(`${l}\n`),
    });
    if (r.from === 'already installed') process.stdout.write(`${name}: already installed in ${r.dir} (sha256 match)\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof FetchError)) throw err;
    process.stderr.write(`percept models fetch: ${err.message}\n`);
    return err.reason === 'unknown' ? 64 : err.reason === 'checksum' ? 65 : 69;
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // Setup: one line whatever happens; the agent falls back to the converted SSD without this model.
  const [name = 'yunet-n', ...rest] = process.argv.slice(2);
  const destIdx = rest.indexOf('--dest');
  fetchModel(name, { dest: destIdx >= 0 ? rest[destIdx + 1] : undefined }).then(
    (r) => console.log(r.from === 'already installed' ? `[setup] ${name}: installed (${r.dir})` : `[setup] ${name}: installed into ${r.dir} from ${r.from}`),
    (err: Error) => console.log(`[setup] model ${name} not installed — ${err.message.replace(`${name}: `, '')}; the agent will use the converted SSD detector`),
  );
}
