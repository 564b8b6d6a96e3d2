// The event sequence number, kept on disk so it rises by exactly one per event across restarts and any
// subscriber can detect a lost event as a gap.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export class StateStore {
  private seq: number;
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'state.json');
    this.seq = 0;
    if (existsSync(this.path)) {
      let parsed: { seq?: unknown };
      try {
        parsed = JSON.parse(readFileSync(this.path, 'utf8'));
      } catch (err) {
        throw new Error(`state file ${this.path} is unreadable (${(err as Error).message}); move it aside to start the sequence again`);
      }
      if (typeof parsed.seq !== 'number' || !Number.isInteger(parsed.seq) || parsed.seq < 0) {
        throw new Error(`state file ${this.path} has no valid "seq"; move it aside to start the sequence again`);
      }
      this.seq = parsed.seq;
    }
  }

  get lastSeq(): number { return this.seq; }

  /** After a crash the outbox may hold an event whose seq was not yet recorded here: never reuse it. */
  ensureAtLeast(seq: number): void {
    if (seq > this.seq) this.commit(seq);
  }

  /** Records `seq` as used (durably). */
  commit(seq: number): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ seq, updatedAt: new Date().toISOString() })}\n`);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.seq = seq;
  }
}
