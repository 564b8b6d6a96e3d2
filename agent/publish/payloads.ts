// Topic names and payloads of the MQTT contract (design §4), built in one place.
import type { VisitEvent } from '../track/visits.js';
import type { Prediction } from '../classify/labels.js';

export const EVENT_SCHEMA = 1;

export function topics(prefix: string, device: string) {
  const root = `${prefix}/${device}`;
  return {
    root,
    status: `${root}/status`,
    event: (type: string) => `${root}/events/${type}`,
    audience: `${root}/audience`,
    stats: `${root}/stats`,
  };
}

export interface StatusPayload {
  state: 'online' | 'offline';
  reason?: string;
  version?: string;
  model?: string;
  startedAt?: string;
}

export interface EventPayload {
  schema: number;
  seq: number;
  type: VisitEvent['type'];
  ts: string;
  device: string;
  person: string;
  firstSeen: string;
  dwellMs: number;
  box: { x: number; y: number; w: number; h: number };
  age?: Prediction & { years?: number };
  gender?: Prediction;
  emotion?: Prediction;
  samples: number;
  model: string;
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

function roundPrediction<P extends Prediction>(p: P): P {
  return { ...p, p: round(p.p), probs: Object.fromEntries(Object.entries(p.probs).map(([k, v]) => [k, round(v)])) };
}

export function eventPayload(ev: VisitEvent, seq: number, device: string, model: string, frame: { width: number; height: number }): EventPayload {
  const end = ev.type === 'left' ? ev.lastSeen : ev.ts;
  const payload: EventPayload = {
    schema: EVENT_SCHEMA,
    seq,
    type: ev.type,
    ts: new Date(ev.ts).toISOString(),
    device,
    person: ev.person,
    firstSeen: new Date(ev.firstSeen).toISOString(),
    dwellMs: Math.max(0, Math.round(end - ev.firstSeen)),
    box: {
      x: round(ev.box.x / frame.width), y: round(ev.box.y / frame.height),
      w: round(ev.box.w / frame.width), h: round(ev.box.h / frame.height),
    },
    samples: ev.samples,
    model,
  };
  if (ev.attributes.age) payload.age = roundPrediction(ev.attributes.age);
  if (ev.attributes.gender) payload.gender = roundPrediction(ev.attributes.gender);
  if (ev.attributes.emotion) payload.emotion = roundPrediction(ev.attributes.emotion);
  return payload;
}
