// The event sequence number, kept on disk so it rises by exactly one per event across restarts and any
// subscriber can detect a lost event as a gap.
//
// A bad state file (corrupt, empty, negative, not a number) is not a reason to stop: the seq is recovered
// from what the outbox proves was used (its highest pending or quarantined key), the file is moved aside,
// and the log says so. A disk that refuses the write (full) keeps the seq in memory, reports `degraded`
// and retries; the file is padded to a fixed size so it can, as a last resort, be overwritten in place —
// which needs no new block on a full disk — so a restart never reuses a seq that went out.
import { existsSync, openSync, readFileSync, renameSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { realFs, writeDurable, type DurableFs } from '../lib/durable.js';
import { checkStateDir } from '../lib/state-dir.js';
import { silentLogger, type Logger } from '../lib/logging.js';

export interface StateStoreOptions {
  /** The highest seq the outbox proves was used; consulted when the state file is bad. */
  recover?: () => number;
  log?: Logger;
  fs?: DurableFs;
}

const FILE_SIZE = 128;

function stateText(seq: number): string {
  const json = JSON.stringify({ seq, updatedAt: new Date().toISOString() });
  return `${json.padEnd(FILE_SIZE - 1, ' ')}\n`;
}

export class StateStore {
  private seq = 0;
  private unsaved = false;
  readonly path: string;
  /** Why the seq is not on disk (the disk refused the write), or null. */
  degraded: string | null = null;
  private readonly fs: DurableFs;
  private readonly log: Logger;

  constructor(
    readonly dir: string,
    opts: StateStoreOptions = {},
  ) {
    this.path = join(dir, 'state.json');
    this.fs = opts.fs ?? realFs;
    this.log = opts.log ?? silentLogger;
    checkStateDir(dir); // throws only for a directory that can never work; a full disk is handled below
    // Written at once, so its block is ours: on a disk that fills up later, the in-place fallback works.
    if (!existsSync(this.path)) {
      this.commit(0);
      return;
    }
    let problem: string | null = null;
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { seq?: unknown } | null;
      const seq = parsed?.seq;
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
        problem = `"seq" is ${JSON.stringify(seq) ?? 'missing'}, not a non-negative integer`;
      else this.seq = seq;
    } catch (err) {
      problem = `unreadable: ${(err as Error).message || 'empty'}`;
    }
    if (problem === null) return;
    const aside = `${this.path}.bad-${Date.now()}`;
    try {
      renameSync(this.path, aside);
    } catch {
      /* overwritten below anyway */
    }
    const recovered = opts.recover?.() ?? 0;
    this.log.warn(`state file ${this.path} was bad (${problem}); moved to ${aside}; seq recovered from the outbox: the next event is ${recovered + 1}`);
    this.commit(recovered);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** After a crash the outbox may hold an event whose seq was not yet recorded here: never reuse it. */
  ensureAtLeast(seq: number): void {
    if (seq > this.seq) this.commit(seq);
  }

  /** Records `seq` as used: durably when the disk allows, else in memory (degraded) until retry() succeeds. */
  commit(seq: number): void {
    this.seq = seq;
    this.unsaved = true;
    this.retry();
  }

  /** Writes the seq if it is not on disk yet; true when it is. */
  retry(): boolean {
    if (!this.unsaved) return true;
    const text = stateText(this.seq);
    try {
      writeDurable(this.path, text, this.fs);
    } catch (err) {
      if (!this.overwriteInPlace(text)) {
        const e = err as NodeJS.ErrnoException;
        if (!this.degraded) this.log.warn(`cannot write ${this.path} (${e.code ?? e.message}); the seq is kept in memory and retried`);
        this.degraded = `cannot write the state file ${this.path} (${e.code ?? e.message})`;
        return false;
      }
    }
    this.unsaved = false;
    if (this.degraded) this.log.warn(`state file ${this.path} written again`);
    this.degraded = null;
    return true;
  }

  /** Same-size overwrite of the existing file: no new block, so it works on a full disk. */
  private overwriteInPlace(text: string): boolean {
    let fd: number | null = null;
    try {
      fd = openSync(this.path, 'r+');
      writeSync(fd, text, 0);
      fsyncSync(fd);
      return true;
    } catch {
      return false;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** Saves the seq if it is still held in memory. */
  close(): void {
    this.retry();
  }
}
