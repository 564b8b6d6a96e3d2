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
    dailySummary: `${root}/summary/daily`,
  };
}

export interface StatusPayload {
  state: 'online' | 'offline';
  reason?: string;
  version?: string;
  model?: string;
  startedAt?: string;
  camera?: 'connecting' | 'ok' | 'lost' | 'paused';
  cameraDetail?: string;
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

/** The box as fractions of the frame, cut to it. */
export function relativeBox(b: { x: number; y: number; w: number; h: number }, frame: { width: number; height: number }) {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const x0 = clamp(b.x / frame.width);
  const y0 = clamp(b.y / frame.height);
  const x1 = clamp((b.x + b.w) / frame.width);
  const y1 = clamp((b.y + b.h) / frame.height);
  return { x: round(x0), y: round(y0), w: round(x1 - x0), h: round(y1 - y0) };
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
    box: relativeBox(ev.box, frame),
    samples: ev.samples,
    model,
  };
  if (ev.attributes.age) payload.age = roundPrediction(ev.attributes.age);
  if (ev.attributes.gender) payload.gender = roundPrediction(ev.attributes.gender);
  if (ev.attributes.emotion) payload.emotion = roundPrediction(ev.attributes.emotion);
  return payload;
}
