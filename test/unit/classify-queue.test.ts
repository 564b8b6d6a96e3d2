import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassificationQueue } from '../../agent/track/classify-queue.js';
import { logLines } from '../helpers/log-lines.js';

const item = (name: string, samples: number) => ({ name, samples });

test('new visitors first, then the longest waiting', () => {
  const q = new ClassificationQueue<ReturnType<typeof item>>(10);
  const a = item('a', 2);
  const b = item('b', 0);
  const c = item('c', 2);
  const d = item('d', 0);
  [a, b, c, d].forEach((i) => q.offer(i));
  q.offer(a);
  assert.equal(q.depth, 4, 'a visit is queued once');
  assert.deepEqual(
    q.take(3, () => true).map((i) => i.name),
    ['b', 'd', 'a'],
  );
  assert.deepEqual(
    q.take(3, () => true).map((i) => i.name),
    ['c'],
  );
});

test('bounded: when full the lowest-priority request is dropped and counted', () => {
  const q = new ClassificationQueue<ReturnType<typeof item>>(2);
  const old = item('old', 3);
  const mid = item('mid', 1);
  const fresh = item('fresh', 0);
  const late = item('late', 4);
  q.offer(old);
  q.offer(mid);
  q.offer(fresh); // evicts "old" (most samples)
  q.offer(late); // lower priority than everything queued: itself dropped
  assert.equal(q.dropped, 2);
  assert.equal(q.maxDepth, 2);
  assert.deepEqual(
    q.take(5, () => true).map((i) => i.name),
    ['fresh', 'mid'],
  );
});

test('requests without a usable crop now stay queued; ended visits are pruned', () => {
  const q = new ClassificationQueue<ReturnType<typeof item>>(4);
  const a = item('a', 0);
  const b = item('b', 0);
  q.offer(a);
  q.offer(b);
  assert.deepEqual(
    q.take(2, (i) => i !== a).map((i) => i.name),
    ['b'],
  );
  assert.equal(q.depth, 1);
  q.prune((i) => i !== a);
  assert.equal(q.depth, 0);
});

test('debug lines say what was queued, dropped and why, and what is classified', () => {
  const { log, lines } = logLines();
  const q = new ClassificationQueue<{ samples: number; person: string }>(1, log);
  q.offer({ samples: 0, person: 'aaaaaaaa-1111' });
  q.offer({ samples: 2, person: 'bbbbbbbb-2222' });
  q.take(4, () => true);
  assert.deepEqual(lines, [
    'debug: classification of aaaaaaaa queued (0 sample(s) so far; 1 waiting)',
    'debug: classification of bbbbbbbb skipped: the queue is full (classifier.queueSize 1) with visits that have fewer samples',
    'debug: classifying aaaaaaaa (at most 4 now: batch and per-second budget); 0 still waiting for a usable crop or a turn',
  ]);
});
