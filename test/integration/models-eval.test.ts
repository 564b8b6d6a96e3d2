// percept models eval end to end: face crops cut from the repo's test photos (Grace Hopper, Messi; their
// genders are known), a plain-CSV label file, the default face-api models through the agent's classifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { faceCrop } from '../../agent/inference/preprocess.js';
import { clampRegion } from '../../agent/lib/geometry.js';
import { runPercept } from '../helpers/agent-process.js';
import { requireImage } from '../helpers/images.js';
import { GRACE, LEO } from '../helpers/scene-clips.js';
import { tempDir } from '../helpers/temp.js';

test('models eval on a tiny folder of real face crops: runs end to end, prints the figures, writes JSON and a report', async () => {
  const cv = await loadOpenCV();
  const dir = tempDir('percept-eval-crops-');
  try {
    const rows = ['file,gender'];
    for (const p of [GRACE, LEO]) {
      const img = cv.imread(requireImage(p.image));
      // Cut as a dataset would ship it: the face with a border of the agent's default margin.
      const r = clampRegion(faceCrop(p.face, 0.2), img.cols, img.rows)!;
      cv.imwrite(join(dir, `${p.name}.jpg`), img.getRegion(new cv.Rect(r.x, r.y, r.w, r.h)));
      rows.push(`${p.name}.jpg,${p.gender}`);
    }
    writeFileSync(join(dir, 'labels.csv'), rows.join('\n') + '\n');
    const report = join(dir, 'report');
    const run = await runPercept(['models', 'eval', '--data', dir, '--resamples', '200', '--json', join(dir, 'figures.json'), '--report', report]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /on .* \(csv, 2 images, images as face crops/);
    assert.match(run.stdout, /gender: 2 labelled\n\s+accuracy\s+\d+\.\d% \[\d+\.\d%, \d+\.\d%\]/);
    assert.match(run.stdout, /confusion \(rows truth, columns prediction\)/);
    const figures = JSON.parse(readFileSync(join(dir, 'figures.json'), 'utf8'));
    const gender = figures.tasks.find((t: { task: string }) => t.task === 'gender');
    assert.equal(gender.n, 2);
    assert.equal(
      gender.confusion.flat().reduce((s: number, c: number) => s + c, 0),
      2,
      'every crop got an answer',
    );
    // Grace Hopper's portrait is the clear one: it is read as female.
    assert.equal(gender.confusion[1][1], 1, `Grace Hopper read as ${JSON.stringify(gender.confusion[1])}`);
    assert.ok(existsSync(join(report, 'report.md')) && existsSync(join(report, 'confusion-gender.svg')));

    // A bad label line is refused with exit 65 before any model runs.
    writeFileSync(join(dir, 'labels.csv'), 'file,gender\ngrace.jpg,female\nmessi.jpg,dunno\n');
    const bad = await runPercept(['models', 'eval', '--data', dir]);
    assert.equal(bad.code, 65);
    assert.match(bad.stderr, /labels\.csv:3: gender "dunno" is not Male or Female/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
