// Control characters from remote input (a content id) never reach a terminal raw: the pretty format
// escapes C0/C1 controls and ANSI sequences, so a forged line or a cleared screen stays one visible line;
// the JSON format stays JSON and escapes what JSON itself leaves raw (C1, U+2028).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, escapeControls } from '../../agent/lib/logging.js';

const FORGED = 'ad\x1b[2J\x1b[H\n2026-12-06T00:00:00.000Z info [impressions] content ad-9 ended: 99 viewer(s)\r\u009b31m\u2028x';

function capture(isTTY: boolean) {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  (stream as { isTTY?: boolean }).isTTY = isTTY;
  return { stream, out: () => out };
}

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028]/;
const flushed = () => new Promise((r) => setImmediate(r));

for (const isTTY of [false, true]) {
  test(`pretty logs (${isTTY ? 'a terminal, coloured' : 'not a terminal'}): a forged content id stays one escaped line`, async () => {
    const c = capture(isTTY);
    const log = createLogger({ level: 'info', format: 'pretty', namespaces: {} }, c.stream).child({ ns: 'impressions' });
    log.info(`content ${FORGED} started`);
    await flushed();
    const lines = c.out().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, c.out());
    const line = lines[0]!;
    assert.ok(line.includes('content ad\\x1b[2J\\x1b[H\\n2026-12-06T00:00:00.000Z info [impressions] content ad-9'), line);
    assert.ok(line.endsWith('\\r\\x9b31m\\u2028x started'), line);
    // Only the level's own colour codes (a terminal) remain as escape characters.
    const message = line.slice(line.indexOf('content '));
    assert.doesNotMatch(message, RAW);
  });
}

test('JSON logs: still one JSON line carrying the exact message; C1 and U+2028 escaped too', async () => {
  const c = capture(false);
  const log = createLogger({ level: 'info', format: 'json', namespaces: {} }, c.stream);
  log.warn(`content ${FORGED}`);
  await flushed();
  const lines = c.out().split('\n').filter(Boolean);
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, RAW);
  assert.equal(JSON.parse(lines[0]!).message, `content ${FORGED}`);
});

test('escapeControls: printable text unchanged, every control visible', () => {
  assert.equal(escapeControls('Spring sale — ad-1 "x" \\n'), 'Spring sale — ad-1 "x" \\n');
  assert.equal(escapeControls('\u0000\u0007\t\u007f\u0085\u202e'), '\\x00\\x07\\t\\x7f\\x85\\u202e');
});
