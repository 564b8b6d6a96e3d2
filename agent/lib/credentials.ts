// Secrets handed to the service by systemd (LoadCredential=, written by `percept secret set`): the file
// $CREDENTIALS_DIRECTORY/<id>, readable by the service's dynamic user only. Used where the config names
// no file of its own; an explicit config always wins.
import { existsSync } from 'node:fs';
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
