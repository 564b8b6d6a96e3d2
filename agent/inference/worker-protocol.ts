// Messages between the main thread and an inference worker.
import type { WarmupShape } from './warmup-shapes.js';

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export interface WorkerInit {
  modelPath: string;
  providers: string[];
  intraOpThreads: number;
  /** The sha256 the bytes read must have (the manifest's, or what the first worker loaded); null: only computed. */
  sha256: string | null;
  /** The size the manifest declares, if it does: any other size is refused before reading. */
  bytes: number | null;
  /** A worker replacing one that timed out or crashed: it must load the very bytes the first one did. */
  replacement: boolean;
  /** Inputs run once on zeros before 'ready' (every batch size the agent will send): see warmup-shapes.ts. */
  warmup: WarmupShape[];
  /** The warm-up is skipped when it would take longer than this (estimated from one face). */
  warmupBudgetMs: number;
}

export type WorkerRequest = { type: 'run'; id: number; feeds: Record<string, TensorData> } | { type: 'close' };

export type WorkerReply =
  | { type: 'ready'; provider: string; failures: string[]; inputs: ValueInfo[]; outputs: ValueInfo[]; sha256: string; warmed: WarmupShape[] }
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; runMs: number }
  | { type: 'error'; id: number; message: string }
  /** `changed`: the model's bytes did not have the expected sha256. */
  | { type: 'fatal'; message: string; changed?: boolean };

export interface ValueInfo {
  name: string;
  shape: (number | string)[];
}
