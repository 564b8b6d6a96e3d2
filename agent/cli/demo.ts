// percept demo: the agent once through the demo clip, embedded broker, events printed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../capture/opencv.js';
import { PACKAGE_ROOT } from '../inference/default-models.js';
import { DEMO_CLIP, makeClip } from '../capture/demo-clip.js';
import { loadOrReport } from './run.js';
import { superviseAgent } from '../service/supervisor.js';
import type { EventPayload } from '../publish/payloads.js';

export const DEMO_DIR = join(PACKAGE_ROOT, '.cache/demo');
export const DEMO_CLIP_PATH = join(DEMO_DIR, 'demo-clip.avi');

export async function ensureDemoClip(): Promise<string> {
  if (!existsSync(DEMO_CLIP_PATH)) {
    process.stderr.write(`making the demo clip ${DEMO_CLIP_PATH} (${DEMO_CLIP.width}x${DEMO_CLIP.height}, ${DEMO_CLIP.seconds} s)…\n`);
    makeClip(await loadOpenCV(), DEMO_CLIP_PATH);
  }
  return DEMO_CLIP_PATH;
}

/** One readable line per event, above its JSON payload. */
export function describeEvent(p: EventPayload): string {
  const attr = (a?: { label: string; p: number }) => (a ? `${a.label} (${a.p.toFixed(2)})` : '?');
  return (
    `── #${p.seq} ${p.type.padEnd(7)} person ${p.person.slice(0, 8)}  after ${(p.dwellMs / 1000).toFixed(1)} s  ` +
    `age ${attr(p.age)}  ${attr(p.gender)}  ${attr(p.emotion)}  [${p.samples} sample${p.samples === 1 ? '' : 's'}]`
  );
}

export async function demoCommand(): Promise<number> {
  const clip = await ensureDemoClip();
  const loaded = loadOrReport(
    undefined,
    {
      source: { uri: clip },
      state: { dir: join(DEMO_DIR, 'state') },
      device: { id: 'demo' },
      mqtt: { url: '', embeddedPort: 0 },
      log: { format: 'pretty' },
    },
    null,
  );
  if (typeof loaded === 'number') return loaded;
  process.stderr.write('percept demo: people walk through the clip; each prints an "entered" and a "left" event below.\n');
  return superviseAgent(loaded.config, {
    exitOnEof: true,
    onEvent: (p) => {
      process.stdout.write(`${describeEvent(p)}\n${JSON.stringify(p)}\n`);
    },
  });
}
