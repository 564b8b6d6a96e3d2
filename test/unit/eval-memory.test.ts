// models eval keeps (truth, prediction, group) per image as small ints: 100k streamed items through the
// accumulators and the bootstrap grow the heap by a few MB, not by the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { evaluate } from '../../agent/cli/eval/evaluate.js';
import type { EvalItem } from '../../agent/cli/eval/datasets.js';
import { seededRandom } from '../../agent/cli/eval/metrics.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('100k labelled items: heap growth stays under 50 MB and the figures match the stream', async () => {
  const N = 100_000;
  const random = seededRandom(7);
  let right = 0;
  async function* stream(): AsyncGenerator<EvalItem> {
    for (let i = 0; i < N; i++) {
      // A fresh path string per item, as a real reader makes: kept, they would cost tens of MB.
      yield {
        path: `/data/fairface/train/${i}-${'x'.repeat(200)}.jpg`,
        where: `train.csv:${i + 2}`,
        truth: { gender: i % 2, age: i % 9 },
        group: `race${i % 7} ${i % 2 ? 'Female' : 'Male'}`,
      };
    }
  }
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const result = await evaluate(
    stream(),
    async (item) => {
      const ok = random() < 0.8;
      if (ok) right++;
      return { a: { gender: ok ? item.truth.gender! : 1 - item.truth.gender!, age: item.truth.age! }, b: { gender: item.truth.gender!, age: 0 } };
    },
    {
      tasks: ['age', 'gender'],
      compared: true,
      resamples: 50,
      onItem: (done) => {
        if (done % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      },
    },
  );
  gc();
  const growthMB = (Math.max(peak, process.memoryUsage().heapUsed) - before) / 1048576;
  assert.equal(result.images, N);
  const gender = result.tasks.find((t) => t.task === 'gender')!;
  assert.equal(gender.accuracy.value, right / N);
  assert.equal(Object.keys(gender.groups).length, 14);
  assert.ok(gender.accuracy.hi - gender.accuracy.lo < 0.01, 'intervals at 100k are narrow');
  assert.ok(growthMB < 50, `heap grew ${growthMB.toFixed(1)} MB over 100k items`);
  process.stdout.write(`# heap growth over 100k items: ${growthMB.toFixed(1)} MB\n`);
});
