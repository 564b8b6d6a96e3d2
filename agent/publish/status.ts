// The retained {root}/status messages. `ts` is stamped when each one is made (the contract's one meaning of
// ts); the last will is the exception: the broker sends it when the connection is gone, at a time the
// agent cannot know when it registers it, so it carries no ts.
import { CONTRACT_SCHEMA } from '../contract/formats.js';
import type { OnlineStatus, StatusPayload } from '../contract/payloads.js';

/** The status as it goes out now: the fields kept so far with a fresh ts. */
export function stamped(status: StatusPayload, now = new Date()): StatusPayload {
  return { ...status, ts: now.toISOString() };
}

/** The offline status of a clean stop. */
export function offlineStatus(device: string, reason: string, now = new Date()): StatusPayload {
  return { schema: CONTRACT_SCHEMA, device, ts: now.toISOString(), state: 'offline', reason };
}

/** The last will: registered at connect, published by the broker when the connection is lost. */
export function lastWill(device: string): StatusPayload {
  return { schema: CONTRACT_SCHEMA, device, state: 'offline', reason: 'connection lost' };
}

/** The online status at start; `camera` is always there (a file source is `ok`: it delivers frames). */
export function onlineStatus(
  fields: Omit<OnlineStatus, 'schema' | 'ts' | 'startedAt' | 'state' | 'camera'> & Partial<Pick<OnlineStatus, 'camera'>>,
): OnlineStatus {
  const now = new Date().toISOString();
  return { schema: CONTRACT_SCHEMA, ts: now, state: 'online', startedAt: now, camera: 'ok', ...fields };
}
