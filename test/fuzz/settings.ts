/**
 * How hard the fuzz tests try. CI runs every property with a fixed seed and a
 * small number of runs, so a failure reproduces exactly and the whole set stays
 * around a minute on two cores. The longer run (bench/fuzz/run.mjs) sets the
 * environment below: a fresh seed, far more runs, and a time budget per property.
 *
 *   BADGATEWAY_FUZZ_SEED  the seed of every property (default: the fixed CI seed)
 *   BADGATEWAY_FUZZ_RUNS  runs of every property, instead of each one's CI count
 *   BADGATEWAY_FUZZ_MS    stop a property after this many ms, as a pass (fast-check's
 *                         interruptAfterTimeLimit plugin): the bound of a long run
 *   BADGATEWAY_FUZZ_PATH  with the seed, replay one counterexample directly (filter the
 *                         test with `-t`: the path belongs to one property)
 *
 * On a failure fast-check prints the seed, the path of the shrunk counterexample and
 * the input itself; `BADGATEWAY_FUZZ_SEED=<seed> BADGATEWAY_FUZZ_PATH=<path>` replays it.
 */
import fc, { type Parameters as FcParameters } from 'fast-check';

/** Fixed for CI; any value works, changing it only changes which inputs CI tries. */
export const CI_SEED = 20_240_913;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return n;
}

export const seed = envInt('BADGATEWAY_FUZZ_SEED') ?? CI_SEED;
const runsOverride = envInt('BADGATEWAY_FUZZ_RUNS');
const budgetMs = envInt('BADGATEWAY_FUZZ_MS');
const replayPath = process.env.BADGATEWAY_FUZZ_PATH || undefined;

/** In a long run, how many inputs each property got through: the number that says how hard it tried. */
const countRuns: fc.UniversalPlugin = () => ({
  onAllRunsComplete: (details) => {
    if (!details.failed) console.log(`fuzz: ${details.numRuns} runs, seed ${seed}${details.interrupted ? ' (time budget reached)' : ''}`);
  },
});

/**
 * fast-check parameters for a property that makes `ciRuns` runs in CI. `examples` run first,
 * every time: the inputs that once found a bug, so CI keeps checking them whatever the seed.
 */
export function fuzz<T>(ciRuns: number, examples: T[] = []): FcParameters<T> {
  return {
    seed,
    examples,
    numRuns: runsOverride ?? ciRuns,
    ...(replayPath === undefined ? {} : { path: replayPath }),
    ...(budgetMs === undefined ? {} : { plugins: [fc.interruptAfterTimeLimit(budgetMs), countRuns] }),
  };
}

/**
 * The vitest timeout of a property test: its CI allowance, or the long run's
 * budget plus time to shrink a counterexample (shrinking ignores the budget).
 */
export function timeout(ciMs: number): number {
  if (budgetMs !== undefined) return budgetMs + Math.max(ciMs, 120_000);
  if (runsOverride !== undefined) return 24 * 3600_000;
  return ciMs;
}
