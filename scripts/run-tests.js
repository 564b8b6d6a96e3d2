// Runs every compiled test file with node's test runner, one file at a time: the integration tests
// start brokers and agents on this machine's two cores. test/system boots a real systemd in a container
// (root, debootstrap and systemd-container needed; `node scripts/run-tests.js dist/test/system` runs it alone).
// --coverage: node's own (V8) coverage of every process the tests start, agent children included
// (NODE_V8_COVERAGE), summed up at the end over the agent's compiled code. Not the runner's
// --experimental-test-coverage report: on Node 20 it throws on this project's source maps
// ("Cannot read properties of undefined (reading 'line')") and reports nothing.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
const V8_DIR = 'coverage/v8';
const env = { ...process.env };
if (coverage) {
  rmSync(V8_DIR, { recursive: true, force: true });
  mkdirSync(V8_DIR, { recursive: true });
  env.NODE_V8_COVERAGE = join(process.cwd(), V8_DIR);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
if (coverage) summarise(V8_DIR, join(process.cwd(), 'dist/agent'));
process.exit(r.status ?? 1);

/** The code lines of a compiled file: not blank, not only a comment or a brace. */
function codeLines(text) {
  const lines = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t && !/^(\/\/|\/\*|\*|[{}()[\];,]+$)/.test(t)) lines.push(offset + line.indexOf(t));
    offset += line.length + 1;
  }
  return lines;
}

/**
 * Line coverage of the .js files under `dir`: a code line counts as run when the innermost V8 range
 * holding its first character ran at least once in any process. Files no process loaded count as missed.
 */
function summarise(v8Dir, dir) {
  const prefix = `file://${dir}/`;
  const ran = new Map(); // file → Set of covered line starts
  for (const name of readdirSync(v8Dir)) {
    const { result } = JSON.parse(readFileSync(join(v8Dir, name), 'utf8'));
    for (const script of result) {
      if (!script.url.startsWith(prefix) || !script.url.endsWith('.js')) continue;
      const file = script.url.slice('file://'.length);
      const starts = codeLines(readFileSync(file, 'utf8'));
      // Ranges come outermost first within each function; the last range holding an offset is the innermost.
      const ranges = script.functions.flatMap((f) => f.ranges);
      const covered = ran.get(file) ?? new Set();
      for (const at of starts) {
        let count = 0;
        for (const rg of ranges) if (rg.startOffset <= at && at < rg.endOffset) count = rg.count;
        if (count > 0) covered.add(at);
      }
      ran.set(file, covered);
    }
  }
  let total = 0;
  let hit = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        files++;
        total += codeLines(readFileSync(p, 'utf8')).length;
        hit += ran.get(p)?.size ?? 0;
      }
    }
  };
  walk(dir);
  console.log(
    `coverage: ${((100 * hit) / total).toFixed(1)} % of the code lines in ${relative(process.cwd(), dir)} (${hit}/${total}; ${ran.size} of ${files} files loaded)`,
  );
}
