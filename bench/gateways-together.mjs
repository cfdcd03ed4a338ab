#!/usr/bin/env node
/**
 * One suite, many gateways: the wall time of the built-in suite through several
 * gateways in one run (`--gateway nginx,haproxy,caddy,apache`) against, in the same
 * run, each gateway's suite alone: the slowest one (the floor for running them
 * together) and their sum (running them one after another). Rounds alternate
 * the order so that drift on the machine hits both sides. Target: together at
 * most 1.5x the slowest alone. It also prints the longest event-loop stall
 * while the gateways run together: the loop that times the faults' delays.
 *
 *   node bench/gateways-together.mjs [--rounds 3] [--gateways nginx,haproxy,caddy,apache] [--runtime process]
 *
 * Needs `npm run build` and the gateways on PATH (or Docker and their images for --runtime container).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, loadHarness } from './lib/suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(arg('rounds', 3));
const runtime = arg('runtime', 'process');
const ids = arg('gateways', 'nginx,haproxy,caddy,apache').split(',');
const TARGET = 1.5;

const mods = await loadHarness('gateways-together');
const { runSuite, loadSuite, gateways: known } = mods;

const unknown = ids.filter((id) => !known.some((g) => g.id === id));
if (unknown.length) {
  console.error(`gateways-together: unknown gateway ${unknown.join(', ')}; known: ${known.map((g) => g.id).join(', ')}`);
  process.exit(1);
}
const gateways = ids;
const loaded = await loadSuite();
const scenarios = loaded.scenarios;

async function timed(list, stalls) {
  const h = stalls ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
  h?.enable();
  const t0 = performance.now();
  const r = await runSuite({ loaded, gateways: list, runtime });
  const ms = performance.now() - t0;
  h?.disable();
  if (h) stalls.push(h.max / 1e6);
  if (r.failed > 0) console.error(`  note: ${r.failed} expectation(s) failed during the measurement`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

try {
  console.log(`gateways-together: ${scenarios.length} scenarios through ${ids.join(', ')} (${runtime}), ${rounds} rounds`);
  const rows = [];
  const stalls = [];
  for (let round = 1; round <= rounds; round++) {
    let together;
    const alone = {};
    const measureAlone = async () => {
      for (const g of gateways) alone[g] = await timed([g]);
    };
    if (round % 2) {
      together = await timed(gateways, stalls);
      await measureAlone();
    } else {
      await measureAlone();
      together = await timed(gateways, stalls);
    }
    const slowest = Math.max(...Object.values(alone));
    const sum = Object.values(alone).reduce((a, b) => a + b, 0);
    rows.push({ round, together, slowest, sum, alone });
    console.log(`  round ${round}: together ${s(together)} · alone ${ids.map((id) => `${id} ${s(alone[id])}`).join(', ')} · slowest ${s(slowest)} · sum ${s(sum)} · ${(together / slowest).toFixed(2)}x slowest, ${(sum / together).toFixed(2)}x faster than one after another · longest event-loop stall together ${stalls.at(-1).toFixed(0)} ms`);
  }
  const together = median(rows.map((r) => r.together));
  const slowest = median(rows.map((r) => r.slowest));
  const sum = median(rows.map((r) => r.sum));
  const ratio = together / slowest;
  console.log(`\nmedian: together ${s(together)}, slowest alone ${s(slowest)} → ${ratio.toFixed(2)}x (target ≤ ${TARGET}x) ${ratio <= TARGET ? 'OK' : 'ABOVE TARGET'}; one after another ${s(sum)} → together is ${(sum / together).toFixed(2)}x faster; longest event-loop stall while together ${median(stalls).toFixed(0)} ms (median of rounds)`);
  const out = join(here, 'results', 'gateways-together.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), runtime, gateways: ids, scenarios: scenarios.length, rounds: rows, median: { together, slowest, sum, ratio, stallMs: median(stalls) } }, null, 2)}\n`);
  console.log(`results: ${out}`);
} catch (err) {
  console.error(`gateways-together: ${err.message}`);
  process.exit(1);
}
