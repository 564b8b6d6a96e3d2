// The agent's event bus: what the data path and the composition root announce, and what features
// listen to. Payloads are plain data; a listener never reaches back into the component that emitted.
import type { EventPayload, OnlineStatus } from '../contract/payloads.js';
import type { AudiencePerson, VisitEvent } from '../track/visits.js';
import type { PatchResult } from '../config/remote.js';
import { TypedBus } from '../lib/bus.js';

export interface AgentEvents extends Record<string, unknown> {
  /** A visit event, stored durably with its seq (the payload as published). */
  visit: { event: VisitEvent; payload: EventPayload };
  /** After every processed frame: who is present (media clock `ts`). */
  frame: { ts: number; width: number; height: number; people: AudiencePerson[] };
  /** A change of the online status fields (camera state, degraded). */
  status: Partial<OnlineStatus>;
  /** Hot keys of the live config changed (remote patch or SIGHUP). */
  config: PatchResult;
  /** SIGHUP: re-read the config file. */
  reload: Record<string, never>;
}

export type AgentBus = TypedBus<AgentEvents>;

export function createBus(onError: (name: string, err: Error) => void): AgentBus {
  return new TypedBus<AgentEvents>(onError);
}
