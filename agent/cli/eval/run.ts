// The `percept models eval` run: a validating count pass over the labels, then one pass through the model(s).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../capture/opencv.js';
import type { Frame } from '../../capture/frame.js';
import { loadConfig } from '../../config/load.js';
import { DEFAULT_MODELS } from '../../inference/default-models.js';
import { ModelError } from '../../inference/manifest.js';
import { EXIT_MODEL, EXIT_USAGE, exitCodeFor } from '../../lib/exit-codes.js';
import { modelDirOf } from '../model-names.js';
import { detectFormat, EvalDataError, readDataset, type DatasetFormat, type EvalItem } from './datasets.js';
import { evaluate } from './evaluate.js';
import { confusionSvg, markdownReport, textReport, type ReportHeader } from './report.js';
import { EvalModel, LargestFace, type Answers } from './run-model.js';
import { existsSync } from 'node:fs';

export interface EvalArgs {
  model?: string;
  data: string;
  format?: DatasetFormat;
  labels?: string;
  split?: string;
  detect: boolean;
  compare?: string;
  json?: string;
  report?: string;
  limit?: number;
  resamples: number;
  seed: number;
  config?: string;
}

/** A directory, or a model name from "models list"; no name: the agent's default attribute models. */
function modelDirs(target: string | undefined): string[] {
  if (!target) return [DEFAULT_MODELS.ageGender, DEFAULT_MODELS.expression];
  const dir = modelDirOf(target);
  if (!dir) throw new ModelError(target, ['no such directory, and no model of that name under models/ ("percept models list" shows them)']);
  return [dir];
}

async function* limited(items: AsyncIterable<EvalItem>, limit: number | undefined): AsyncGenerator<EvalItem> {
  let n = 0;
  for await (const item of items) {
    if (limit !== undefined && n++ >= limit) return;
    yield item;
  }
}

/** A bar on stderr on a terminal (redrawn in place, with images/s); nothing on a pipe, which gets the table. */
function evalProgress(stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let last = 0;
  return (done: number, total: number) => {
    if (!stream.isTTY) return;
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    const frac = total ? done / total : 1;
    const full = Math.round(frac * 30);
    const rate = done / Math.max(0.001, (now - started) / 1000);
    stream.write(`\r[eval] [${'#'.repeat(full)}${'.'.repeat(30 - full)}] ${done}/${total} ${rate.toFixed(1)} images/s `);
    if (done === total) stream.write('\n');
  };
}

export async function runEval(a: EvalArgs): Promise<number> {
  if (!existsSync(a.data)) {
    process.stderr.write(`percept models eval: --data ${a.data} does not exist\n`);
    return EXIT_USAGE;
  }
  if (!(a.resamples >= 0) || (a.limit !== undefined && !(a.limit > 0))) {
    process.stderr.write('percept models eval: --resamples must be 0 or more and --limit more than 0\n');
    return EXIT_USAGE;
  }
  const opts = { ...(a.format ? { format: a.format } : {}), ...(a.labels ? { labels: a.labels } : {}), ...(a.split ? { split: a.split } : {}) };
  const closers: Array<() => Promise<void>> = [];
  try {
    const { format } = detectFormat(a.data, opts);
    // The count pass reads and checks every label before a model is opened: a bad line fails in seconds.
    let total = 0;
    for await (const item of limited(readDataset(a.data, opts), a.limit)) if (item) total++;
    const { config } = loadConfig({ ...(a.config ? { file: a.config } : {}), readOverrides: false });
    const cv = await loadOpenCV();
    const modelA = await EvalModel.open(cv, modelDirs(a.model), config);
    closers.push(() => modelA.close());
    const modelB = a.compare ? await EvalModel.open(cv, modelDirs(a.compare), config) : undefined;
    if (modelB) closers.push(() => modelB.close());
    const detector = a.detect ? await LargestFace.open(cv, config) : undefined;
    if (detector) closers.push(() => detector.close());
    const bar = evalProgress();
    let index = 0;
    const answer = async (item: EvalItem): Promise<{ a: Answers; b?: Answers }> => {
      let mat;
      try {
        mat = cv.imread(item.path);
      } catch {
        mat = undefined;
      }
      if (!mat || mat.empty) throw new EvalDataError(item.path, undefined, `cannot decode the image (label at ${item.where})`);
      const frame: Frame = { mat, width: mat.cols, height: mat.rows, index: index++, ts: Date.now() };
      let face;
      if (detector) {
        face = await detector.find(frame);
        if (!face) return { a: {}, ...(modelB ? { b: {} } : {}) };
      }
      const ra = await modelA.answer(frame, face);
      const rb = modelB ? await modelB.answer(frame, face) : undefined;
      return { a: ra, ...(rb ? { b: rb } : {}) };
    };
    const tasks = modelB ? modelA.tasks.filter((t) => modelB.tasks.includes(t)) : modelA.tasks;
    const result = await evaluate(limited(readDataset(a.data, opts), a.limit), answer, {
      tasks,
      compared: !!modelB,
      resamples: a.resamples,
      seed: a.seed,
      onItem: (done) => bar(done, total),
    });
    const header: ReportHeader = {
      model: modelA.name,
      ...(modelB ? { compare: modelB.name } : {}),
      data: a.data,
      format,
      crop: a.detect ? 'largest detected face' : 'images as face crops (margin = the crop border)',
    };
    const json = JSON.stringify(
      { ...header, ...result, resamples: a.resamples, seed: a.seed },
      (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v),
      2,
    );
    if (a.json === '' || a.json === '-') process.stdout.write(json + '\n');
    else {
      process.stdout.write(textReport(result, header));
      if (a.json) writeFileSync(a.json, json + '\n');
    }
    if (a.report) {
      mkdirSync(a.report, { recursive: true });
      writeFileSync(join(a.report, 'report.md'), markdownReport(result, header));
      for (const t of result.tasks) writeFileSync(join(a.report, `confusion-${t.task}.svg`), confusionSvg(t));
    }
    if (!result.images) {
      process.stderr.write(`percept models eval: no image in ${a.data} is labelled for ${tasks.join(', ')}\n`);
      return EXIT_MODEL;
    }
    return 0;
  } catch (err) {
    if (err instanceof EvalDataError) {
      process.stderr.write(`percept models eval: ${err.message}\n`);
      return EXIT_MODEL;
    }
    if (err instanceof ModelError) {
      process.stderr.write(`percept models eval: ${err.message}\n`);
      return EXIT_MODEL;
    }
    const code = exitCodeFor(err);
    if (code === 1) throw err;
    process.stderr.write(`percept models eval: ${(err as Error).message}\n`);
    return code;
  } finally {
    for (const close of closers.reverse()) await close();
  }
}
