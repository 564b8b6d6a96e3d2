// The hot model switch's core rule: calls already accepted by the old classifier finish on it, and it is
// closed only after they have all settled (closing an onnxruntime worker mid-run aborts the process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Classifier, ClassifyResult, FaceRegion } from '../../agent/classify/classifier.js';
import type { Frame } from '../../agent/capture/frame.js';
import { SwitchableClassifier } from '../../agent/classify/switchable-classifier.js';
import { withKeySet } from '../../agent/config/file-edit.js';

/** A classifier whose calls finish when the test says, and which records what happened to it, in order. */
class Held implements Classifier {
  readonly tasks = ['age'] as const;
  readonly log: string[];
  private readonly waiting: { resolve: (r: ClassifyResult) => void; reject: (e: Error) => void }[] = [];
  closed = false;

  constructor(
    readonly name: string,
    log: string[],
  ) {
    this.log = log;
  }

  classify(_frame: Frame, faces: FaceRegion[]): Promise<ClassifyResult> {
    if (this.closed) return Promise.reject(new Error(`${this.name} is closed`));
    this.log.push(`${this.name} call`);
    return new Promise((resolve, reject) => this.waiting.push({ resolve: (r) => resolve({ faces: r.faces.slice(0, faces.length) }), reject }));
  }

  finish(fail = false): void {
    const w = this.waiting.shift()!;
    this.log.push(`${this.name} ${fail ? 'failed' : 'done'}`);
    if (fail) w.reject(new Error('inference failed'));
    else w.resolve({ faces: [{}] });
  }

  close(): Promise<void> {
    this.log.push(`${this.name} closed`);
    this.closed = true;
    return Promise.resolve();
  }
}

const frame = {} as Frame;
const face: FaceRegion = { x: 0, y: 0, w: 10, h: 10 };
const tick = () => new Promise((r) => setImmediate(r));

test('swap: new calls go to the new model; the old one closes only after its in-flight calls settle', async () => {
  const log: string[] = [];
  const a = new Held('a', log);
  const b = new Held('b', log);
  const s = new SwitchableClassifier(a);
  const first = s.classify(frame, [face]);
  const second = s.classify(frame, [face]);
  let swapped = false;
  const swap = s.swap(b).then(() => (swapped = true));
  assert.equal(s.name, 'b', 'the new name at once (events after the switch carry it)');
  const third = s.classify(frame, [face]);
  await tick();
  assert.equal(a.closed, false, 'two calls still running on the old model');
  a.finish();
  await tick();
  assert.equal(a.closed, false, 'one call still running on the old model');
  a.finish(true); // a failed call counts as settled too
  await swap;
  assert.ok(swapped && a.closed);
  b.finish();
  assert.deepEqual((await first).faces, [{}]);
  await assert.rejects(second, /inference failed/);
  assert.deepEqual((await third).faces, [{}]);
  assert.deepEqual(log, ['a call', 'a call', 'b call', 'a done', 'a failed', 'a closed', 'b done']);
});

test('swap with nothing in flight closes the old model at once; close() waits for a retiring one', async () => {
  const log: string[] = [];
  const a = new Held('a', log);
  const b = new Held('b', log);
  const c = new Held('c', log);
  const s = new SwitchableClassifier(a);
  await s.swap(b);
  assert.ok(a.closed);
  const call = s.classify(frame, [face]);
  void s.swap(c);
  const closing = s.close();
  await tick();
  assert.equal(b.closed, false, 'b still has a call');
  assert.equal(c.closed, false);
  b.finish();
  await closing;
  await call;
  assert.ok(b.closed && c.closed, 'everything closed, the retiring one after its call');
  await assert.rejects(s.swap(new Held('d', log)), /closed/);
  assert.ok(log.includes('d closed'), 'a model swapped in after close is closed, not left running');
});

test('setting classifier.models in a YAML file keeps every other byte', () => {
  const text = '# site config\nsource:\n  uri: /dev/video0   # the camera\nclassifier:\n  models: []         # none yet\n  cropMargin: 0.3\n';
  assert.equal(
    withKeySet(text, 'f', ['classifier', 'models'], ['/opt/m 2']),
    '# site config\nsource:\n  uri: /dev/video0   # the camera\nclassifier:\n  models: ["/opt/m 2"]         # none yet\n  cropMargin: 0.3\n',
  );
  assert.equal(
    withKeySet('classifier:\n  cropMargin: 0.3 # m\n', 'f', ['classifier', 'models'], ['/a']),
    'classifier:\n  models: ["/a"]\n  cropMargin: 0.3 # m\n',
  );
  assert.equal(withKeySet('source:\n  uri: x\n', 'f', ['classifier', 'models'], ['/a']), 'source:\n  uri: x\nclassifier:\n  models: ["/a"]\n');
  assert.throws(() => withKeySet('a: [', 'f.yaml', ['classifier', 'models'], []), /f\.yaml/);
});
