// A classifier whose model can be replaced while the agent runs (`percept models use`, a config reload).
// Calls go to the current classifier; swap() sends new calls to the next one and closes the old one only
// once every call it had accepted has settled: ending an onnxruntime worker in the middle of a run
// aborts the whole process (exit 134), and a result already being computed is still a good result.
import type { Frame } from '../capture/frame.js';
import type { Task } from '../contract/labels.js';
import type { Classifier, ClassifyResult, FaceRegion } from './classifier.js';

export class SwitchableClassifier implements Classifier {
  private current: Classifier;
  /** Calls in flight per classifier: a retiring one is closed when its set is empty. */
  private readonly inflight = new Map<Classifier, Set<Promise<unknown>>>();
  /** Old classifiers being retired (closed after their calls settle). */
  private readonly retiring = new Set<Promise<void>>();
  private closed = false;

  constructor(initial: Classifier) {
    this.current = initial;
  }

  /** The name of the model new calls go to (events and status carry it). */
  get name(): string {
    return this.current.name;
  }

  get tasks(): readonly Task[] {
    return this.current.tasks;
  }

  /** The classifier new calls go to. */
  get active(): Classifier {
    return this.current;
  }

  classify(frame: Frame, faces: FaceRegion[]): Promise<ClassifyResult> {
    const target = this.current;
    const call = target.classify(frame, faces);
    let calls = this.inflight.get(target);
    if (!calls) this.inflight.set(target, (calls = new Set()));
    const tracked = call.then(
      () => undefined,
      () => undefined,
    );
    calls.add(tracked);
    void tracked.then(() => {
      calls.delete(tracked);
      if (!calls.size) this.inflight.delete(target);
    });
    return call;
  }

  /**
   * New calls go to `next` from now on; resolves once the old classifier has finished its calls and is
   * closed. After close(), `next` is closed instead (nothing is left running).
   */
  async swap(next: Classifier): Promise<void> {
    if (this.closed) {
      await next.close();
      throw new Error('the classifier is closed');
    }
    const old = this.current;
    this.current = next;
    await this.retire(old);
  }

  private retire(old: Classifier): Promise<void> {
    const done = Promise.allSettled([...(this.inflight.get(old) ?? [])])
      .then(() => old.close())
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
    return done;
  }

  /** Waits for old classifiers still retiring, then closes the current one (after its own calls). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.retiring]);
    await Promise.allSettled([...(this.inflight.get(this.current) ?? [])]);
    await this.current.close();
  }
}
