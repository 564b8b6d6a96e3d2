// models eval (issue 24, item 3): synthetic FairFace- and RAF-DB-format folders whose truth is known, run
// through the real readers and metric code with known predictions, give exactly the figures computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset } from '../../agent/cli/eval/datasets.js';
import { evaluate } from '../../agent/cli/eval/evaluate.js';
import type { TaskFigures } from '../../agent/cli/eval/metrics.js';
import { confusionSvg, markdownReport, textReport } from '../../agent/cli/eval/report.js';
import type { Answers } from '../../agent/cli/eval/run-model.js';
import { tempDir } from '../helpers/temp.js';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);

function folder(files: Record<string, string>): string {
  const dir = tempDir('percept-eval-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

// Ten FairFace rows: gender 6 male then 4 female; race White/Black; age 20-29 except one "more than 70".
const FAIR = [
  ['val/1.jpg', '20-29', 'Male', 'White', 0, 3],
  ['val/2.jpg', '20-29', 'Male', 'White', 0, 3],
  ['val/3.jpg', '20-29', 'Male', 'White', 0, 3],
  ['val/4.jpg', '20-29', 'Male', 'Black', 0, 3],
  ['val/5.jpg', '20-29', 'Male', 'Black', 1, 3],
  ['val/6.jpg', '20-29', 'Male', 'Black', 1, 4],
  ['val/7.jpg', '20-29', 'Female', 'White', 1, 4],
  ['val/8.jpg', '20-29', 'Female', 'White', 1, 5],
  ['val/9.jpg', '20-29', 'Female', 'Black', 1, 2],
  ['val/10.jpg', 'more than 70', 'Female', 'Black', 0, 7],
] as const;

test('FairFace format: accuracy, balanced accuracy, recall, confusion, within-one and race × gender exactly', async () => {
  const dir = folder({
    'fairface_label_val.csv': 'file,age,gender,race,service_test\n' + FAIR.map((r) => `${r[0]},${r[1]},${r[2]},${r[3]},True`).join('\n') + '\n',
    ...Object.fromEntries(FAIR.map((r) => [r[0], 'jpg'])),
  });
  try {
    const predicted = new Map<string, Answers>(FAIR.map((r) => [join(dir, r[0]), { gender: r[4], age: r[5] }]));
    const result = await evaluate(readDataset(dir), async (item) => ({ a: predicted.get(item.path)! }), { tasks: ['age', 'gender'], resamples: 200 });
    assert.equal(result.images, 10);
    const gender = result.tasks.find((t) => t.task === 'gender')!;
    close(gender.accuracy.value, 7 / 10, 'gender accuracy');
    close(gender.recall.male!.value, 4 / 6, 'male recall');
    close(gender.recall.female!.value, 3 / 4, 'female recall');
    close(gender.balancedAccuracy.value, (4 / 6 + 3 / 4) / 2, 'gender balanced accuracy');
    assert.deepEqual(gender.confusion, [
      [4, 2],
      [1, 3],
    ]);
    assert.deepEqual(Object.fromEntries(Object.entries(gender.groups).map(([g, v]) => [g, [v.n, v.accuracy.value]])), {
      'White Male': [3, 1],
      'Black Male': [3, 1 / 3],
      'White Female': [2, 1],
      'Black Female': [2, 1 / 2],
    });
    const age = result.tasks.find((t) => t.task === 'age')!;
    close(age.accuracy.value, 5 / 10, 'age accuracy');
    close(age.withinOne!.value, 9 / 10, 'age within one group ("more than 70" is 70+, 60-69 is one off)');
    assert.deepEqual(Object.keys(age.recall), ['20-29', '70+']);
    close(age.balancedAccuracy.value, (5 / 9 + 0) / 2, 'age balanced accuracy over the groups present');
    assert.equal(age.confusion[8]![7], 1);
    for (const t of result.tasks) assertIntervals(t);
    // Same seed, same intervals; the report renders every figure.
    const again = await evaluate(readDataset(dir), async (item) => ({ a: predicted.get(item.path)! }), { tasks: ['age', 'gender'], resamples: 200 });
    assert.deepEqual(again, result);
    const header = { model: 'm', data: dir, format: 'fairface', crop: 'crops' };
    assert.match(textReport(result, header), /accuracy\s+70\.0% \[/);
    assert.match(markdownReport(result, header), /\| Black Male \| 3 \| 33\.3% \[/);
    assert.match(confusionSvg(gender), /^<svg[\s\S]*>4<\/text>[\s\S]*<\/svg>\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function assertIntervals(t: TaskFigures): void {
  for (const [what, i] of [['accuracy', t.accuracy], ['balanced', t.balancedAccuracy], ...Object.entries(t.recall)] as const) {
    assert.ok(i.lo <= i.value && i.value <= i.hi, `${t.task} ${what}: ${i.lo} ≤ ${i.value} ≤ ${i.hi}`);
    assert.ok(i.lo >= 0 && i.hi <= 1);
  }
}

test('RAF-DB format: labels 1–7 are mapped by name, the test split is the default, aligned crops are found', async () => {
  const lines = ['test_0001.jpg 1', 'test_0002.jpg 4', 'test_0003.jpg 4', 'test_0004.jpg 5', 'test_0005.jpg 6', 'test_0006.jpg 7', 'train_00001.jpg 2'];
  const files: Record<string, string> = { 'EmoLabel/list_patition_label.txt': lines.join('\n') + '\n' };
  for (const l of lines) files[`Image/aligned/${l.split('.')[0]}_aligned.jpg`] = 'jpg';
  const dir = folder(files);
  try {
    const items = [];
    for await (const item of readDataset(dir)) items.push(item);
    // surprise, happy, happy, sad, angry, neutral in the contract's order (surprise 0 … neutral 6).
    assert.deepEqual(
      items.map((i) => i.truth.emotion),
      [0, 3, 3, 4, 5, 6],
    );
    assert.ok(items[0]!.path.endsWith(join('Image', 'aligned', 'test_0001_aligned.jpg')));
    const predicted = [0, 3, 6, 4, 4, 6];
    let k = 0;
    const result = await evaluate(readDataset(dir), async () => ({ a: { emotion: predicted[k++]! }, b: { emotion: [0, 3, 3, 4, 5, 6][k - 1]! } }), {
      tasks: ['emotion'],
      compared: true,
      resamples: 300,
    });
    const e = result.tasks[0]!;
    close(e.accuracy.value, 4 / 6, 'emotion accuracy');
    close(e.balancedAccuracy.value, (1 + 0.5 + 1 + 0 + 1) / 5, 'emotion balanced accuracy');
    assert.deepEqual(Object.keys(e.recall), ['surprise', 'happy', 'sad', 'angry', 'neutral']);
    assert.equal(e.recall.angry!.value, 0);
    assert.equal(e.confusion[5]![4], 1, 'angry taken for sad');
    // B is right everywhere: the paired difference is +2/6, and never negative in any resample.
    close(e.compare!.accuracy.value, 2 / 6, 'paired accuracy difference');
    assert.ok(e.compare!.accuracy.lo >= 0 && e.compare!.accuracy.hi <= 1);
    close(e.compare!.b.accuracy.value, 1, 'B accuracy');
    const all = [];
    for await (const item of readDataset(dir, { split: 'all' })) all.push(item);
    assert.equal(all.length, 7);
    assert.equal(all[6]!.truth.emotion, 1, 'RAF-DB 2 is Fear');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UTKFace names and the plain CSV: ages in years fall into contract groups; "70+" and emotion names read', async () => {
  const dir = folder({ '1_0_0_20161219140623097.jpg.chip.jpg': 'x', '72_1_2_20170104.jpg': 'x', '39_1_20170116174525125.jpg.chip.jpg': 'x' });
  const csv = folder({ 'labels.csv': 'file,age,emotion\na.jpg,70+,Happiness\nb.jpg,34,\n', 'a.jpg': 'x', 'b.jpg': 'x' });
  try {
    const utk = [];
    for await (const item of readDataset(dir)) utk.push(item);
    const byName = Object.fromEntries(utk.map((i) => [i.where, i]));
    assert.deepEqual(byName['1_0_0_20161219140623097.jpg.chip.jpg']!.truth, { age: 0, gender: 0 });
    assert.equal(byName['1_0_0_20161219140623097.jpg.chip.jpg']!.group, 'White male');
    assert.deepEqual(byName['72_1_2_20170104.jpg']!.truth, { age: 8, gender: 1 });
    assert.equal(byName['39_1_20170116174525125.jpg.chip.jpg']!.group, undefined, 'a name without its race has no group');
    const rows = [];
    for await (const item of readDataset(csv)) rows.push(item.truth);
    assert.deepEqual(rows, [{ age: 8, emotion: 3 }, { age: 4 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(csv, { recursive: true, force: true });
  }
});
