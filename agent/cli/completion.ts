// Shell completion beyond yargs' commands and flags: config keys after `config set`/`config get`, model
// names after `models use`/`models verify`. Runs on every Tab, so it reads the key table already loaded
// and the models' model.json files, nothing more (no onnxruntime, no config file, no broker).
import { configKeys } from '../config/env-check.js';
import { modelsByName } from './model-names.js';

type Fallback = (onCompleted?: (err: Error | null, list?: string[]) => void) => void;

/** What to offer for `current` given the words before it, or null to let yargs offer commands and flags. */
export function extraCompletions(words: string[], current: string): string[] | null {
  if (current.startsWith('-')) return null;
  const [cmd, sub] = words;
  // yargs puts the word being completed, even an empty one, last in argv._.
  const position = words.length - 1;
  if (cmd === 'config' && (sub === 'set' || sub === 'get') && position >= 2) {
    if (current.includes('=')) return [];
    const keys = configKeys().filter((k) => k.startsWith(current));
    return sub === 'set' ? keys.map((k) => `${k}=`) : position === 2 ? keys : [];
  }
  if (cmd === 'models' && (sub === 'use' || sub === 'verify') && position === 2)
    // use takes attributes models only (classifier.models); verify takes any.
    return [...modelsByName()].filter(([name, m]) => name.startsWith(current) && (sub === 'verify' || m.kind === 'attributes')).map(([name]) => name);
  return null;
}

export function completeCommandLine(current: string, argv: { _: (string | number)[] }, fallback: Fallback, done: (list: string[]) => void): void {
  const words = argv._.map(String);
  if (words[0] === 'percept') words.shift();
  const extra = extraCompletions(words, current);
  if (extra === null) fallback();
  else done(extra);
}
