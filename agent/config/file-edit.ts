// Setting one key in a YAML config file in place, for commands that change the local config
// (`percept models use`): the yaml package's Document API keeps the rest of the file — other keys, their
// order, comments — as it was. The write is atomic and durable (lib/durable.ts) and keeps the file's mode
// (a file holding a password stays unreadable to others, also for the moment of the write).
import * as nodeFs from 'node:fs';
import { isMap, isNode, parseDocument } from 'yaml';
import { realFs, writeDurable } from '../lib/durable.js';
import { ConfigError } from './errors.js';
import { firstLine } from '../lib/must.js';

/**
 * The text of `text` with `segments` set to `value`, everything else byte for byte: the value's own
 * source range is replaced (or one line added to its section, or the section appended), written as JSON,
 * which is YAML. Where that would not do (a flow-style section, say), the yaml Document is printed again,
 * which keeps keys and comments but not their column alignment. Throws a ConfigError when the text is not YAML.
 */
export function withKeySet(text: string, source: string, segments: readonly string[], value: unknown): string {
  const doc = parseDocument(text, { uniqueKeys: true });
  const [error] = doc.errors;
  if (error) throw new ConfigError(source, [{ path: '', message: `not readable as YAML: ${firstLine(error.message)}` }]);
  const json = JSON.stringify(value);
  const key = segments.at(-1);
  if (key === undefined) throw new Error('withKeySet: an empty key path');
  const node = doc.getIn(segments, true);
  const parent = segments.length > 1 ? doc.getIn(segments.slice(0, -1), true) : doc.contents;
  let edited: string | null = null;
  if (isNode(node) && node.range) {
    edited = text.slice(0, node.range[0]) + json + text.slice(node.range[1]);
  } else if (isMap(parent) && !parent.flow && parent.range && parent.items.length) {
    const at = parent.range[0];
    const indent = ' '.repeat(at - (text.lastIndexOf('\n', at - 1) + 1));
    edited = `${text.slice(0, at)}${key}: ${json}\n${indent}${text.slice(at)}`;
  } else if (parent === undefined && segments.length === 2 && (doc.contents === null || (isMap(doc.contents) && !doc.contents.flow))) {
    edited = `${text}${text && !text.endsWith('\n') ? '\n' : ''}${segments[0]}:\n  ${key}: ${json}\n`;
  }
  if (edited !== null && sameValue(parseDocument(edited, { uniqueKeys: true }), segments, value)) return edited;
  // yaml types contents by the document's schema parameters; createNode returns the generic Node, which
  // for an empty document is the map the contents must become.
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  doc.setIn(segments, doc.createNode(value));
  return doc.toString({ lineWidth: 0 });
}

function sameValue(doc: ReturnType<typeof parseDocument>, segments: readonly string[], value: unknown): boolean {
  if (doc.errors.length) return false;
  const got: unknown = doc.getIn(segments);
  return JSON.stringify(isNode(got) ? got.toJSON() : got) === JSON.stringify(value);
}

/**
 * Writes `text` over `file` atomically and durably, with the file's current mode and, when root writes
 * it, its owner and group (the packaged config is root:percept-config 0640: a root:root copy would lock the
 * service out). A symlinked file (a config kept elsewhere and linked into /etc) is written where it
 * points: the link stays a link.
 */
export function replaceFile(file: string, text: string): void {
  const target = nodeFs.realpathSync(file);
  const st = nodeFs.statSync(target);
  const mode = st.mode & 0o7777;
  const asRoot = process.getuid?.() === 0;
  writeDurable(target, text, {
    ...realFs,
    openSync: (p, f) => {
      const fd = nodeFs.openSync(p, f, mode);
      if (asRoot && f.startsWith('w')) nodeFs.fchownSync(fd, st.uid, st.gid); // not the directory, opened to be synced
      return fd;
    },
  });
}
