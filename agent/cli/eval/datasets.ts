// Readers for the labelled face folders researchers already have. Each yields one item at a time: label
// files are read line by line and UTKFace's folder is walked with opendir, so 100k images never sit in
// memory as a list. A label the reader cannot read is refused naming the file, the line and the fix.
import { createReadStream, existsSync } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Task } from '../../contract/labels.js';
import { ageGroupOfYears, ageIndex, emotionIndex, genderIndex, RAFDB_EMOTIONS, UTK_RACES } from './labels.js';

export type DatasetFormat = 'fairface' | 'rafdb' | 'utkface' | 'csv';
export const FORMATS: readonly DatasetFormat[] = ['fairface', 'rafdb', 'utkface', 'csv'];

export interface EvalItem {
  /** The image file. */
  path: string;
  /** Where its label came from ("file:line" or the file name), for messages. */
  where: string;
  /** Contract label indices (CONTRACT_LABELS order) for the tasks this item is labelled with. */
  truth: Partial<Record<Task, number>>;
  /** FairFace: "race gender", the fairness table's rows. */
  group?: string;
}

/** Exit 65 (EX_DATAERR) names the file, the line when there is one, and what is wrong. */
export class EvalDataError extends Error {
  constructor(file: string, line: number | undefined, what: string) {
    super(`${file}${line ? `:${line}` : ''}: ${what}`);
  }
}

export interface DatasetOptions {
  format?: DatasetFormat;
  /** The label file, when not where the format puts it. */
  labels?: string;
  /** FairFace: val (default) or train; RAF-DB: test (default), train or all. */
  split?: string;
}

const FAIRFACE_FILES = (split: string) => [`${split}.csv`, `fairface_label_${split}.csv`];
const RAFDB_FILES = ['list_patition_label.txt', 'EmoLabel/list_patition_label.txt', 'basic/EmoLabel/list_patition_label.txt'];

/** Which format a folder holds, and its label file: the first known label file found decides. */
export function detectFormat(dir: string, opts: DatasetOptions = {}): { format: DatasetFormat; labelFile?: string } {
  const find = (names: string[]) => names.map((n) => join(dir, n)).find((p) => existsSync(p));
  const fair = find(FAIRFACE_FILES(opts.split ?? 'val'));
  const raf = find(RAFDB_FILES);
  const csv = find(['labels.csv']);
  const format = opts.format ?? (raf ? 'rafdb' : fair ? 'fairface' : csv ? 'csv' : 'utkface');
  if (format === 'utkface') return { format };
  const labelFile = opts.labels ?? (format === 'rafdb' ? raf : format === 'fairface' ? fair : csv);
  if (!labelFile || !existsSync(labelFile)) {
    const wanted = format === 'rafdb' ? RAFDB_FILES.join(' or ') : format === 'fairface' ? FAIRFACE_FILES(opts.split ?? 'val').join(' or ') : 'labels.csv';
    throw new EvalDataError(labelFile ?? dir, undefined, `no ${format} label file (looked for ${wanted}); point at it with --labels FILE`);
  }
  return { format, labelFile };
}

export async function* readDataset(dir: string, opts: DatasetOptions = {}): AsyncGenerator<EvalItem> {
  const { format, labelFile } = detectFormat(dir, opts);
  if (format === 'utkface') yield* readUtkFace(dir);
  else if (format === 'rafdb') yield* readRafDb(dir, labelFile!, opts.split ?? 'test');
  else yield* readCsv(dir, labelFile!, format === 'fairface');
}

async function* lines(file: string): AsyncGenerator<{ text: string; line: number }> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim()) yield { text: line === 1 ? text.replace(/^\uFEFF/, '') : text, line };
  }
}

/** One CSV line: commas, with double-quoted fields that may hold commas and "" for a quote. */
export function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function imageAt(dir: string, name: string, file: string, line: number, candidates: string[] = [name]): string {
  const found = candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
  if (!found) throw new EvalDataError(file, line, `image "${name}" not found (looked for ${candidates.map((c) => join(dir, c)).join(', ')})`);
  return found;
}

/** FairFace (file,age,gender,race[,service_test]) and the plain CSV (file plus any of age,gender,emotion[,group]). */
async function* readCsv(dir: string, file: string, fairface: boolean): AsyncGenerator<EvalItem> {
  let header: string[] | undefined;
  for await (const { text, line } of lines(file)) {
    const cells = splitCsv(text);
    if (!header) {
      header = cells.map((c) => c.toLowerCase());
      const need = fairface ? ['file', 'age', 'gender'] : ['file'];
      const missing = need.filter((c) => !header!.includes(c));
      if (missing.length) throw new EvalDataError(file, line, `the header has no ${missing.join(', ')} column (found: ${cells.join(',')})`);
      if (!fairface && !['age', 'gender', 'emotion'].some((c) => header!.includes(c)))
        throw new EvalDataError(file, line, 'the header names none of age, gender, emotion: nothing to evaluate');
      continue;
    }
    if (cells.length !== header.length) throw new EvalDataError(file, line, `${cells.length} fields where the header has ${header.length}`);
    const cell = (name: string) => {
      const i = header!.indexOf(name);
      return cells[i] ?? ''; // indexOf's -1 (no such column) finds nothing too
    };
    const truth: EvalItem['truth'] = {};
    const age = cell('age');
    if (age) {
      const i = ageIndex(age);
      if (i < 0) throw new EvalDataError(file, line, `age "${age}" is neither an age group (0-2, 3-9, …, 60-69, 70+ or "more than 70") nor whole years`);
      truth.age = i;
    }
    const gender = cell('gender');
    if (gender) {
      const i = genderIndex(gender);
      if (i < 0) throw new EvalDataError(file, line, `gender "${gender}" is not Male or Female`);
      truth.gender = i;
    }
    const emotion = cell('emotion');
    if (emotion) {
      const i = emotionIndex(emotion);
      if (i < 0) throw new EvalDataError(file, line, `emotion "${emotion}" is none of surprise, fear, disgust, happy, sad, angry, neutral`);
      truth.emotion = i;
    }
    const name = cell('file');
    if (!name) throw new EvalDataError(file, line, 'the file column is empty');
    const race = cell('race');
    const group = fairface ? (race && gender ? `${race} ${gender}` : undefined) : cell('group') || undefined;
    yield { path: imageAt(dir, name, file, line), where: `${basename(file)}:${line}`, truth, ...(group ? { group } : {}) };
  }
  if (!header) throw new EvalDataError(file, undefined, 'the label file is empty');
}

/** RAF-DB basic: "train_00001.jpg 5", labels 1–7 in RAF-DB's order, mapped to the contract by name. */
async function* readRafDb(dir: string, file: string, split: string): AsyncGenerator<EvalItem> {
  if (!['test', 'train', 'all'].includes(split)) throw new EvalDataError(file, undefined, `--split ${split}: RAF-DB has test, train or all`);
  for await (const { text, line } of lines(file)) {
    const parts = text.trim().split(/\s+/);
    if (parts.length !== 2) throw new EvalDataError(file, line, `expected "IMAGE LABEL" (e.g. "train_00001.jpg 5"), found ${parts.length} fields`);
    const [name, label] = parts as [string, string];
    const emotion = /^\d$/.test(label) ? RAFDB_EMOTIONS[Number(label) - 1] : undefined;
    if (emotion === undefined) throw new EvalDataError(file, line, `label "${label}" is not 1–7 (${RAFDB_EMOTIONS.map((e, i) => `${i + 1} ${e}`).join(', ')})`);
    if (split !== 'all' && !name.startsWith(`${split}_`)) continue;
    const stem = name.replace(/\.[^.]+$/, '');
    // The aligned 100×100 crops are what RAF-DB's own figures use; the originals need --detect.
    const path = imageAt(dir, name, file, line, [
      `Image/aligned/${stem}_aligned.jpg`,
      `aligned/${stem}_aligned.jpg`,
      `${stem}_aligned.jpg`,
      name,
      `Image/original/${name}`,
    ]);
    yield { path, where: `${basename(file)}:${line}`, truth: { emotion: emotionIndex(emotion) } };
  }
}

const UTK_NAME = /^(\d{1,3})_([01])_(?:([0-4])_)?\d/;

/** UTKFace: [age]_[gender]_[race]_[date].jpg, gender 0 male 1 female; a few published names lack the race. */
async function* readUtkFace(dir: string): AsyncGenerator<EvalItem> {
  let any = false;
  for await (const entry of await opendir(dir)) {
    if (!entry.isFile() || !/\.(jpe?g|png)$/i.test(entry.name)) continue;
    const m = UTK_NAME.exec(entry.name);
    if (!m)
      throw new EvalDataError(
        join(dir, entry.name),
        undefined,
        'not a UTKFace name [age]_[gender]_[race]_[date].jpg (gender 0 male, 1 female); for other folders use labels.csv',
      );
    any = true;
    const truth = { age: ageGroupOfYears(Number(m[1])), gender: Number(m[2]) };
    const g = truth.gender ? 'female' : 'male';
    yield { path: join(dir, entry.name), where: entry.name, truth, ...(m[3] !== undefined ? { group: `${UTK_RACES[Number(m[3])]} ${g}` } : {}) };
  }
  if (!any)
    throw new EvalDataError(dir, undefined, 'no label file (list_patition_label.txt, val.csv, fairface_label_val.csv, labels.csv) and no UTKFace-named images');
}
