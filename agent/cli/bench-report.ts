// The benchmark's Markdown report and its plot. The plot is a small hand-written SVG (two panels of
// line series): a plotting library (vega, plotly) would add tens of MB and a headless renderer for two
// charts a person reads once.
import { STAGES, type Stage } from '../service/stats.js';
import type { BenchResult } from './bench-run.js';

const COLOURS: Record<string, string> = { capture: '#1f77b4', detect: '#d62728', track: '#2ca02c', classify: '#9467bd', publish: '#ff7f0e', fps: '#333333' };

function panel(x0: number, y0: number, w: number, h: number, title: string, series: { name: string; points: [number, number][] }[]): string {
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map((p) => p[0]));
  const maxY = Math.max(1, ...all.map((p) => p[1])) * 1.1;
  const sx = (x: number) => x0 + (x / maxX) * w;
  const sy = (y: number) => y0 + h - (y / maxY) * h;
  const lines = series.map(
    (s) =>
      `<polyline fill="none" stroke="${COLOURS[s.name] ?? '#000'}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
  );
  const legend = series.map((s, i) => `<text x="${x0 + w - 90}" y="${y0 + 14 + i * 14}" font-size="11" fill="${COLOURS[s.name] ?? '#000'}">${s.name}</text>`);
  const ticks = [0, 0.5, 1].map(
    (f) => `<text x="${x0 - 6}" y="${sy((maxY * f) / 1.1) + 4}" font-size="10" text-anchor="end">${((maxY * f) / 1.1).toFixed(0)}</text>`,
  );
  return [
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
    `<text x="${x0}" y="${y0 - 6}" font-size="12" font-weight="bold">${title}</text>`,
    `<text x="${x0 + w}" y="${y0 + h + 14}" font-size="10" text-anchor="end">${maxX.toFixed(0)} s</text>`,
    ...ticks,
    ...lines,
    ...legend,
  ].join('\n');
}

export function renderReport(r: BenchResult): { markdown: string; svg: string } {
  const tl = r.timeline;
  const svg = [
    '<svg xmlns="http://www.w3.org/2000/svg" width="720" height="460" font-family="sans-serif">',
    '<rect width="100%" height="100%" fill="white"/>',
    panel(
      60,
      30,
      620,
      170,
      'Mean latency per stage (ms), 1 s windows',
      STAGES.map((s) => ({ name: s, points: tl.map((p) => [p.t, p.stages[s] ?? 0] as [number, number]) })),
    ),
    panel(60, 260, 620, 170, 'Frames per second', [{ name: 'fps', points: tl.map((p) => [p.t, p.fps] as [number, number]) }]),
    '</svg>',
  ].join('\n');
  const row = (s: Stage) => `| ${s} | ${r.stages[s].n} | ${r.stages[s].meanMs} | ${r.stages[s].p50Ms} | ${r.stages[s].p99Ms} |`;
  const markdown = `# percept benchmark

${r.startedAt} · ${r.source} · ${r.machine.cpus} cores · Node ${r.machine.node}

**${r.fps} frames/s end to end** (${r.frames} frames in ${r.wallS} s, every frame processed).

| stage | n | mean ms | p50 ms | p99 ms |
|---|---|---|---|---|
${STAGES.map(row).join('\n')}

Frame → \`entered\`: p50 ${r.enterLatencyWallMs.p50Ms} ms, p99 ${r.enterLatencyWallMs.p99Ms} ms.

Detectors on the same clip (capture + detect + track, every frame):

| detector | input | detect mean ms | p50 | p99 | faces found | frames with faces | people | frames/s |
|---|---|---|---|---|---|---|---|---|
${r.detectors.map((d) => `| ${d.name} | ${d.input} | ${d.detect.meanMs} | ${d.detect.p50Ms} | ${d.detect.p99Ms} | ${d.faces} | ${d.framesWithFaces}/${d.frames} | ${d.people} | ${d.fps} |`).join('\n')}

| classifier batch | ms/face (agent) | ms/face (raw session.run) | overhead |
|---|---|---|---|
${r.classifier.map((c) => `| ${c.batch} | ${c.msPerFace} | ${c.rawMsPerFace} | ×${c.overhead} |`).join('\n')}

Classifier calls per person: ${r.classifierCallsPerPerson} (per person-second ${r.visits.classifierCallsPerPersonSecond}); label changes per visit: ${r.visits.labelChangesPerVisit}.

RSS ${r.rssMB.start} MB → ${r.rssMB.end} MB${r.soak ? `; soak of ${r.soak.durationS} s: growth ${r.soak.growthPct} % (${r.soak.rss.map((x) => `${x.t}s ${x.rssMB}`).join(', ')})` : ''}.

${r.human ? (r.human.ok ? `Human (${r.human.backend}): ${r.human.fps} frames/s, ${r.human.msPerFace} ms/face over ${r.human.frames} frames → percept is ×${r.human.ratio} faster.` : `Human: not run — ${r.human.reason}`) : ''}

![latency and frames/s over time](latency.svg)
`;
  return { markdown, svg };
}
