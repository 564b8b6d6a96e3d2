// How doctor's lines are shown: a table an installer reads (a fix under every line that is not ok), or
// JSON for a fleet tool.
import { exitCodeOf, type Line, type Status } from './check.js';

export const label = (id: string): string => id.replaceAll('.', ' ');

const STATUSES: Status[] = ['ok', 'warn', 'fail', 'skip'];

export function counts(lines: Line[]): Record<Status, number> {
  const c = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const l of lines) c[l.status]++;
  return c;
}

export function table(lines: Line[]): string {
  const width = Math.max(5, ...lines.map((l) => label(l.id).length)) + 2;
  const pad = (s: string, n: number) => s.padEnd(n);
  const out = [`${pad('CHECK', width)}${pad('STATUS', 8)}DETAIL`];
  for (const l of lines) {
    out.push(`${pad(label(l.id), width)}${pad(l.status, 8)}${l.detail}`);
    if (l.status !== 'ok' && l.fix) out.push(`${' '.repeat(width + 8)}fix: ${l.fix}`);
  }
  const c = counts(lines);
  const code = exitCodeOf(lines);
  const verdict = code
    ? `${c.fail} thing${c.fail > 1 ? 's' : ''} the configuration asks for ${c.fail > 1 ? 'do' : 'does'} not work`
    : 'everything the configuration asks for works';
  out.push('', `${STATUSES.map((s) => `${c[s]} ${s}`).join(', ')}: ${verdict} (exit ${code})`);
  return `${out.join('\n')}\n`;
}

export function json(lines: Line[], configFile: string | null): string {
  const code = exitCodeOf(lines);
  return `${JSON.stringify({ exitCode: code, config: configFile, counts: counts(lines), checks: lines }, null, 2)}\n`;
}
