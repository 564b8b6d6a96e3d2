// percept secret set|rm ID: the broker password or the TLS client key as a systemd credential. The
// service runs as a dynamic user that cannot read a root-only 0600 file; LoadCredential= hands systemd's
// copy to it in $CREDENTIALS_DIRECTORY (lib/credentials.ts reads it there). The drop-in names only the
// secrets that exist: on systemd 252 a LoadCredential= whose file is missing fails the unit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { CREDENTIAL_IDS, storedCredentialsDir, type CredentialId } from '../lib/credentials.js';

/** Overridable for tests that run without root's /etc (the paths the unit and the drop-in use). */
const CREDENTIALS_DIR = storedCredentialsDir();
const DROP_IN = process.env.PERCEPT_CREDENTIALS_DROP_IN ?? '/etc/systemd/system/percept.service.d/credentials.conf';
/** sysexits EX_NOPERM. */
const EXIT_NO_PERMISSION = 77;

interface SecretArgs {
  action: 'set' | 'rm';
  id: CredentialId;
  from?: string;
}

const say = (m: string) => process.stdout.write(`${m}\n`);
const complain = (m: string) => process.stderr.write(`percept secret: ${m}\n`);

function readSecret(id: CredentialId, from: string | undefined): string {
  if (from === undefined && process.stdin.isTTY) process.stderr.write(`Type the ${id}, then Enter and Ctrl-D:\n`);
  const text = readFileSync(from === undefined || from === '-' ? 0 : from, 'utf8');
  // A password is its first line (as mqtt.passwordFile is read); a PEM key is kept whole.
  const value = id === 'mqtt-password' ? (text.split(/\r?\n/)[0] ?? '') : text;
  if (!value.trim()) throw new Error(`the ${id} read from ${from ?? 'stdin'} is empty`);
  return id === 'mqtt-password' ? `${value}\n` : value;
}

function writeDropIn(): CredentialId[] {
  const present = CREDENTIAL_IDS.filter((id) => existsSync(join(CREDENTIALS_DIR, id)));
  if (!present.length) {
    rmSync(DROP_IN, { force: true });
    return present;
  }
  mkdirSync(dirname(DROP_IN), { recursive: true, mode: 0o755 });
  const lines = present.map((id) => `LoadCredential=${id}:${join(CREDENTIALS_DIR, id)}`);
  const text = `# Written by \`percept secret\`: one line per secret that exists (a missing file would fail the unit).\n[Service]\n${lines.join('\n')}\n`;
  writeFileSync(`${DROP_IN}.new`, text, { mode: 0o644 });
  renameSync(`${DROP_IN}.new`, DROP_IN);
  return present;
}

/** daemon-reload, then a restart if the service runs (try-restart); nothing without systemd. */
function reloadService(): string {
  if (!existsSync('/run/systemd/system')) return 'no systemd running: the service reads it at its next start';
  for (const args of [['daemon-reload'], ['try-restart', 'percept.service']]) {
    const r = spawnSync('systemctl', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`systemctl ${args.join(' ')} failed: ${(r.stderr || String(r.error ?? r.status)).trim()}`);
  }
  return 'percept.service restarted if it was running';
}

export function secretRun(a: SecretArgs): number {
  if (process.getuid?.() !== 0) {
    complain(`${a.action} needs root (the secret and the unit's drop-in are root's): sudo percept secret ${a.action} ${a.id}`);
    return EXIT_NO_PERMISSION;
  }
  try {
    const file = join(CREDENTIALS_DIR, a.id);
    if (a.action === 'set') {
      const value = readSecret(a.id, a.from);
      mkdirSync(CREDENTIALS_DIR, { recursive: true, mode: 0o700 });
      // Written 0600 from the start (never readable by others, even for a moment), then renamed over.
      rmSync(`${file}.new`, { force: true });
      writeFileSync(`${file}.new`, value, { mode: 0o600 });
      renameSync(`${file}.new`, file);
    } else if (!existsSync(file)) {
      complain(`no ${a.id} is set (nothing in ${CREDENTIALS_DIR})`);
      return 1;
    } else {
      rmSync(file);
    }
    const present = writeDropIn();
    say(`${a.id} ${a.action === 'set' ? `stored in ${file} (0600 root)` : 'removed'}; credentials: ${present.join(', ') || 'none'}`);
    say(reloadService());
    return 0;
  } catch (err) {
    complain((err as Error).message);
    return 1;
  }
}

/** The command, registered in main.ts; `setCode` carries the exit code back to the CLI. */
export const secretCommand = (setCode: (c: number) => void): CommandModule<object, SecretArgs> => ({
  command: 'secret <action> <id>',
  describe: 'set or rm the broker password or TLS key the service gets as a systemd credential (root)',
  // The builder's chained .option()/.positional() types are wider than the command's args (a choices
  // list infers as string): the handler gets the args as declared, which yargs enforces at run time.
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['set', 'rm'] as const, demandOption: true })
      .positional('id', { choices: CREDENTIAL_IDS, demandOption: true })
      .option('from', { type: 'string', describe: 'set: read it from this file ("-" or none: stdin)' })
      .example('echo "$PW" | sudo percept secret set mqtt-password', 'the broker password (mqtt.username in the config)')
      .example('sudo percept secret set tls-key --from client.key', 'the TLS client key (mqtt.tls.cert in the config)')
      .example('sudo percept secret rm mqtt-password', '') as unknown as Argv<SecretArgs>,
  handler: (a) => {
    setCode(secretRun(a));
  },
});
