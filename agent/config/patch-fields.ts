// The fields of a config/set request that are not config: requestId (echoed in the result), save (keep
// the change across restarts; default remoteConfig.persist) and dryRun (only evaluate). They are taken
// out of the patch before it is merged.
import type { ConfigIssue } from './errors.js';

export interface RequestFields {
  requestId: string | null;
  save: boolean;
  dryRun: boolean;
}

/** Removes the request fields from `body` (in place); an issue naming the field when one is malformed. */
export function takeRequestFields(body: Record<string, unknown>, persist: boolean): RequestFields | { error: ConfigIssue; requestId: string | null } {
  let requestId: string | null = null;
  if (Object.hasOwn(body, 'requestId')) {
    const id = body.requestId;
    delete body.requestId;
    if (typeof id !== 'string' || id.length > 128) return { error: { path: 'requestId', message: 'must be a string of at most 128 characters' }, requestId };
    requestId = id;
  }
  const { save: saveRaw, dryRun: dryRunRaw } = body;
  delete body.save;
  delete body.dryRun;
  const flag = (name: string, v: unknown, fallback: boolean, meaning: string): boolean | ConfigIssue =>
    v === undefined ? fallback : typeof v === 'boolean' ? v : { path: name, message: `must be ${meaning}` };
  const save = flag('save', saveRaw, persist, 'true (keep across restarts) or false (until the next restart)');
  if (typeof save !== 'boolean') return { error: save, requestId };
  const dryRun = flag('dryRun', dryRunRaw, false, 'true (only check the patch) or false');
  if (typeof dryRun !== 'boolean') return { error: dryRun, requestId };
  return { requestId, save, dryRun };
}
