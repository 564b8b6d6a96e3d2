// The seeded generator the agent uses (mulberry32): fuzzing and synthetic data get the same cases on
// every machine, so a failure replays.
import { seededRandom } from '../../agent/lib/seeded-random.js';

export const rng = seededRandom;

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
