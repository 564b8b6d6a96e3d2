// Compares the events of one clip run on two machines (x86 and emulated arm64, scripts/arm64/run.sh):
// the same visits (count, order, the side each came in and left by), the same labels and every
// probability within a tolerance. Person ids are random per run, so visits are matched in the order
// they started. Exit 0 when they agree, 1 with every difference named.
//
//   node dist/scripts/arm64/compare-events.js [--tolerance 0.02] A.jsonl B.jsonl
import { readFileSync } from 'node:fs';

interface Prediction {
  label: string;
  p: number;
  probs: Record<string, number>;
}
interface Event {
  type: string;
  person: string;
  dwellMs: number;
  samples: number;
  box: { x: number; w: number };
  age?: Prediction;
  gender?: Prediction;
  emotion?: Prediction;
}
const ATTRIBUTES = ['age', 'gender', 'emotion'] as const;

export interface Comparison {
  ok: boolean;
  /** The largest probability difference seen, over every event and attribute. */
  maxDiff: number;
  lines: string[];
}

export function readEvents(path: string): Event[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"person"'))
    .map((l) => JSON.parse(l) as Event);
}

/** Each visit's events in order, visits ordered by their first event. */
function visits(events: Event[]): Event[][] {
  const byPerson = new Map<string, Event[]>();
  for (const e of events) byPerson.set(e.person, [...(byPerson.get(e.person) ?? []), e]);
  return [...byPerson.values()];
}

const side = (e: Event) => (e.box.x + e.box.w / 2 < 0.5 ? 'left' : 'right');
const describe = (v: Event[]) => v.map((e) => `${e.type}@${side(e)}`).join(' ');

export function compareEvents(a: Event[], b: Event[], tolerance: number): Comparison {
  const lines: string[] = [];
  let ok = true;
  let maxDiff = 0;
  const fail = (msg: string) => {
    ok = false;
    lines.push(`DIFF ${msg}`);
  };
  const va = visits(a);
  const vb = visits(b);
  lines.push(`visits: ${va.length} vs ${vb.length}; events: ${a.length} vs ${b.length}`);
  if (va.length !== vb.length) fail(`visit count ${va.length} ≠ ${vb.length}`);
  for (let i = 0; i < Math.min(va.length, vb.length); i++) {
    const [x, y] = [va[i]!, vb[i]!];
    lines.push(`visit ${i + 1}: ${describe(x)}  |  ${describe(y)}`);
    if (describe(x) !== describe(y)) fail(`visit ${i + 1}: events and sides ${describe(x)} ≠ ${describe(y)}`);
    for (let j = 0; j < Math.min(x.length, y.length); j++) {
      const [ex, ey] = [x[j]!, y[j]!];
      const where = `visit ${i + 1} ${ex.type}`;
      // Video time, not wall time: a frame's difference (100 ms at the clip's 10 fps) is one frame late.
      lines.push(`  ${where}: dwell ${ex.dwellMs} vs ${ey.dwellMs} ms, samples ${ex.samples} vs ${ey.samples}`);
      for (const k of ATTRIBUTES) {
        const [px, py] = [ex[k], ey[k]];
        if (!px || !py) {
          if (px || py) fail(`${where} ${k}: present on one side only`);
          continue;
        }
        const keys = new Set([...Object.keys(px.probs), ...Object.keys(py.probs)]);
        const diff = Math.max(...[...keys].map((c) => Math.abs((px.probs[c] ?? 0) - (py.probs[c] ?? 0))));
        maxDiff = Math.max(maxDiff, diff);
        lines.push(`    ${k}: ${px.label} ${px.p.toFixed(4)} vs ${py.label} ${py.p.toFixed(4)}, largest difference ${diff.toFixed(4)}`);
        if (diff > tolerance) fail(`${where} ${k}: a probability differs by ${diff.toFixed(4)} > ${tolerance}`);
        // Within the tolerance a different label is a near tie that rounding decided, said but not failed.
        if (px.label !== py.label && diff <= tolerance) lines.push(`    ${k}: near tie, labels ${px.label} and ${py.label}`);
        else if (px.label !== py.label) fail(`${where} ${k}: label ${px.label} ≠ ${py.label}`);
      }
    }
  }
  lines.push(`${ok ? 'SAME' : 'DIFFERENT'}: largest probability difference ${maxDiff.toFixed(4)} (tolerance ${tolerance})`);
  return { ok, maxDiff, lines };
}

function main(argv: string[]): number {
  let tolerance = 0.02;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tolerance') tolerance = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  if (files.length !== 2 || !(tolerance >= 0)) {
    process.stderr.write('usage: compare-events.js [--tolerance 0.02] A.jsonl B.jsonl\n');
    return 64;
  }
  const r = compareEvents(readEvents(files[0]!), readEvents(files[1]!), tolerance);
  process.stdout.write(`${r.lines.join('\n')}\n`);
  return r.ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
