// The committed smoke set (issue 24, item 4) loads through models eval's own CSV reader, matches the
// builder's entry table, and every face names its source, licence, original URL and why its gender is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset, splitCsv } from '../../agent/cli/eval/datasets.js';
import { ENTRIES, SOURCES } from '../../scripts/smoke-set-entries.js';
import { fileName, SMOKE_COLUMNS } from '../../scripts/smoke-set.js';
import { PACKAGE_ROOT } from '../../agent/lib/package-root.js';

const DIR = join(PACKAGE_ROOT, 'test/fixtures/smoke-set');
const LICENCES = new Set(Object.values(SOURCES).map((s) => s.licence));

test('the smoke set loads as a models eval CSV folder, one item per entry, every image present', async () => {
  const items = [];
  for await (const item of readDataset(DIR)) items.push(item);
  assert.equal(items.length, ENTRIES.length);
  assert.ok(items.length >= 30, 'a few tens of faces at least');
  assert.ok(
    items.every((i) => i.truth.gender !== undefined),
    'every face has a gender',
  );
  assert.ok(items.filter((i) => i.truth.emotion !== undefined).length >= 30, 'emotion on a few tens of faces');
  assert.ok(
    items.some((i) => i.truth.age !== undefined),
    'age where known',
  );
  // Committed photos stay small.
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.jpg'))) assert.ok(statSync(join(DIR, f)).size < 40_000, f);
});

test('every row names its source, licence, original URL and why the gender is known', () => {
  const [header, ...rows] = readFileSync(join(DIR, 'labels.csv'), 'utf8').trim().split('\n');
  assert.deepEqual(splitCsv(header!), [...SMOKE_COLUMNS]);
  const col = (cells: string[], name: (typeof SMOKE_COLUMNS)[number]) => cells[SMOKE_COLUMNS.indexOf(name)]!;
  assert.deepEqual(
    rows.map((r) => col(splitCsv(r), 'file')),
    ENTRIES.map(fileName),
  );
  for (const row of rows) {
    const cells = splitCsv(row);
    const file = col(cells, 'file');
    assert.ok(LICENCES.has(col(cells, 'licence')), `${file}: licence "${col(cells, 'licence')}"`);
    assert.match(col(cells, 'source'), /^[\w.-]+\/[\w.-]+@[0-9a-f]{12}:.+\.jpg$/, `${file}: source`);
    assert.match(col(cells, 'url'), /^https:\/\//, `${file}: url`);
    assert.match(col(cells, 'gender_from'), /^(title|identity|annotator)$/, `${file}: gender_from`);
    if (col(cells, 'age')) assert.ok(col(cells, 'age_why'), `${file}: an age says why it is known`);
  }
  const provenance = readFileSync(join(DIR, 'PROVENANCE.md'), 'utf8');
  for (const s of Object.values(SOURCES)) assert.ok(provenance.includes(s.commit), `PROVENANCE.md names ${s.repo}@${s.commit}`);
});
