// percept bench: runs the measurement (bench-run.ts), prints the figures, writes the JSON and the report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STAGES } from '../service/stats.js';
import { runBench, type BenchArgs } from './bench-run.js';
import { renderReport } from './bench-report.js';
import { detectorLines } from './bench-detectors.js';
import { precisionLines } from './bench-precisions.js';
import { benchLiveLines, runBenchLive, type LiveArgs } from './bench-live.js';

export type { BenchArgs };

/** --live: the clip played as a camera (bench-live.ts); --json alone prints the JSON instead of the table. */
async function benchLiveCommand(a: LiveArgs & { json?: string }): Promise<number> {
  const r = await runBenchLive(a);
  if (a.json) writeFileSync(a.json, `${JSON.stringify(r, null, 2)}\n`);
  if (a.json === '') process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else process.stdout.write(`${benchLiveLines(r).join('\n')}\n`);
  return 0;
}

export async function benchCommand(a: BenchArgs & LiveArgs & { live?: boolean }): Promise<number> {
  if (a.live) return benchLiveCommand(a);
  const r = await runBench(a);
  const lines = [
    `percept bench — ${r.source} (${r.frames} frames, ${r.machine.cpus} cores, ${r.machine.node})`,
    `  end to end: ${r.fps} frames/s`,
    ...STAGES.map((s) => `  ${s.padEnd(9)} mean ${r.stages[s].meanMs} ms  p50 ${r.stages[s].p50Ms}  p99 ${r.stages[s].p99Ms}  (n ${r.stages[s].n})`),
    `  frame → entered: p50 ${r.enterLatencyWallMs.p50Ms} ms, p99 ${r.enterLatencyWallMs.p99Ms} ms (wall clock from the confirming frame)`,
    ...detectorLines(r.detectors),
    ...precisionLines(r.precisions),
    ...r.classifier.map((c) => `  classifier batch ${c.batch}: ${c.msPerFace} ms/face (raw session.run ${c.rawMsPerFace}; overhead ×${c.overhead})`),
    `  classifier calls per person: ${r.classifierCallsPerPerson}; per person-second: ${r.visits.classifierCallsPerPersonSecond}; label changes per visit: ${r.visits.labelChangesPerVisit}`,
    `  RSS: ${r.rssMB.start} MB → ${r.rssMB.end} MB${r.soak ? `; soak ${r.soak.durationS} s growth ${r.soak.growthPct} %` : ''}`,
    ...(r.human
      ? [
          r.human.ok
            ? `  Human (${r.human.backend}): ${r.human.fps} frames/s, ${r.human.msPerFace} ms/face → percept ×${r.human.ratio}`
            : `  Human: not run — ${r.human.reason}`,
        ]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (a.json) writeFileSync(a.json, `${JSON.stringify(r, null, 2)}\n`);
  if (a.report) {
    mkdirSync(a.report, { recursive: true });
    const { markdown, svg } = renderReport(r);
    writeFileSync(join(a.report, 'latency.svg'), svg);
    writeFileSync(join(a.report, 'report.md'), markdown);
    process.stdout.write(`report: ${join(a.report, 'report.md')}\n`);
  }
  return 0;
}
