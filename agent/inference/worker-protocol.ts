// Messages between the main thread and an inference worker.
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export interface WorkerInit {
  modelPath: string;
  providers: string[];
  intraOpThreads: number;
}

export type WorkerRequest = { type: 'run'; id: number; feeds: Record<string, TensorData> } | { type: 'close' };

export type WorkerReply =
  | { type: 'ready'; provider: string; failures: string[]; inputs: ValueInfo[]; outputs: ValueInfo[] }
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; runMs: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'fatal'; message: string };

export interface ValueInfo {
  name: string;
  shape: (number | string)[];
}
