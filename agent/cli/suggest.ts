// "Unknown argument: sorce" alone leaves the installer to guess; the nearest command or flag is almost
// always what was meant. Same edit distance as the PERCEPT_* environment check. Not yargs'
// recommendCommands(): it also fires inside `models`, turning `models list` into "Did you mean use?".
import type { Argv } from 'yargs';
import { closest } from '../config/env-check.js';

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

// Untyped but public in yargs 17/18; at a failure they describe the command that failed.
interface Introspect {
  getOptions(): { key: Record<string, unknown> };
  getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } };
}

/** yargs' strict-mode message, each unknown word or flag followed by the nearest command or flag. */
export function withSuggestions(msg: string, y: Argv, argv: string[]): string {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return msg;
  // The introspection methods are public at run time but not in yargs' types (see Introspect above).
  const i = y as unknown as Introspect;
  const flags = Object.keys(i.getOptions().key).map(kebab);
  const commands = i.getInternalMethods().getCommandInstance().getCommands();
  // yargs names a misspelt --devce-id twice (devce-id, devceId): one line each.
  const names = [...new Set(m[1]!.split(', ').map(kebab))];
  // Only the first stray word stands where a command goes; later ones (config sett x=1) are its arguments.
  const word = names.find((n) => argv.includes(n));
  const lines = names.map((name) => {
    if (name === word && commands.length) {
      const near = closest(name, commands, 2);
      return `Unknown command: ${name}` + (near ? ` (did you mean ${near}?)` : '');
    }
    const near = name.length > 1 ? closest(name, flags, 2) : undefined;
    return `Unknown argument: ${name}` + (near ? ` (did you mean --${near}?)` : '');
  });
  return lines.join('\n');
}
