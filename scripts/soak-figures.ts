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

/** What the soak tolerates after its warm-up (issue 20, "Also owed"). */
export const SOAK_LIMITS = { rssGrowthPct: 5, fdGrowth: 0 } as const;

export interface SteadyGrowth {
  /** Median of the first `window` samples at or after the warm-up. */
  baseline: number | null;
  /** Median of the last `window` samples. */
  final: number | null;
  /** final − baseline. */
  delta: number | null;
  /** delta / baseline × 100, one decimal. */
  growthPct: number | null;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Growth judged on medians of a few samples at each end, not on two single samples: one sample taken
 * while a file is open or just before a garbage collection must not pass or fail the soak; a leak moves
 * the whole tail. Fewer than `window` samples after the warm-up: medians of what there is.
 */
export function steadyGrowth(samples: readonly Sample[], warmupS: number, window = 6): SteadyGrowth {
  const after = samples.filter((s) => s.t >= warmupS).map((s) => s.value);
  if (!after.length) return { baseline: null, final: null, delta: null, growthPct: null };
  const w = Math.max(1, Math.min(window, Math.floor(after.length / 2) || 1));
  const baseline = median(after.slice(0, w));
  const final = median(after.slice(-w));
  const delta = final - baseline;
  return { baseline, final, delta, growthPct: baseline > 0 ? Math.round((delta / baseline) * 1000) / 10 : null };
}

export interface ConfigAnswers {
  sent: number;
  /** Answered with ok: true and the toggled key among `applied`. */
  applied: number;
  /** Answered, but refused or without the key applied: the first few, with why. */
  wrong: string[];
  /** Sent and never answered (by requestId). */
  unanswered: string[];
}

/** Pairs each config/set the soak sent with its config/result by requestId. */
export function configAnswers(
  sent: readonly string[],
  results: readonly { requestId: string | null; ok: boolean; applied: readonly string[]; errors: readonly { path: string; message: string }[] }[],
  key: string,
): ConfigAnswers {
  const byId = new Map(results.filter((r) => r.requestId !== null).map((r) => [r.requestId!, r]));
  const out: ConfigAnswers = { sent: sent.length, applied: 0, wrong: [], unanswered: [] };
  for (const id of sent) {
    const r = byId.get(id);
    if (!r) out.unanswered.push(id);
    else if (r.ok && r.applied.includes(key)) out.applied++;
    else out.wrong.push(`${id}: ${r.ok ? `${key} not applied` : r.errors.map((e) => `${e.path} ${e.message}`).join(', ')}`);
  }
  return out;
}

export interface SoakOutcome {
  seq: SeqFigures;
  aliveAtEnd: boolean;
  exitCode: number | null;
  /** The agent's own RSS (kB) and that of the agent with its capture process. */
  rss?: SteadyGrowth;
  treeRss?: SteadyGrowth;
  fds?: SteadyGrowth;
  config?: ConfigAnswers;
  /** Plays the soak started; every one ends in an impression, received or still in the record outbox. */
  plays?: { started: number; impressions: number; recordsLeft: number };
  /** Messages that did not match their generated schema: how many, and the first few problems. */
  wireInvalid?: { count: number; sample: readonly string[] };
}

/**
 * Why the soak failed, empty when it passed: a seq gap, out-of-order delivery, the agent not alive to the
 * end or a bad exit, RSS growth beyond SOAK_LIMITS, fd growth, a config/set not answered (or refused),
 * a play without its impression, a message off its schema.
 */
export function soakProblems(f: SoakOutcome): string[] {
  const problems: string[] = [];
  if (f.seq.gaps > 0) problems.push(`${f.seq.gaps} seq gap(s), first missing: ${f.seq.missingSample.join(', ')}`);
  if (f.seq.outOfOrder > 0) problems.push(`${f.seq.outOfOrder} event(s) delivered out of seq order`);
  if (!f.aliveAtEnd) problems.push('the agent died before the end of the soak');
  else if (f.exitCode !== 0) problems.push(`the agent exited ${f.exitCode} on SIGTERM`);
  for (const [what, g] of [
    ['agent RSS', f.rss],
    ['agent + capture RSS', f.treeRss],
  ] as const) {
    if (g?.growthPct != null && g.growthPct > SOAK_LIMITS.rssGrowthPct) {
      problems.push(`${what} grew ${g.growthPct} % after the warm-up (limit ${SOAK_LIMITS.rssGrowthPct} %)`);
    }
  }
  if (f.fds?.delta != null && f.fds.delta > SOAK_LIMITS.fdGrowth) problems.push(`open fds grew by ${f.fds.delta} after the warm-up`);
  if (f.config) {
    if (f.config.unanswered.length) problems.push(`${f.config.unanswered.length} config/set never answered: ${f.config.unanswered.slice(0, 5).join(', ')}`);
    if (f.config.wrong.length) problems.push(`${f.config.wrong.length} config/set not applied: ${f.config.wrong.slice(0, 3).join('; ')}`);
  }
  if (f.plays && f.plays.impressions + f.plays.recordsLeft < f.plays.started) {
    problems.push(`${f.plays.started} plays started but ${f.plays.impressions} impressions received and ${f.plays.recordsLeft} left in the record outbox`);
  }
  if (f.wireInvalid?.count) problems.push(`${f.wireInvalid.count} message(s) off their schema: ${f.wireInvalid.sample.slice(0, 3).join('; ')}`);
  return problems;
}
