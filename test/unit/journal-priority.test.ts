// Under systemd, each log line starts with its sd-daemon priority (<3> error … <7> debug), so that
// `journalctl -p warning` shows warnings and errors; only when stderr is the very stream systemd named in
// JOURNAL_STREAM (device:inode), not a file that merely inherited the variable.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, fstatSync, openSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createLogger, isJournalStream } from '../../agent/lib/logging.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-journal-');
const saved = process.env.JOURNAL_STREAM;
after(() => {
  if (saved === undefined) delete process.env.JOURNAL_STREAM;
  else process.env.JOURNAL_STREAM = saved;
});

function open(name: string): { path: string; stream: WriteStream; id: string } {
  const path = join(work, name);
  const fd = openSync(path, 'w');
  const st = fstatSync(fd);
  return { path, stream: createWriteStream(path, { fd }), id: `${st.dev}:${st.ino}` };
}

async function logAll(stream: WriteStream, format: 'json' | 'pretty'): Promise<void> {
  const log = createLogger({ level: 'debug', format, namespaces: {} }, stream as unknown as NodeJS.WriteStream);
  log.error('e');
  log.warn('w');
  log.info('i');
  log.debug('d');
  await new Promise<void>((resolve) => {
    log.on('finish', () => resolve());
    log.end();
  });
  await new Promise<void>((resolve) => stream.end(() => resolve()));
}

test('on the journal stream every line carries its priority, in both formats', async () => {
  for (const format of ['json', 'pretty'] as const) {
    const f = open(`journal-${format}.log`);
    process.env.JOURNAL_STREAM = f.id;
    assert.ok(isJournalStream(f.stream));
    await logAll(f.stream, format);
    const lines = readFileSync(f.path, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.slice(0, 3)),
      ['<3>', '<4>', '<6>', '<7>'],
      lines.join('\n'),
    );
    if (format === 'json') assert.equal((JSON.parse(lines[1]!.slice(3)) as { message: string }).message, 'w');
  }
});

test('a file that inherited JOURNAL_STREAM (another inode) gets plain lines', async () => {
  const journal = open('real-journal.log');
  const file = open('redirected.log');
  process.env.JOURNAL_STREAM = journal.id;
  assert.equal(isJournalStream(file.stream), false);
  await logAll(file.stream, 'pretty');
  const text = readFileSync(file.path, 'utf8');
  assert.doesNotMatch(text, /^<\d>/m);
  assert.match(text, / error e\n/);
  journal.stream.destroy();
});
