#!/usr/bin/env node
/**
 * The long fuzz run: the properties of test/fuzz/*.test.ts (which CI runs with a fixed seed and a
 * few hundred inputs each), with a fresh seed and as many inputs as fit in the time given. The time
 * is split evenly between the properties, which run one file at a time so they do not compete for
 * the cores. Each property prints how many inputs it got through.
 *
 *   node bench/fuzz/run.mjs [--minutes 5] [--seed N] [--only request-head]
 *
 * Unlike the benchmarks next to it, this is a test: it exits 1 when a property fails, after
 * printing the seed and path that replay the failure. It needs the dev dependencies (vitest,
 * fast-check), not a build. `npm run bench` does not run it (it lives in a subfolder).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fuzzDir = join(root, 'test', 'fuzz');

function usage(code) {
  console.log(`usage: node bench/fuzz/run.mjs [--minutes M] [--seed N] [--only NAME]

  --minutes M   total time for all properties (default 5); shrinking a failure adds to it
  --seed N      the seed of every property (default: a random one, printed)
  --only NAME   only the test files whose name contains NAME (e.g. dns, control-api)`);
  process.exit(code);
}

const opts = { minutes: 5, seed: undefined, only: undefined };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const v = args[++i];
    if (v === undefined) {
      console.error(`${a} needs a value`);
      usage(2);
    }
    return v;
  };
  if (a === '--help' || a === '-h') usage(0);
  else if (a === '--minutes') opts.minutes = Number(value());
  else if (a === '--seed') opts.seed = Number(value());
  else if (a === '--only') opts.only = value();
  else {
    console.error(`unknown option ${a}`);
    usage(2);
  }
}
if (!(opts.minutes > 0)) {
  console.error('--minutes must be a positive number, e.g. --minutes 5');
  process.exit(2);
}
if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) {
  console.error('--seed must be an integer, e.g. --seed 12345');
  process.exit(2);
}

const vitest = join(root, 'node_modules', '.bin', 'vitest');
if (!existsSync(vitest)) {
  console.error('vitest is not installed: run `npm ci` first (the fuzz run needs the dev dependencies).');
  process.exit(1);
}

const files = readdirSync(fuzzDir)
  .filter((f) => f.endsWith('.test.ts') && (opts.only === undefined || f.includes(opts.only)))
  .sort();
if (files.length === 0) {
  console.error(`no fuzz test file in test/fuzz matches "${opts.only}"`);
  process.exit(2);
}
// Each fc.assert is one property; the budget is per property, so count them.
const properties = files.reduce((n, f) => n + (readFileSync(join(fuzzDir, f), 'utf8').match(/\bfc\.assert\(/g) ?? []).length, 0);
const seed = opts.seed ?? randomInt(0, 2 ** 31);
const budgetMs = Math.max(1000, Math.floor((opts.minutes * 60_000) / Math.max(1, properties)));

console.log(`fuzz: seed ${seed}, ${properties} properties in ${files.length} files, ${(budgetMs / 1000).toFixed(1)} s each (${opts.minutes} min in all)`);
const started = performance.now();
const child = spawn(vitest, ['run', ...files.map((f) => join('test', 'fuzz', f)), '--no-file-parallelism'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    BADGATEWAY_FUZZ_SEED: String(seed),
    BADGATEWAY_FUZZ_MS: String(budgetMs),
    // As many runs as the budget allows: the budget, not the count, ends each property.
    BADGATEWAY_FUZZ_RUNS: String(Number.MAX_SAFE_INTEGER),
  },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const [code, signal] = await once(child, 'exit');
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
if (code === 0) {
  console.log(`fuzz: nothing found in ${minutes} min (seed ${seed})`);
  process.exit(0);
}
console.log(
  `fuzz: ${signal ? `stopped by ${signal}` : 'a property failed'} after ${minutes} min (seed ${seed}).\n` +
    `Replay a failure: BADGATEWAY_FUZZ_SEED=${seed} BADGATEWAY_FUZZ_PATH=<path from the report> npx vitest run test/fuzz/<file> -t '<test name>'`,
);
process.exit(1);
