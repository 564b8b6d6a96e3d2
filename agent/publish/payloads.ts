// Builds the event payload of the MQTT contract (design §4) from a visit event; the schema and the type
// are the contract's (agent/contract/payloads.ts).
import type { VisitEvent } from '../track/visits.js';
import type { Prediction } from '../contract/labels.js';
import type { EventPayload, StatusPayload } from '../contract/payloads.js';
import { CONTRACT_SCHEMA } from '../contract/formats.js';

export { deviceTopics as topics } from '../contract/topics.js';
export type { EventPayload, StatusPayload };

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
    schema: CONTRACT_SCHEMA,
    seq,
    type: ev.type,
    // The contract's ts: when the agent made the message (wall clock), not the frame's media time, which for a
    // file runs at the speed frames are processed and at a stop would stamp a `left` after the process ended.
    ts: new Date().toISOString(),
    device,
    person: ev.person,
    firstSeen: new Date(ev.firstSeen).toISOString(),
    dwellMs: Math.max(0, Math.round(end - ev.firstSeen)),
    box: relativeBox(ev.box, frame),
    samples: ev.samples,
    ...(ev.type === 'left' ? { attention: ev.attention } : {}),
    model,
  };
  // The fused labels are the contract's by construction (fusion works in its label spaces).
  const attrs = ev.attributes as Pick<EventPayload, 'age' | 'gender' | 'emotion'>;
  if (attrs.age) payload.age = roundPrediction(attrs.age);
  if (attrs.gender) payload.gender = roundPrediction(attrs.gender);
  if (attrs.emotion) payload.emotion = roundPrediction(attrs.emotion);
  return payload;
}
