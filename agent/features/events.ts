// The agent's event bus: what the data path and the composition root announce, and what features
// listen to. Payloads are plain data; a listener never reaches back into the component that emitted.
import type { EventPayload, ImpressionPayload, OnlineStatus } from '../contract/payloads.js';
import type { AudiencePerson, VisitEvent } from '../track/visits.js';
import type { Mat } from '../capture/opencv.js';
import type { Box } from '../detect/detector.js';
import type { PatchResult } from '../config/remote.js';
import { TypedBus } from '../lib/bus.js';

/** Someone present, as features see them: the visit's labels (arg-max of the fused probabilities), where they look, whether they are lost. */
export type PresentPerson = AudiencePerson;

export interface FrameDone {
  /** Media clock of the frame. */
  ts: number;
  width: number;
  height: number;
  people: PresentPerson[];
  /** Far faces (opportunities to see that open no visit) confirmed since start: a running count. */
  farFaces: number;
  /** The frame itself (BGR), for in-process consumers such as the local preview; absent at the end. */
  mat?: Mat;
  /** The detector's raw faces of the latest pass (before the audience gate), frame pixels; for the preview. */
  detections?: Box[];
}

export interface AgentEvents extends Record<string, unknown> {
  /** A visit event, stored durably with its seq (the payload as published). */
  visit: { event: VisitEvent; payload: EventPayload };
  /** After every processed frame: who is present (media clock `ts`). */
  frame: FrameDone;
  /** A change of the online status fields (camera state, degraded). */
  status: Partial<OnlineStatus>;
  /** Hot keys of the live config changed (remote patch or SIGHUP). */
  config: PatchResult;
  /** A content play ended and its impression record went out. */
  impression: ImpressionPayload;
  /** SIGHUP: re-read the config file. */
  reload: Record<string, never>;
  /**
   * The live config changed outside a patch (a model switch holds or completes): {root}/config must be
   * published again. Only its owner, remote-config, publishes that topic.
   */
  configChanged: { by: string };
}

export type AgentBus = TypedBus<AgentEvents>;

export function createBus(onError: (name: string, err: Error) => void): AgentBus {
  return new TypedBus<AgentEvents>(onError);
}
