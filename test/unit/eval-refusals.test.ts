// models eval: a label file it cannot read is refused naming the file, the line and what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvalDataError, readDataset, type DatasetOptions } from '../../agent/cli/eval/datasets.js';
import { tempDir } from '../helpers/temp.js';

async function refusal(files: Record<string, string>, opts: DatasetOptions = {}): Promise<string> {
  const dir = tempDir('percept-eval-bad-');
  for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
  try {
    for await (const item of readDataset(dir, opts)) void item;
  } catch (err) {
    assert.ok(err instanceof EvalDataError, String(err));
    return (err as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.fail('the folder was accepted');
}

const ok = { '1.jpg': 'x', '2.jpg': 'x', '3.jpg': 'x', 'test_0001.jpg': 'x', 'test_0002.jpg': 'x', 'test_0003.jpg': 'x' };

for (const [what, files, pattern] of [
  [
    'a FairFace age that is no group',
    { ...ok, 'val.csv': 'file,age,gender,race\n1.jpg,20-29,Male,White\n2.jpg,3-9,Female,Black\n3.jpg,old,Male,White\n' },
    /val\.csv:4: age "old"/,
  ],
  [
    'a FairFace row with a field missing',
    { ...ok, 'val.csv': 'file,age,gender,race\n1.jpg,20-29,Male,White\n2.jpg,3-9,Female\n' },
    /val\.csv:3: 3 fields where the header has 4/,
  ],
  ['a FairFace gender that is neither', { ...ok, 'val.csv': 'file,age,gender,race\n1.jpg,20-29,X,White\n' }, /val\.csv:2: gender "X" is not Male or Female/],
  ['a FairFace header without age', { ...ok, 'val.csv': 'file,gender,race\n1.jpg,Male,White\n' }, /val\.csv:1: the header has no age column/],
  [
    'a RAF-DB label outside 1–7',
    { ...ok, 'list_patition_label.txt': 'test_0001.jpg 1\ntest_0002.jpg 3\n\ntest_0003.jpg 9\n' },
    /list_patition_label\.txt:4: label "9" is not 1–7/,
  ],
  ['a RAF-DB line with three fields', { 'list_patition_label.txt': 'test_0001.jpg 1 2\n' }, /list_patition_label\.txt:1: expected "IMAGE LABEL"/],
  [
    'a label naming a missing image',
    { 'labels.csv': 'file,gender\n1.jpg,male\nnope.jpg,female\n', '1.jpg': 'x' },
    /labels\.csv:3: image "nope\.jpg" not found/,
  ],
  ['a CSV emotion not in the contract', { ...ok, 'labels.csv': 'file,emotion\n1.jpg,contempt\n' }, /labels\.csv:2: emotion "contempt"/],
  ['a file that is not a UTKFace name', { '20_0_1_2017.jpg': 'x', 'holiday.jpg': 'x' }, /holiday\.jpg: not a UTKFace name/],
] as const) {
  test(`refused: ${what}`, async () => {
    assert.match(await refusal(files as Record<string, string>), pattern);
  });
}

test('refused: a RAF-DB split that does not exist', async () => {
  assert.match(await refusal({ 'list_patition_label.txt': 'test_0001.jpg 1\n' }, { split: 'val' }), /--split val: RAF-DB has test, train or all/);
});
