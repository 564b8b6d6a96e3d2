// Main-thread handle on a capture process: one request at a time, each with a deadline. A request that
// misses its deadline kills the process (SIGKILL: it may be stuck in native code) and fails, so the
// caller takes its reconnect path while the main thread keeps handling frames, MQTT and signals.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import type { CaptureReply, CaptureRequest } from './capture-protocol.js';
import { USER_OPENCV_LOG_LEVEL } from './opencv.js';

const entry = fileURLToPath(new URL('./capture-process.js', import.meta.url));

/** The capture processes alive now: their CPU is part of the agent's (stats cpuPercent, bench --live). */
const live = new Set<ChildProcess>();

/** Process ids of the capture processes alive now. */
export function capturePids(): number[] {
  return [...live].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

/** Enough that a burst of GLib assertion lines after the reason does not push the reason out (source-kind.ts because()). */
const RECENT_LINES = 12;

/** A line of library output: its text without colour codes or object addresses, and whether OpenCV's logger wrote it. */
export interface OutputLine {
  text: string;
  /** From OpenCV's logger ("[ WARN:0@0.3] global …/cap_gstreamer.cpp (1356) open OpenCV | GStreamer warning: …"). */
  opencv: boolean;
}

/** "[tcp @ 0x55d…] Connection … refused" → "[tcp] Connection … refused"; OpenCV's log prefix taken off. */
export function tidyOutput(raw: string): OutputLine | null {
  const line = stripVTControlCharacters(raw)
    .replace(/ @ 0x[0-9a-f]+\]/gi, ']')
    .trim();
  if (!line) return null;
  const cv = /^\[\s*(?:WARN|INFO|ERROR|DEBUG|FATAL)[^\]]*\]\s*(?:global\s+)?(?:\S+\s+\(\d+\)\s+\S+\s+)?(.*)$/.exec(line);
  if (!cv) return { text: line, opencv: false };
  return { text: cv[1]!.replace(/^OpenCV \| /, ''), opencv: true };
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
  /** The last request sent or queued: the next one waits for it. */
  private tail: Promise<unknown> = Promise.resolve();

  /** The last lines the process wrote (FFmpeg, GStreamer, OpenCV): the reason behind a failed open. */
  private readonly recent: string[] = [];
  private readonly outputEnded: Promise<void>;

  /** `onOutput`: each line the capture process's libraries write (colour codes and addresses taken out). */
  constructor(onOutput?: (line: OutputLine) => void) {
    // 'advanced' serialization carries the frame bytes as a typed array (no base64/JSON).
    // OpenCV's warnings carry the backends' reasons (GStreamer: "no element …", "unable to start pipeline"):
    // the capture process keeps them (as debug lines and failure detail) unless the user chose a level.
    const env = { ...process.env, OPENCV_LOG_LEVEL: USER_OPENCV_LOG_LEVEL ?? 'WARNING' };
    this.child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env });
    live.add(this.child);
    // FFmpeg and GStreamer write their reasons (connection refused, 401, no element) to stderr with ANSI
    // colours: read here, they become log lines and the detail of a failed open instead of raw output.
    const lines = createInterface({ input: this.child.stderr!, crlfDelay: Infinity });
    lines.on('line', (raw) => {
      const line = tidyOutput(raw);
      if (!line) return;
      this.recent.push(line.text);
      if (this.recent.length > RECENT_LINES) this.recent.shift();
      onOutput?.(line);
    });
    this.outputEnded = new Promise((resolve) => lines.once('close', () => resolve()));
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

  /**
   * Sends one request once those before it are answered (the process answers in order, one at a time: a
   * fetch of a frame's pixels waits behind the read ahead); rejects on timeout (after killing the
   * process) or if the process is gone.
   */
  request(req: CaptureRequest, timeoutMs: number, what: string): Promise<CaptureReply> {
    const turn = this.tail;
    const answer = turn.then(() => this.send(req, timeoutMs, what));
    this.tail = answer.catch(() => undefined);
    return answer;
  }

  private async send(req: CaptureRequest, timeoutMs: number, what: string): Promise<CaptureReply> {
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

  /**
   * Kills the process and waits (bounded) until everything it wrote has been read: its stderr and its IPC
   * reply are separate pipes, so the line that explains a failure may arrive after the failure itself.
   */
  async killAndCollect(waitMs = 3000): Promise<string[]> {
    this.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.outputEnded, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    return [...this.recent];
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
