// rank_pattern / alpha_pattern of a PEFT adapter_config.json. peft reads each key as a Python regular
// expression and picks, per module, the first key in file order for which
// `re.match(rf"(.*\.)?({key})$", module)` succeeds (peft/utils/other.py get_pattern_key, used by
// tuners/lora/model.py), then the pattern's value, else `r` / `lora_alpha`. The key is pasted into that
// wrapper as text, so it can contain alternation or even close the wrapper's group: the same text is
// compiled here, and `lookingAt()` (anchored at the start, not the end) is re.match.
//
// JavaScript's RegExp backtracks: a key like (([\w.]*)*)*# took 51 s of CPU for one module. Keys run on
// re2js instead (a pure-JS port of RE2, MIT, maintained, no native build): linear in the module name
// whatever the key, so no deadline is needed. Python's syntax is translated where RE2 reads the same
// text differently, and refused where RE2 cannot run it (backreferences, lookaround, atomic groups,
// conditionals, verbose mode) or where Python itself would refuse the key — a refusal names the key.
// Left as they are, on purpose: \d \w \s \b are ASCII in RE2 and Unicode in Python, and Python's `$` also
// matches before a final newline; module names are ASCII dotted paths without newlines, so neither differs.
import { RE2JS } from 're2js';

export type PatternField = 'rank_pattern' | 'alpha_pattern';

export interface PatternTable {
  field: PatternField;
  /** In file order (see `keyOrderUnknown`). */
  entries: { key: string; value: number; re: RE2JS }[];
  /** peft's fallback: a module named exactly like a key gets its value even when no key matched. */
  exact: Map<string, number>;
  /** A number-like key is present: JSON.parse put it first, so the file order of the keys is not known. */
  keyOrderUnknown: boolean;
}

/** Longer keys are refused: module-name patterns are short, and matching costs key length × name length. */
export const MAX_KEY_LENGTH = 1000;

class Untranslatable extends Error {}

const HEX = /^[0-9a-fA-F]+$/;

/** The escape at `p[i] === '\\'`: its RE2 spelling and its length, or Untranslatable. */
function escape(p: string, i: number, inClass: boolean): [string, number] {
  const c = p[i + 1];
  if (c === undefined) throw new Untranslatable('it ends with a lone backslash');
  const code = (n: number) => `\\x{${n.toString(16)}}`;
  if (/[dDwWsS]/.test(c)) return [`\\${c}`, 2];
  if (/[afnrtv]/.test(c)) return [`\\${c}`, 2];
  if (c === 'b') return [inClass ? '\\x{8}' : '\\b', 2]; // a backspace inside [], a word boundary outside
  if (!inClass && /[AB]/.test(c)) return [`\\${c}`, 2];
  if (!inClass && (c === 'Z' || c === 'z')) return ['\\z', 2]; // Python's end of string (\z from 3.14)
  if (c === 'x') {
    const h = p.slice(i + 2, i + 4);
    if (h.length === 2 && HEX.test(h)) return [`\\x${h}`, 4];
    throw new Untranslatable('\\x needs two hex digits');
  }
  if (c === 'u' || c === 'U') {
    const n = c === 'u' ? 4 : 8;
    const h = p.slice(i + 2, i + 2 + n);
    if (h.length !== n || !HEX.test(h) || parseInt(h, 16) > 0x10ffff) throw new Untranslatable(`\\${c} needs ${n} hex digits`);
    return [code(parseInt(h, 16)), 2 + n];
  }
  if (c === '0') {
    const o = /^[0-7]{0,2}/.exec(p.slice(i + 2))![0];
    return [code(parseInt(`0${o}`, 8)), 2 + o.length];
  }
  if (inClass && /[1-7]/.test(c)) {
    // Inside [], Python reads up to three octal digits as a character (no backreferences there).
    const o = /^[0-7]{1,3}/.exec(p.slice(i + 1))![0];
    if (parseInt(o, 8) > 0o377) throw new Untranslatable(`\\${o} is beyond \\377`);
    return [code(parseInt(o, 8)), 1 + o.length];
  }
  if (/[1-9]/.test(c)) {
    // Python: three octal digits are a character, anything else a backreference.
    const o = /^[0-7]{3}/.exec(p.slice(i + 1))?.[0];
    if (o && parseInt(o, 8) <= 0o377) return [code(parseInt(o, 8)), 4];
    throw new Untranslatable(`\\${c} is a backreference, which a linear-time engine cannot run`);
  }
  if (c === 'N') throw new Untranslatable('\\N{…} named characters are not supported here (write the character itself)');
  if (/[A-Za-z]/.test(c)) throw new Untranslatable(`\\${c} is not an escape Python's re knows`);
  // Escaped punctuation or any other character: that character, literally (RE2 refuses \ before non-ASCII).
  return [c.charCodeAt(0) > 0x7f ? c : `\\${c}`, 2];
}

/** The group opening at `p[i] === '('`: its RE2 spelling and length. */
function group(p: string, i: number): [string, number] {
  if (p[i + 1] !== '?') return ['(', 1];
  const rest = p.slice(i + 2);
  if (rest.startsWith(':')) return ['(?:', 3];
  const named = /^P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
  if (named) return [`(?P<${named[1]}>`, 2 + named[0].length];
  if (rest.startsWith('#')) {
    const end = p.indexOf(')', i);
    if (end < 0) throw new Untranslatable('a (?# comment is not closed');
    return ['', end - i + 1]; // Python drops comments
  }
  if (/^(P=|=|!|<=|<!)/.test(rest)) throw new Untranslatable('backreferences and lookaround cannot run on a linear-time engine');
  if (/^[(>]/.test(rest)) throw new Untranslatable('conditional and atomic groups cannot run on a linear-time engine');
  const flags = /^([aiLmsux]*)(?:-([imsx]*))?(:|\))/.exec(rest);
  if (!flags) throw new Untranslatable(`(?${rest.slice(0, 3)}… is not a group Python's re knows`);
  const [all, on = '', off = '', close] = flags;
  // The key always follows peft's "(.*\.)?(": a global flag there is an error from Python 3.11 on.
  if (close === ')') throw new Untranslatable('a global inline flag must start the whole pattern in Python (use a scoped (?i:…) group)');
  if (/[Lx]/.test(on + off)) throw new Untranslatable('the L (locale) and x (verbose) flags are not supported');
  // a (ASCII classes) is what RE2 does anyway; u is Python's default for text.
  const keep = (s: string) => s.replace(/[au]/g, '');
  const o = keep(on);
  const f = keep(off);
  if (!o && !f) return ['(?:', 2 + all.length];
  return [`(?${o}${f ? `-${f}` : ''}:`, 2 + all.length];
}

/** A Python `re` pattern in RE2's syntax, same meaning; Untranslatable when there is none. */
export function pythonToRe2(p: string): string {
  let out = '';
  let i = 0;
  let inClass = false;
  let classStart = 0;
  while (i < p.length) {
    const c = p.charAt(i);
    if (c === '\\') {
      const [s, n] = escape(p, i, inClass);
      out += s;
      i += n;
      continue;
    }
    if (inClass) {
      if (c === ']' && i > classStart) inClass = false;
      // Python reads [ inside a class literally; RE2 would take [:alpha:] as a POSIX class.
      out += c === '[' ? '\\[' : c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = i + 1 + (p[i + 1] === '^' ? 1 : 0); // a ] right after [ or [^ is a literal
      out += c;
      i++;
      continue;
    }
    if (c === '(') {
      const [s, n] = group(p, i);
      out += s;
      i += n;
      continue;
    }
    if (c === '{') {
      // Python's {,n} is {0,n} and {,} is {0,}; RE2 would match them as literal text.
      const m = /^\{,(\d*)\}/.exec(p.slice(i));
      if (m) {
        out += `{0,${m[1]}}`;
        i += m[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

const problemOf = (err: unknown) => (err as Error).message.replace(/^error parsing regexp: /, '');

/**
 * Checks and compiles one pattern table of adapter_config.json (values: ranks or alphas, positive
 * integers as peft declares them); every problem is pushed to `problems`, naming the field and key.
 */
export function compilePatterns(field: PatternField, value: unknown, problems: string[]): PatternTable {
  const table: PatternTable = { field, entries: [], exact: new Map(), keyOrderUnknown: false };
  if (value === undefined || value === null) return table;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${field} is ${JSON.stringify(value)}, needs an object of module-name patterns`);
    return table;
  }
  const keys = Object.keys(value);
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    const shown = JSON.stringify(key);
    if (!Number.isInteger(v) || (v as number) < 1) {
      problems.push(`${field}[${shown}] is ${JSON.stringify(v)}, needs a positive integer`);
      continue;
    }
    if (key.length > MAX_KEY_LENGTH) {
      problems.push(`${field} key ${shown.slice(0, 40)}… is ${key.length} characters long; at most ${MAX_KEY_LENGTH}`);
      continue;
    }
    let re: RE2JS;
    try {
      re = RE2JS.compile(pythonToRe2(`(.*\\.)?(${key})$`));
    } catch (err) {
      const why = err instanceof Untranslatable ? err.message : `not a valid regular expression (${problemOf(err)})`;
      problems.push(`${field} key ${shown}: ${why}`);
      continue;
    }
    table.entries.push({ key, value: v as number, re });
    table.exact.set(key, v as number);
  }
  // JSON objects keep integer-like keys ahead of the rest, so their file order is lost; peft takes the
  // first match in file order. Only a module two such keys both match would be decided differently.
  if (keys.some((k) => /^(0|[1-9]\d*)$/.test(k)) && keys.length > 1) table.keyOrderUnknown = true;
  return table;
}

/** peft's value for a module: the first matching key's, else an exact key's, else undefined (use the default). */
export function patternValue(t: PatternTable, module: string): number | undefined {
  let first: { key: string; value: number } | undefined;
  for (const e of t.entries) {
    if (!e.re.matcher(module).lookingAt()) continue;
    if (!first) {
      first = e;
      if (!t.keyOrderUnknown) break;
    } else if (e.value !== first.value) {
      throw new PatternOrderError(
        `${t.field} keys ${JSON.stringify(first.key)} and ${JSON.stringify(e.key)} both match ${module} with different values, and a number-like key loses its place in the file (JSON objects put such keys first); peft takes the first in the file: keep one of them`,
      );
    }
  }
  return first ? first.value : t.exact.get(module);
}

/** Two keys of unknown relative order decide a module differently. */
export class PatternOrderError extends Error {}
