// The evaluation loop, independent of any model: items stream in, `answer` gives each item's predicted
// contract indices (from a model, or from a test's known predictions), accumulators keep the pairs.
import { CONTRACT_LABELS, type Task } from '../../contract/labels.js';
import type { EvalItem } from './datasets.js';
import { TaskAccumulator, type TaskFigures } from './metrics.js';
import type { Answers } from './run-model.js';

export interface EvalResult {
  images: number;
  tasks: TaskFigures[];
}

export interface EvalLoopOptions {
  /** Tasks model A answers; others in the data are skipped. */
  tasks: readonly Task[];
  compared?: boolean;
  resamples?: number;
  seed?: number;
  onItem?: (done: number) => void;
}

export async function evaluate(
  items: AsyncIterable<EvalItem>,
  answer: (item: EvalItem) => Promise<{ a: Answers; b?: Answers }>,
  opts: EvalLoopOptions,
): Promise<EvalResult> {
  const acc = new Map<Task, TaskAccumulator>();
  for (const t of opts.tasks) acc.set(t, new TaskAccumulator(t, CONTRACT_LABELS[t], t === 'age'));
  let images = 0;
  for await (const item of items) {
    const wanted = opts.tasks.filter((t) => item.truth[t] !== undefined);
    if (!wanted.length) continue;
    const { a, b } = await answer(item);
    for (const t of wanted) acc.get(t)!.add(item.truth[t]!, a[t] ?? -1, item.group, b?.[t] ?? -1);
    images++;
    opts.onItem?.(images);
  }
  const tasks = [...acc.values()]
    .filter((x) => x.size > 0)
    .map((x) => x.figures({ ...(opts.resamples !== undefined ? { resamples: opts.resamples } : {}), seed: opts.seed ?? 1, compared: !!opts.compared }));
  return { images, tasks };
}
