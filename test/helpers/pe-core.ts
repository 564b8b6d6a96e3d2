// Runs the real export tool (models/pe-core/export.py) in its virtualenv.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest } from '../../agent/inference/manifest.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { PACKAGE_ROOT } from './models.js';

let python: string | undefined;

/** The export tool's python, installing its venv on first use (about a minute). */
export function exportPython(): string {
  python ??= execFileSync('bash', [join(PACKAGE_ROOT, 'models/pe-core/setup-venv.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return python;
}

export function runExport(args: string[]): {
  code: number | null;
  stderr: string;
} {
  const r = spawnSync(exportPython(), [join(PACKAGE_ROOT, 'models/pe-core/export.py'), ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stderr: r.stderr };
}

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** The model in `dir` run by the agent's worker session on the parity input of `fixtureDir` (default: dir). */
export async function logitsOnFixture(
  dir: string,
  fixtureDir = dir,
): Promise<{
  outputs: Record<string, Float32Array>;
  expected: Record<string, Float32Array>;
  /** Output shapes as the model gave them, and as the fixture says they should be. */
  dims: Record<string, number[]>;
  expectedDims: Record<string, number[]>;
}> {
  const spec = JSON.parse(readFileSync(join(fixtureDir, 'parity.json'), 'utf8'));
  const session = await WorkerSession.open(loadManifest(dir), {
    providers: ['cpu'],
    intraOpThreads: 2,
    verifySha256: true,
  });
  try {
    const { outputs } = await session.run({
      pixel_values: {
        data: readF32(join(fixtureDir, spec.input.file)),
        dims: spec.input.shape,
      },
    });
    const expected: Record<string, Float32Array> = {};
    const got: Record<string, Float32Array> = {};
    const dims: Record<string, number[]> = {};
    const expectedDims: Record<string, number[]> = {};
    for (const name of Object.keys(spec.outputs)) {
      expected[name] = readF32(join(fixtureDir, spec.outputs[name].file));
      got[name] = outputs[name]!.data as Float32Array;
      dims[name] = outputs[name]!.dims;
      expectedDims[name] = spec.outputs[name].shape;
    }
    return { outputs: got, expected, dims, expectedDims };
  } finally {
    await session.close();
  }
}

/** Rewrites a safetensors file with its tensors renamed by `rename` (same bytes), to make a misfit adapter. */
export function renameSafetensors(src: string, dst: string, rename: (key: string) => string): void {
  const file = readFileSync(src);
  const len = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + len).toString('utf8')) as Record<string, unknown>;
  const renamed = Object.fromEntries(Object.entries(header).map(([k, v]) => [k === '__metadata__' ? k : rename(k), v]));
  const json = Buffer.from(JSON.stringify(renamed));
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(dst, Buffer.concat([lenBuf, json, file.subarray(8 + len)]));
}
