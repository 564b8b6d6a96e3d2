// The arithmetic of the soak (scripts/soak.ts), kept pure so a unit test can check it: seq contiguity
// as a QoS 1 subscriber sees it, and growth of a sampled figure after a warm-up.

export interface SeqFigures {
  /** Event messages received, duplicates included. */
  received: number;
  distinct: number;
  /** Extra copies of a seq already seen: allowed by QoS 1 (at least once), counted. */
  duplicates: number;
  first: number | null;
  last: number | null;
  /** Seqs missing between `expectedFirst` and the last one seen (or `lastIssued` when known). */
  gaps: number;
  /** The first few missing seqs, to look them up in the agent's log. */
  missingSample: number[];
  /** Times a new seq arrived lower than one already seen (the contract delivers in order). */
  outOfOrder: number;
}

/**
 * `seqs` in arrival order. `expectedFirst` is where a fresh state directory starts; `lastIssued` is the
 * agent's own last seq (its state file) so events never delivered at the tail count as gaps too.
 */
export function seqFigures(seqs: readonly number[], expectedFirst = 1, lastIssued?: number): SeqFigures {
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let highest = -Infinity;
  for (const s of seqs) {
    if (seen.has(s)) {
      duplicates++;
      continue;
    }
    seen.add(s);
    if (s < highest) outOfOrder++;
    highest = Math.max(highest, s);
  }
  const last = seen.size ? highest : null;
  const upTo = Math.max(last ?? expectedFirst - 1, lastIssued ?? -Infinity);
  const missing: number[] = [];
  let gaps = 0;
  for (let s = expectedFirst; s <= upTo; s++) {
    if (seen.has(s)) continue;
    gaps++;
    if (missing.length < 10) missing.push(s);
  }
  return {
    received: seqs.length,
    distinct: seen.size,
    duplicates,
    first: seen.size ? Math.min(...seen) : null,
    last,
    gaps,
    missingSample: missing,
    outOfOrder,
  };
}

export interface Sample {
  /** Seconds since the agent started. */
  t: number;
  value: number;
}

export interface GrowthFigures {
  /** The first sample at or after the warm-up (what growth is measured from). */
  first: number | null;
  last: number | null;
  /** Highest over the whole run, warm-up included. */
  max: number | null;
  /** (last − first) / first × 100, one decimal; null without a sample after the warm-up. */
  growthPct: number | null;
  /** Least-squares slope after the warm-up, per hour: tells a steady leak from one late spike. */
  slopePerHour: number | null;
}

export function growthFigures(samples: readonly Sample[], warmupS: number): GrowthFigures {
  const max = samples.length ? Math.max(...samples.map((s) => s.value)) : null;
  const after = samples.filter((s) => s.t >= warmupS);
  if (!after.length) return { first: null, last: null, max, growthPct: null, slopePerHour: null };
  const first = after[0]!.value;
  const last = after[after.length - 1]!.value;
  const growthPct = first > 0 ? Math.round(((last - first) / first) * 1000) / 10 : null;
  return { first, last, max, growthPct, slopePerHour: slope(after) };
}

function slope(samples: readonly Sample[]): number | null {
  if (samples.length < 2) return null;
  const n = samples.length;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const mv = samples.reduce((a, s) => a + s.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - mt) * (s.value - mv);
    den += (s.t - mt) ** 2;
  }
  return den === 0 ? null : Math.round((num / den) * 3600 * 10) / 10;
}

/** Why the soak failed, empty when it passed: a seq gap, out-of-order delivery, or the agent not alive to the end. */
export function soakProblems(f: { seq: SeqFigures; aliveAtEnd: boolean; exitCode: number | null }): string[] {
  const problems: string[] = [];
  if (f.seq.gaps > 0) problems.push(`${f.seq.gaps} seq gap(s), first missing: ${f.seq.missingSample.join(', ')}`);
  if (f.seq.outOfOrder > 0) problems.push(`${f.seq.outOfOrder} event(s) delivered out of seq order`);
  if (!f.aliveAtEnd) problems.push('the agent died before the end of the soak');
  else if (f.exitCode !== 0) problems.push(`the agent exited ${f.exitCode} on SIGTERM`);
  return problems;
}
