// Runs every compiled test file with node's test runner, one file at a time: the integration tests
// start brokers and agents on this machine's two cores. test/system boots a real systemd in a container
// (root, debootstrap and systemd-container needed; `node scripts/run-tests.js dist/test/system` runs it alone).
// --coverage: node's own coverage (V8); the lcov goes to coverage/lcov.info and the figure printed at the
// end counts the agent's code only (dist/agent), not the tests that ran it.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const coverage = args.includes('--coverage');
const paths = args.filter((a) => a !== '--coverage');
const roots = paths.length ? paths : ['dist/test/unit', 'dist/test/integration', 'dist/test/system'];
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.test.js')) files.push(p);
  }
};
for (const r of roots) {
  if (statSync(r, { throwIfNoEntry: false })?.isDirectory()) walk(r);
  else files.push(r);
}
if (!files.length) {
  console.error('no test files found (is the project built? npm run setup)');
  process.exit(1);
}
const LCOV = 'coverage/lcov.info';
const reporters = coverage
  ? [
      '--experimental-test-coverage',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=lcov',
      `--test-reporter-destination=${LCOV}`,
    ]
  : [];
if (coverage) mkdirSync('coverage', { recursive: true });
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...reporters, ...files], { stdio: 'inherit' });
if (coverage) summarise(LCOV, 'agent');
process.exit(r.status ?? 1);

/**
 * Lines, branches and functions hit in the sources under `dir` (lcov paths are the .ts sources: node
 * follows the source maps). A file no test loaded is not in the lcov at all; its lines count as missed,
 * so the line figure is over the whole folder, not just what the tests happened to import.
 */
function summarise(lcov, dir) {
  const total = { LF: 0, LH: 0, BRF: 0, BRH: 0, FNF: 0, FNH: 0 };
  const seen = new Set();
  let counted = false;
  for (const line of readFileSync(lcov, 'utf8').split('\n')) {
    if (line.startsWith('SF:')) {
      const file = relative(process.cwd(), line.slice(3));
      counted = file.startsWith(`${dir}/`);
      if (counted) seen.add(file);
      continue;
    }
    const [key, value] = line.split(':');
    if (counted && key in total) total[key] += Number(value);
  }
  const unloaded = [];
  const sources = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  for (const f of sources(dir)) {
    if (seen.has(f)) continue;
    unloaded.push(f);
    total.LF += readFileSync(f, 'utf8').replace(/\n$/, '').split('\n').length;
  }
  const pct = (hit, found) => (found ? ((100 * hit) / found).toFixed(1) : '-');
  console.log(
    `coverage of ${dir}/: lines ${pct(total.LH, total.LF)} % (${total.LH}/${total.LF}, the ${unloaded.length} files no test loaded count as missed); ` +
      `in the ${seen.size} loaded files: branches ${pct(total.BRH, total.BRF)} %, functions ${pct(total.FNH, total.FNF)} % (lcov: ${LCOV})`,
  );
}
