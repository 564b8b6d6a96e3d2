// Secrets handed to the service by systemd (LoadCredential=, written by `percept secret set`): the file
// $CREDENTIALS_DIRECTORY/<id>, readable by the service's dynamic user only. Used where the config names
// no file of its own; an explicit config always wins.
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

/** The ids `percept secret` manages and the agent reads. */
export const CREDENTIAL_IDS = ['mqtt-password', 'tls-key'] as const;
export type CredentialId = (typeof CREDENTIAL_IDS)[number];

/** The path of credential `id` when systemd passed one to this process, else ''. */
export function credentialFile(id: CredentialId, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return '';
  const file = join(dir, id);
  return existsSync(file) ? file : '';
}

/** Where `percept secret set` stores the root-only originals (overridable for tests without root's /etc). */
export function storedCredentialsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PERCEPT_CREDENTIALS_DIR ?? '/etc/percept/credentials';
}

/**
 * The stored original of credential `id` when this process can read it (root on the device), else ''. The
 * CLI's device commands (config get/set, watch, content set) use it where the config names no password or
 * key of its own, so they reach a broker that wants the password `percept secret set` stored.
 */
export function storedCredentialFile(id: CredentialId, env: NodeJS.ProcessEnv = process.env): string {
  const file = join(storedCredentialsDir(env), id);
  try {
    accessSync(file, constants.R_OK);
    return file;
  } catch {
    return '';
  }
}
