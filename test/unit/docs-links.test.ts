// The README and docs/ link to each other by file and section: a page or heading that moves must not
// leave a reader at a dead link. Every relative link must name a file that exists and, with #anchor, a
// heading of that file (GitHub's anchor rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../agent/lib/package-root.js';

/** GitHub's heading anchor: lower case, punctuation dropped (but - and _), each space a hyphen. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

const pages = [
  join(PACKAGE_ROOT, 'README.md'),
  ...readdirSync(join(PACKAGE_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(PACKAGE_ROOT, 'docs', f)),
];

test('GitHub anchors are made as GitHub makes them', () => {
  assert.equal(slug('Step 5 — secrets'), 'step-5--secrets');
  assert.equal(slug("Tuning a running device (the installer's day)"), 'tuning-a-running-device-the-installers-day');
  assert.equal(slug('Step 6 — check it: `percept doctor`'), 'step-6--check-it-percept-doctor');
});

test('every relative link of the README and docs/ reaches a file, and its #anchor a heading there', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path ? resolve(dirname(page), path) : page;
      if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
      else if (anchor && file.endsWith('.md') && !anchors(file).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});
