// Builds the labelled smoke set (issue 24, item 4) from pinned commits of two public repositories:
//   node dist/scripts/smoke-set.js --interfaces GITDIR --bsplus GITDIR [--out test/fixtures/smoke-set]
// GITDIR is a clone (or bare mirror) of cjdowner/interfaces or ijlyttle/bsplus. Each photo is scaled to at
// most 160 px (the set is committed: small files) and written with labels.csv — the plain CSV that
// `percept models eval` reads, plus provenance columns it ignores — and PROVENANCE.md.
// The photos are full head-and-shoulders pictures, not agent crops: evaluate them with --detect.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOpenCV } from '../agent/capture/opencv.js';
import { ENTRIES, SOURCES, type SmokeEntry } from './smoke-set-entries.js';

export const SMOKE_COLUMNS = ['file', 'gender', 'age', 'emotion', 'gender_from', 'age_why', 'source', 'licence', 'url'] as const;
const MAX_SIDE = 160;

function gitShow(gitDir: string, commit: string, path: string): Buffer {
  return execFileSync('git', ['--git-dir', gitDirOf(gitDir), 'show', `${commit}:${path}`], { maxBuffer: 64 << 20 });
}

function gitDirOf(dir: string): string {
  return execFileSync('git', ['-C', dir, 'rev-parse', '--git-dir'], { encoding: 'utf8' })
    .trim()
    .replace(/^(?!\/)/, `${dir}/`);
}

/** Each source's per-file original URL, from the repository's own credits. */
function urls(gitDirs: Record<keyof typeof SOURCES, string>): Map<string, string> {
  const out = new Map<string, string>();
  const credits = gitShow(gitDirs.interfaces, SOURCES.interfaces.commit, 'CREDITS.md').toString('utf8');
  for (const m of credits.matchAll(/\[(\d{3})\.jpg\]\((https?:[^)\s]+)\)/g)) out.set(`interfaces:256 x 256/${m[1]}.jpg`, m[2]!);
  const readme = gitShow(gitDirs.bsplus, SOURCES.bsplus.commit, 'vignettes/img/README.md').toString('utf8');
  for (const m of readme.matchAll(/\[`(\w+)\.jpg`\][^|]*\|\s*\[Wikimedia\]\((https:[^)\s]+)\)/g)) out.set(`bsplus:vignettes/img/${m[1]}.jpg`, m[2]!);
  return out;
}

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function fileName(e: SmokeEntry): string {
  const stem = e.path.replace(/^.*\//, '').replace(/\.jpg$/, '');
  return `${e.source}-${stem}.jpg`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { interfaces: { type: 'string' }, bsplus: { type: 'string' }, out: { type: 'string' } } });
  if (!values.interfaces || !values.bsplus)
    throw new Error('--interfaces GITDIR and --bsplus GITDIR are required (clones of cjdowner/interfaces and ijlyttle/bsplus)');
  const gitDirs = { interfaces: values.interfaces, bsplus: values.bsplus };
  const out = values.out ?? 'test/fixtures/smoke-set';
  const cv = await loadOpenCV();
  const links = urls(gitDirs);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const rows = [SMOKE_COLUMNS.join(',')];
  for (const e of ENTRIES) {
    const src = SOURCES[e.source];
    const url = links.get(`${e.source}:${e.path}`);
    if (!url) throw new Error(`${src.repo}@${src.commit}: no credit link for ${e.path}`);
    const img = cv.imdecode(gitShow(gitDirs[e.source], src.commit, e.path));
    const scale = Math.min(1, MAX_SIDE / Math.max(img.cols, img.rows));
    const small = scale < 1 ? img.resize(Math.round(img.rows * scale), Math.round(img.cols * scale), 0, 0, cv.INTER_AREA) : img;
    const name = fileName(e);
    writeFileSync(join(out, name), cv.imencode('.jpg', small, [cv.IMWRITE_JPEG_QUALITY, 88]));
    const repoPath = `${src.repo}@${src.commit.slice(0, 12)}:${e.path}`;
    const cells = [name, e.gender, e.age ?? '', e.emotion ?? '', e.genderFrom, e.ageWhy ?? '', repoPath, src.licence, url];
    rows.push(cells.map(csvCell).join(','));
  }
  writeFileSync(join(out, 'labels.csv'), rows.join('\n') + '\n');
  writeFileSync(join(out, 'PROVENANCE.md'), provenance());
  console.log(`${ENTRIES.length} faces → ${out}`);
}

function provenance(): string {
  const lines = [
    '# Smoke set: provenance and licences',
    '',
    'Built by `scripts/smoke-set.ts` (see its header) from pinned commits; each photo scaled to at most',
    `${MAX_SIDE} px, nothing else changed. labels.csv names, per face, the repository path, the licence and the`,
    "original photo's URL. A smoke set: a hundred faces give intervals tens of points wide for the rarer",
    'classes; it checks that a model and its preprocessing are sane, it cannot rank two good models.',
    '',
    '| source | licence | where the repository says so |',
    '|---|---|---|',
    ...Object.values(SOURCES).map((s) => `| ${s.repo} @ ${s.commit} | ${s.licence} | ${s.licenceWhere} |`),
    '',
    "Labels: `gender_from` says why the gender is known — `title` (the source photo's title names a man or a",
    'woman), `identity` (the person is named) or `annotator` (labelled by appearance when the set was made).',
    'Emotion is given only where the annotator found it clear (broad smile: happy; closed relaxed face:',
    'neutral). Age only where birth and photo dates are both known (`age_why`).',
    '',
    'inter-faces asks that identifiable people not be shown in a bad light: use these photos to test',
    'software, never to say anything about the people in them.',
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
