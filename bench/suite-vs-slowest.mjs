#!/usr/bin/env node
/**
 * How well a suite runs its scenarios concurrently: the wall time of the whole
 * built-in nginx suite divided by the time of its slowest scenario run alone,
 * both measured here, in the same run, through the same harness (each run
 * includes starting the chaos side and nginx). Target: at most 1.5x.
 *
 *   node bench/suite-vs-slowest.mjs [--rounds 3] [--runtime process|container]
 *
 * Needs `npm run build` and nginx on PATH (or Docker and the image for --runtime container).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, loadHarness } from './lib/suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(arg('rounds', 3));
const runtime = arg('runtime', 'process');
const TARGET = 1.5;

const mods = await loadHarness('suite-vs-slowest');
const { runSuite, loadSuite } = mods;

const { scenarios, catalogue } = await loadSuite();

async function timed(list) {
  const t0 = performance.now();
  const r = await runSuite({ loaded: { scenarios: list, catalogue }, gateways: ['nginx'], runtime });
  const ms = performance.now() - t0;
  if (r.failed > 0) console.error(`  note: ${r.failed} expectation(s) failed during the measurement`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  console.log(`suite-vs-slowest: ${scenarios.length} scenarios through nginx (${runtime}), ${rounds} rounds`);
  // Each scenario alone, once, to find the slowest few; those are then measured every round.
  const alone = [];
  for (const s of scenarios) alone.push({ id: s.id, ms: await timed([s]) });
  alone.sort((a, b) => b.ms - a.ms);
  const top = alone.slice(0, 3).map((a) => scenarios.find((s) => s.id === a.id));
  const suiteMs = [];
  const slowestMs = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate the two measurements so drift hits both alike.
    suiteMs.push(await timed(scenarios));
    let worst = 0;
    for (const s of top) worst = Math.max(worst, await timed([s]));
    slowestMs.push(worst);
  }
  const W = median(suiteMs);
  const S = median(slowestMs);
  const ratio = W / S;
  const sumAlone = alone.reduce((n, a) => n + a.ms, 0);
  console.log('');
  console.log('  slowest scenarios, each run alone (first pass):');
  for (const a of alone.slice(0, 5)) console.log(`    ${a.id.padEnd(30)} ${a.ms.toFixed(0).padStart(6)} ms`);
  console.log('');
  console.log(`  whole suite, median of ${rounds}:            ${W.toFixed(0).padStart(6)} ms   (rounds: ${suiteMs.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  slowest scenario alone, median of ${rounds}:  ${S.toFixed(0).padStart(6)} ms   (rounds: ${slowestMs.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  every scenario alone, one after another:   ${sumAlone.toFixed(0).padStart(6)} ms`);
  console.log('');
  console.log(`  suite / slowest = ${ratio.toFixed(2)}x   (target <= ${TARGET}x: ${ratio <= TARGET ? 'met' : 'NOT met'})`);
  console.log(`  sequential / suite = ${(sumAlone / W).toFixed(1)}x faster than running scenarios one by one`);
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(
    join(here, 'results', 'suite-vs-slowest.json'),
    JSON.stringify({ runtime, rounds, scenarios: scenarios.length, suiteMs, slowestMs, ratio, target: TARGET, alone }, null, 2),
  );
} catch (err) {
  console.error(`suite-vs-slowest: ${err.message}`);
  process.exit(1);
}
