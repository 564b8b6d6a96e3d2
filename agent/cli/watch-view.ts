// percept watch, the pure part: MQTT messages fold into a WatchState, and a WatchState renders to at
// most `width` columns of text. No I/O here, so the screen is tested line by line.
import type { AudiencePayload, EventPayload, StatusPayload } from '../contract/payloads.js';
import { escapeControls } from '../lib/logging.js';

export const MAX_EVENTS = 8;

export interface StatsView {
  fps: number;
  stages: Record<string, { meanMs: number; p50Ms: number }>;
  classifyQueue?: { depth: number; dropped: number };
  receivedAt: number;
}

export interface WatchState {
  device: string;
  url: string;
  /** The broker connection: 'connected', or what is wrong with it. */
  broker: string;
  status: StatusPayload | null;
  stats: StatsView | null;
  audience: (AudiencePayload & { receivedAt: number }) | null;
  events: EventPayload[];
}

export type WatchKind = 'status' | 'stats' | 'audience' | 'event';

export function emptyState(device: string, url: string): WatchState {
  return { device, url, broker: 'connecting…', status: null, stats: null, audience: null, events: [] };
}

/** Folds one message into the state (a repeated seq — a QoS 1 duplicate — is ignored). */
export function reduce(s: WatchState, kind: WatchKind, payload: unknown, now: number): WatchState {
  switch (kind) {
    case 'status':
      return { ...s, status: payload as StatusPayload };
    case 'stats': {
      const p = payload as StatsView;
      return { ...s, stats: { fps: p.fps, stages: p.stages, classifyQueue: p.classifyQueue, receivedAt: now } };
    }
    case 'audience':
      return { ...s, audience: { ...(payload as AudiencePayload), receivedAt: now } };
    case 'event': {
      const e = payload as EventPayload;
      if (s.events.some((x) => x.seq === e.seq)) return s;
      return { ...s, events: [...s.events, e].sort((a, b) => a.seq - b.seq).slice(-MAX_EVENTS) };
    }
  }
}

const clip = (line: string, width: number) => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
const pad = (v: string, n: number) => (v.length >= n ? v.slice(0, n) : v + ' '.repeat(n - v.length));
const shortId = (person: string) => person.slice(0, 8);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export function formatDwell(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function labels(p: { age?: string; gender?: string; emotion?: string; confidence?: Record<string, number> }): string {
  const part = (task: 'gender' | 'age' | 'emotion') => {
    const l = p[task];
    if (!l) return '';
    const c = p.confidence?.[task];
    return c === undefined ? l : `${l} ${c.toFixed(2)}`;
  };
  return [part('gender'), part('age'), part('emotion')].filter(Boolean).join('  ') || '(not classified yet)';
}

function eventLabels(e: EventPayload): string {
  return [e.gender?.label, e.age?.label, e.emotion?.label].filter(Boolean).join(' ');
}

function statusLine(s: WatchState): string {
  const st = s.status;
  if (!st) return 'status   (no status yet: is the agent running with this device id?)';
  if (st.state === 'offline') return `status   OFFLINE${st.reason ? ` (${st.reason})` : ''}`;
  const camera = st.camera ? `  camera ${st.camera}${st.cameraDetail ? ` (${st.cameraDetail})` : ''}` : '';
  return `status   online  v${st.version}${camera}${st.degraded ? `  DEGRADED: ${st.degraded}` : ''}`;
}

function statsLine(s: WatchState, now: number): string {
  const st = s.stats;
  if (!st) return 'fps      (no stats yet; they come every mqtt.statsIntervalS)';
  const stages = ['detect', 'classify', 'track', 'publish']
    .flatMap((k) => {
      const p50 = st.stages[k]?.p50Ms;
      return p50 === undefined ? [] : [`${k} ${p50.toFixed(p50 < 10 ? 1 : 0)}`];
    })
    .join('  ');
  const age = Math.round((now - st.receivedAt) / 1000);
  return `fps ${st.fps.toFixed(1).padStart(4)}  ${stages} ms p50  (${age}s ago)`;
}

/** The screen: every line at most `width` columns. `now` is the wall clock, for dwell and ages. */
export function render(s: WatchState, now: number, width = 80): string[] {
  const lines: string[] = [];
  const title = `percept watch · ${s.device} · ${s.url}`;
  lines.push(`${pad(title, width - 9)} ${clock(now)}`);
  lines.push('─'.repeat(width));
  if (s.broker !== 'connected') lines.push(`broker   ${s.broker}`);
  lines.push(statusLine(s));
  if (s.status?.state === 'online') lines.push(`model    ${s.status.model}`);
  lines.push(statsLine(s, now));
  lines.push('');
  const a = s.audience;
  const people = a?.people ?? [];
  lines.push(`people   ${a ? people.length : '(no audience snapshot yet)'}`);
  for (const p of people.slice(0, 6)) {
    const dwell = p.dwellMs + (now - a!.receivedAt);
    lines.push(`  ${pad(shortId(p.person), 9)} ${pad(formatDwell(dwell), 7)} ${labels(p)}`);
  }
  if (people.length > 6) lines.push(`  … and ${people.length - 6} more`);
  lines.push('');
  lines.push('last events');
  if (!s.events.length) lines.push('  (none yet)');
  for (const e of [...s.events].reverse()) {
    const dwell = e.type === 'left' ? `after ${formatDwell(e.dwellMs)}` : '';
    lines.push(
      `  ${clock(Date.parse(e.ts))} #${pad(String(e.seq), 5)} ${pad(e.type, 7)} ${pad(shortId(e.person), 9)} ${pad(eventLabels(e), 26)} ${dwell}`.trimEnd(),
    );
  }
  lines.push('');
  lines.push('Ctrl-C quits');
  // Every string on screen came from the broker, where anyone allowed to publish can forge a payload:
  // a control sequence in it would move the cursor, clear the screen or fake a line.
  return lines.map((l) => clip(escapeControls(l), width));
}

/** ANSI: cursor home, the lines each cleared to their end, then the rest of the screen cleared. */
export function frame(lines: string[]): string {
  return `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`;
}
