// A typed, synchronous event bus: the composition root and the pipeline emit, features listen. Built on
// Node's EventEmitter (no library needed); the generic map keeps topic names and payloads checked. A
// listener that throws is reported to the `error` hook instead of breaking the emitter's caller (the
// data path must not die because one feature failed).
import { EventEmitter } from 'node:events';

export class TypedBus<Events extends Record<string, unknown>> {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onListenerError: (name: string, err: Error) => void = () => undefined) {
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof Events & string>(name: K, listener: (payload: Events[K]) => void): () => void {
    const guarded = (payload: Events[K]) => {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(name, err as Error);
      }
    };
    this.emitter.on(name, guarded);
    return () => {
      this.emitter.off(name, guarded);
    };
  }

  emit<K extends keyof Events & string>(name: K, payload: Events[K]): void {
    this.emitter.emit(name, payload);
  }

  listenerCount(name: keyof Events & string): number {
    return this.emitter.listenerCount(name);
  }
}
