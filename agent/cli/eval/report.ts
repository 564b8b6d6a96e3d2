// What an evaluation prints: a readable table, Markdown for --report, and an SVG confusion matrix per task.
import type { Interval, TaskFigures } from './metrics.js';
import type { EvalResult } from './evaluate.js';

const pct = (v: number) => (Number.isNaN(v) ? '  —  ' : `${(v * 100).toFixed(1)}%`);
export const fmt = (i: Interval) => `${pct(i.value)} [${pct(i.lo)}, ${pct(i.hi)}]`;
const signed = (i: Interval) => {
  const s = (v: number) => (Number.isNaN(v) ? '—' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`);
  return `${s(i.value)} pp [${s(i.lo)}, ${s(i.hi)}]`;
};

function headline(t: TaskFigures): [string, string][] {
  const rows: [string, string][] = [
    ['accuracy', fmt(t.accuracy)],
    ['balanced accuracy', fmt(t.balancedAccuracy)],
  ];
  if (t.withinOne) rows.push(['within one group', fmt(t.withinOne)]);
  return rows;
}

export interface ReportHeader {
  model: string;
  compare?: string;
  data: string;
  format: string;
  crop: string;
}

/** The stdout table: per task the headline figures, recall per class, the confusion matrix and the groups. */
export function textReport(r: EvalResult, h: ReportHeader): string {
  const out: string[] = [`${h.model} on ${h.data} (${h.format}, ${r.images} images, ${h.crop}); 95% bootstrap intervals`];
  for (const t of r.tasks) {
    out.push('', `${t.task}: ${t.n} labelled${t.noAnswer ? `, ${t.noAnswer} without an answer (no face found: counted wrong)` : ''}`);
    for (const [k, v] of headline(t)) out.push(`  ${k.padEnd(20)} ${v}`);
    if (t.compare) {
      out.push(`  ${h.compare ?? 'B'} minus ${h.model}:`);
      out.push(`  ${'accuracy'.padEnd(20)} ${signed(t.compare.accuracy)}   (B: ${fmt(t.compare.b.accuracy)})`);
      out.push(`  ${'balanced accuracy'.padEnd(20)} ${signed(t.compare.balancedAccuracy)}   (B: ${fmt(t.compare.b.balancedAccuracy)})`);
      if (t.compare.withinOne && t.compare.b.withinOne)
        out.push(`  ${'within one group'.padEnd(20)} ${signed(t.compare.withinOne)}   (B: ${fmt(t.compare.b.withinOne)})`);
    }
    out.push('  recall per class:');
    for (const [label, i] of Object.entries(t.recall)) out.push(`    ${label.padEnd(18)} ${fmt(i)}`);
    const w = Math.max(6, ...t.labels.map((l) => l.length)) + 1;
    out.push('  confusion (rows truth, columns prediction):');
    out.push(`    ${''.padEnd(w)}${t.labels.map((l) => l.padStart(w)).join('')}`);
    t.labels.forEach((l, k) => out.push(`    ${l.padEnd(w)}${t.confusion[k]!.map((c) => String(c).padStart(w)).join('')}`));
    const groups = Object.entries(t.groups);
    if (groups.length) {
      out.push('  accuracy per group:');
      for (const [g, v] of groups.sort(([a], [b]) => a.localeCompare(b))) out.push(`    ${g.padEnd(26)} n=${String(v.n).padEnd(6)} ${fmt(v.accuracy)}`);
    }
  }
  return out.join('\n') + '\n';
}

export function markdownReport(r: EvalResult, h: ReportHeader): string {
  const out: string[] = [
    `# ${h.model} on ${h.data}`,
    '',
    `${h.format}, ${r.images} images; ${h.crop}. Figures with 95 % bootstrap intervals (percentile, seeded). A few tens of images give wide intervals.`,
  ];
  for (const t of r.tasks) {
    out.push('', `## ${t.task} (${t.n} labelled${t.noAnswer ? `, ${t.noAnswer} without an answer` : ''})`, '', '| figure | value [95 % CI] |', '|---|---|');
    for (const [k, v] of headline(t)) out.push(`| ${k} | ${v} |`);
    if (t.compare) {
      out.push(`| accuracy, ${h.compare} minus ${h.model} | ${signed(t.compare.accuracy)} |`);
      out.push(`| balanced accuracy, ${h.compare} minus ${h.model} | ${signed(t.compare.balancedAccuracy)} |`);
    }
    for (const [label, i] of Object.entries(t.recall)) out.push(`| recall ${label} | ${fmt(i)} |`);
    const groups = Object.entries(t.groups).sort(([a], [b]) => a.localeCompare(b));
    if (groups.length) {
      out.push('', '| group | n | accuracy [95 % CI] |', '|---|---|---|');
      for (const [g, v] of groups) out.push(`| ${g} | ${v.n} | ${fmt(v.accuracy)} |`);
    }
    out.push('', `![${t.task} confusion matrix](confusion-${t.task}.svg)`);
  }
  return out.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A confusion matrix as SVG: rows truth, columns prediction, each cell shaded by its share of the row. */
export function confusionSvg(t: TaskFigures): string {
  const k = t.labels.length;
  const cell = 44;
  const left = 90;
  const top = 90;
  const size = left + k * cell + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${top + k * cell + 30}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="14" font-size="13">${esc(t.task)}: rows truth, columns prediction</text>`,
  ];
  t.labels.forEach((l, j) => {
    const x = left + j * cell + cell / 2;
    parts.push(`<text transform="translate(${x},${top - 6}) rotate(-45)">${esc(l)}</text>`);
    parts.push(`<text x="${left - 6}" y="${top + j * cell + cell / 2 + 4}" text-anchor="end">${esc(l)}</text>`);
  });
  t.confusion.forEach((row, i) => {
    const total = row.reduce((s, c) => s + c, 0);
    row.forEach((c, j) => {
      const share = total ? c / total : 0;
      const shade = Math.round(255 - share * 200);
      const fill = i === j ? `rgb(${shade},${255},${shade})` : `rgb(255,${shade},${shade})`;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#999"/>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle">${c}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
