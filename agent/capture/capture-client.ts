// Main-thread handle on a capture process: one request at a time, each with a deadline. A request that
// misses its deadline kills the process (SIGKILL: it may be stuck in native code) and fails, so the
// caller takes its reconnect path while the main thread keeps handling frames, MQTT and signals.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CaptureReply, CaptureRequest } from './capture-protocol.js';

const entry = fileURLToPath(new URL('./capture-process.js', import.meta.url));

/** The capture processes alive now: their CPU is part of the agent's (stats cpuPercent, bench --live). */
const live = new Set<ChildProcess>();

/** Process ids of the capture processes alive now. */
export function capturePids(): number[] {
  return [...live].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

export class CaptureTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms (capture process killed)`);
    this.name = 'CaptureTimeout';
  }
}

export class CaptureClient {
  private readonly child: ChildProcess;
  private waiting: { resolve: (r: CaptureReply) => void; reject: (e: Error) => void } | null = null;
  private exited = false;
  private readonly started: Promise<CaptureReply>;

  constructor() {
    // 'advanced' serialization carries the frame bytes as a typed array (no base64/JSON).
    this.child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    live.add(this.child);
    this.child.on('message', (msg: CaptureReply) => {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(msg);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      live.delete(this.child);
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new Error(`capture process exited (${signal ?? `code ${code}`})`));
    });
    this.child.on('error', () => live.delete(this.child));
    this.started = new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    this.started.catch(() => undefined);
  }

  /** Sends one request; rejects on timeout (after killing the process) or if the process is gone. */
  async request(req: CaptureRequest, timeoutMs: number, what: string): Promise<CaptureReply> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new CaptureTimeout(what, timeoutMs));
      }, timeoutMs);
    });
    try {
      // The first request also waits for the process to have loaded OpenCV.
      await Promise.race([this.started, deadline]);
      if (this.exited) throw new Error('capture process is gone');
      const answer = new Promise<CaptureReply>((resolve, reject) => {
        this.waiting = { resolve, reject };
      });
      this.child.send(req);
      return await Promise.race([answer, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The capture process's id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.waiting !== null;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Releases the capture politely when idle; a busy or unresponsive process is killed. */
  async close(): Promise<void> {
    if (this.exited) return;
    if (this.busy) {
      this.kill();
      return;
    }
    await this.request({ op: 'close' }, 2000, 'close').catch(() => this.kill());
  }
}
