#!/usr/bin/env node
/**
 * Stability: the same suite run N times in a row through the same gateways, and how often each
 * cell's verdict (scenario × gateway × version) differs from its usual one. A verdict that changes
 * between two runs of the same gateway is worse than no verdict in CI; the target is zero flipped
 * cells. For each cell it prints how many runs gave a verdict other than the majority's, and the
 * distinct outcomes seen (verdict, status or status counts, body, reasons), so a flip can be told
 * from a reading that only moves inside what the expectation allows.
 *
 *   node bench/stability.mjs [--runs 10] [--gateway nginx,haproxy,caddy,apache] [--runtime process|container]
 *                            [--image GATEWAY=IMAGE ...] [--only GLOB] [--max-stall 500] [--report FILE] [--json FILE]
 *
 * Each run is one runSuite() through every gateway at once, as `badgateway run --gateway a,b` does.
 * With --image given several times for one gateway (nginx=badgateway/nginx:trixie and
 * nginx=badgateway/nginx:sid), each run goes through every image in turn: the first image of each
 * gateway together, then the second, and so on. Results are written after every run, so a long
 * measurement stopped half-way still leaves its data. Exits 0 whatever it measures, 1 when it
 * could not measure (dist/ not built, a bad option, the first run failing to start).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchOptions, installCleanup, interrupted, machineLoad, positiveInt, SetupError, table } from './lib/harness.mjs';
import { loadHarness } from './lib/suite.mjs';

const NAME = 'stability';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --runs <10>            consecutive runs of the suite
  --gateway <list>       comma-separated gateways, run at once (default nginx,haproxy,caddy,apache)
  --runtime <process>    process or container (container when --image is given)
  --image <GW=IMAGE>     a container image for a gateway; repeat for several versions of one gateway
  --only <glob>          only these scenarios (comma-separated globs, as run --only)
  --concurrency <64>     scenarios in flight at once per gateway
  --max-stall <500>      ms: a run whose event loop stalled longer is also left out of a second view
  --report <file>        print the report of results written earlier (a run still going, or stopped)
  --json <file>          where to write results (default bench/results/${NAME}.json)`;

function options() {
  const values = benchOptions(
    {
      runs: { type: 'string', default: '10' },
      gateway: { type: 'string', default: 'nginx,haproxy,caddy,apache' },
      runtime: { type: 'string' },
      image: { type: 'string', multiple: true },
      only: { type: 'string' },
      concurrency: { type: 'string', default: '64' },
      'max-stall': { type: 'string', default: '500' },
      report: { type: 'string' },
    },
    USAGE,
  );
  const gateways = String(values.gateway)
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const images = new Map();
  for (const spec of values.image ?? []) {
    const at = spec.indexOf('=');
    // One gateway: a bare image is its image, as `run --image` takes it.
    const [gw, image] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : gateways.length === 1 ? [gateways[0], spec] : [];
    if (!gw || !image) throw new SetupError(`--image ${spec}: with several gateways say which one it is for: --image GATEWAY=IMAGE.\n${USAGE}`);
    if (!gateways.includes(gw)) throw new SetupError(`--image ${spec}: ${gw} is not among the gateways (${gateways.join(', ')}).`);
    images.set(gw, [...(images.get(gw) ?? []), image]);
  }
  const runtime = values.runtime ?? (images.size > 0 ? 'container' : 'process');
  if (!['process', 'container', 'auto'].includes(runtime)) throw new SetupError(`--runtime must be process, container or auto, got ${JSON.stringify(runtime)}.\n${USAGE}`);
  if (images.size > 0 && runtime === 'process') throw new SetupError('--image needs --runtime container (the process runtime runs the binary on PATH).');
  return {
    runs: positiveInt('runs', values.runs),
    gateways,
    images,
    runtime,
    only: values.only ? String(values.only).split(',') : undefined,
    concurrency: positiveInt('concurrency', values.concurrency),
    maxStallMs: positiveInt('max-stall', values['max-stall']),
    report: values.report,
    json: values.json ?? join(here, 'results', `${NAME}.json`),
  };
}

/**
 * The lanes of one run: each is one runSuite through some gateways with some images. Without
 * images, one lane through every gateway; with them, lane i takes each gateway's i-th image (a
 * gateway with fewer images is not in the later lanes, unless it has none: then it runs in the first).
 */
function lanes(opts) {
  if (opts.images.size === 0) return [{ gateways: opts.gateways, image: undefined }];
  const depth = Math.max(...[...opts.images.values()].map((l) => l.length));
  return Array.from({ length: depth }, (_, i) => {
    const gateways = opts.gateways.filter((g) => (opts.images.get(g)?.length ?? 0) > i || (i === 0 && !opts.images.has(g)));
    const image = Object.fromEntries(gateways.filter((g) => opts.images.has(g)).map((g) => [g, opts.images.get(g)[i]]));
    return { gateways, image };
  });
}

/** What a case saw, in one line: the verdict and the observation (counts for a sequence). */
function reading(c) {
  const o = c.observed;
  const state = c.verdict ? (c.verdict.pass ? 'pass' : 'fail') : 'unjudged';
  const status = o.counts
    ? Object.entries(o.counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${n}×${k}`)
        .join(' ')
    : String(o.status);
  return { state, text: `${status} · ${o.body} · ${o.reasons.length ? o.reasons.join(',') : 'no reason'}` };
}

/** Cells by key; each keeps every run's verdict and its distinct readings with the runs that gave them. */
const cells = new Map();

function record(runIndex, run, c) {
  const key = `${c.scenario.id}\t${run.gateway}\t${run.version ?? '?'}`;
  let cell = cells.get(key);
  if (!cell) {
    cell = { scenario: c.scenario.id, gateway: run.gateway, version: run.version ?? '?', source: run.source, verdicts: {}, readings: new Map() };
    cells.set(key, cell);
  }
  const r = reading(c);
  cell.verdicts[runIndex] = r.state;
  const k = `${r.state} ${r.text}`;
  const seen = cell.readings.get(k) ?? { state: r.state, text: r.text, runs: [] };
  // The first time a failing reading is seen, keep why and what the gateway logged: a flip must be explainable.
  if (seen.runs.length === 0 && r.state === 'fail') {
    seen.mismatches = c.verdict.mismatches.map((m) => `${m.field}: expected ${m.expected}, saw ${m.observed}`);
    seen.log = c.logs.filter((l) => l.reason).map((l) => l.raw.slice(0, 400));
  }
  seen.runs.push(runIndex);
  cell.readings.set(k, seen);
}

/** The majority verdict over the kept runs and how many of them gave another. */
function summarize(cell, keep) {
  const counts = new Map();
  let runs = 0;
  for (const [run, v] of Object.entries(cell.verdicts)) {
    if (!keep(Number(run))) continue;
    runs++;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (runs === 0) return { majority: undefined, flipped: 0, runs: 0, readings: [] };
  const [majority, majorityCount] = [...counts].sort((a, b) => b[1] - a[1])[0];
  const readings = [...cell.readings.values()].map((r) => ({ ...r, count: r.runs.filter(keep).length })).filter((r) => r.count > 0);
  return { majority, flipped: runs - majorityCount, runs, readings };
}

function writeResults(file, meta, runErrors) {
  const out = [...cells.values()].map((cell) => ({ ...cell, readings: [...cell.readings.values()] }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...meta, runErrors, cells: out }, null, 2)}\n`);
}

/** The flipped cells, the cells whose reading moved within the expectation, and a line per gateway version, over the kept runs. */
function report(title, keep) {
  const all = [...cells.values()].map((cell) => ({ cell, ...summarize(cell, keep) })).filter((x) => x.runs > 0);
  const flipped = all.filter((x) => x.flipped > 0);
  const varied = all.filter((x) => x.flipped === 0 && x.readings.length > 1);
  const row = (x) => [
    x.cell.scenario,
    x.cell.gateway,
    x.cell.version,
    `${x.flipped}/${x.runs}`,
    x.readings
      .sort((a, b) => b.count - a.count)
      .map((r) => `${r.count}× ${r.state} ${r.text}`)
      .join(' ; '),
  ];
  const header = ['scenario', 'gateway', 'version', 'flipped', 'outcomes seen (count× verdict status · body · reasons)'];
  console.log(`\n=== ${title}`);
  console.log(`flipped cells (a verdict other than the majority's in some run): ${flipped.length} of ${all.length}`);
  if (flipped.length) console.log(table(header, flipped.map(row)));
  console.log(`cells whose verdict held but whose reading moved inside the expectation: ${varied.length}`);
  if (varied.length) console.log(table(header, varied.map(row)));
  const byGateway = new Map();
  for (const x of all) {
    const k = `${x.cell.gateway} ${x.cell.version}`;
    const g = byGateway.get(k) ?? { cells: 0, flipped: 0, flips: 0, runs: 0, failing: 0 };
    g.cells++;
    g.flipped += x.flipped > 0 ? 1 : 0;
    g.flips += x.flipped;
    g.runs = Math.max(g.runs, x.runs);
    g.failing += x.majority === 'fail' ? 1 : 0;
    byGateway.set(k, g);
  }
  console.log(
    table(
      ['gateway', 'runs', 'cells', 'flipped cells', 'flip rate', 'failing in most runs'],
      [...byGateway].map(([k, g]) => [k, String(g.runs), String(g.cells), String(g.flipped), `${((100 * g.flips) / Math.max(1, g.cells * g.runs)).toFixed(2)}%`, String(g.failing)]),
    ),
  );
}

/** Both views: every run, and the runs whose event loop kept up (when some did not). */
function reportAll(meta, maxStallMs) {
  const starved = new Set((meta.perRun ?? []).filter((r) => r.stallMs > maxStallMs).map((r) => r.run));
  report(`every run (${meta.runsDone})`, () => true);
  if (starved.size > 0 && starved.size < meta.runsDone) {
    report(`the ${meta.runsDone - starved.size} runs whose event loop never stalled over ${maxStallMs} ms (left out: ${[...starved].join(', ')})`, (run) => !starved.has(run));
  } else if (starved.size > 0) {
    console.log(`\nevery run's event loop stalled over ${maxStallMs} ms: the machine was too busy to tell a gateway's race from a late upstream.`);
  }
}

/** The report of a results file, from the cells and runs it holds. */
function reprint(opts) {
  let saved;
  try {
    saved = JSON.parse(readFileSync(opts.report, 'utf8'));
  } catch (err) {
    throw new SetupError(`--report ${opts.report}: cannot read it as this benchmark's results (${err.message}).`);
  }
  for (const c of saved.cells ?? []) cells.set(`${c.scenario}\t${c.gateway}\t${c.version}`, { ...c, readings: new Map(c.readings.map((r) => [`${r.state} ${r.text}`, r])) });
  console.log(`${NAME}: ${opts.report}, ${saved.runsDone} of ${saved.runsAsked} runs, ${saved.runtime}, started ${saved.date}`);
  for (const r of saved.perRun ?? []) console.log(`  run ${String(r.run).padStart(3)}: ${r.result} · longest event-loop stall ${r.stallMs} ms · load ${r.load1}`);
  reportAll(saved, opts.maxStallMs);
}

async function main() {
  installCleanup();
  const opts = options();
  if (opts.report) return reprint(opts);
  const { loadSuite, runSuite } = await loadHarness(NAME);
  const loaded = await loadSuite({ only: opts.only });
  const plan = lanes(opts);
  const meta = {
    date: new Date().toISOString(),
    runtime: opts.runtime,
    gateways: opts.gateways,
    lanes: plan,
    scenarios: loaded.scenarios.length,
    runsAsked: opts.runs,
    runsDone: 0,
    load: machineLoad(),
  };
  console.log(`${NAME}: ${loaded.scenarios.length} scenarios through ${plan.map((l) => l.gateways.map((g) => (l.image?.[g] ? `${g} (${l.image[g]})` : g)).join(', ')).join(' | ')} · ${opts.runtime} · ${opts.runs} runs`);
  const runErrors = [];
  const started = performance.now();
  for (let i = 1; i <= opts.runs && !interrupted(); i++) {
    const t0 = performance.now();
    const line = [];
    // The upstream, the probes and the judge share this process's event loop: a stall of a second
    // (a starved machine) turns an upstream's prompt answer into the gateway's 1 s timeout, so each
    // run says how late the loop ran and how busy the machine was.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    for (const lane of plan) {
      try {
        const r = await runSuite({ loaded, gateways: lane.gateways, runtime: opts.runtime, image: lane.image, concurrency: opts.concurrency });
        for (const run of r.runs) for (const c of run.cases) record(i, run, c);
        line.push(`${r.passed} passed, ${r.failed} failed${r.unchecked ? `, ${r.unchecked} unjudged` : ''}`);
      } catch (err) {
        if (interrupted()) break;
        // The first run not starting is a setup problem (a gateway missing); later it is data.
        if (i === 1) throw new SetupError(`the first run did not complete: ${err.message}`);
        runErrors.push({ run: i, gateways: lane.gateways, error: err.message });
        line.push(`error: ${err.message.split('\n')[0]}`);
      }
    }
    lag.disable();
    const stallMs = Math.round(lag.max / 1e6);
    const load1 = Number(loadavg()[0].toFixed(1));
    meta.runsDone = i;
    meta.perRun = [...(meta.perRun ?? []), { run: i, stallMs, load1, result: line.join(' | ') }];
    writeResults(opts.json, meta, runErrors);
    console.log(`  run ${String(i).padStart(3)}: ${line.join(' | ')} · ${((performance.now() - t0) / 1000).toFixed(1)} s · longest event-loop stall ${stallMs} ms · load ${load1}`);
  }

  reportAll(meta, opts.maxStallMs);
  if (runErrors.length) console.log(`\nruns that did not complete: ${runErrors.map((e) => `run ${e.run} (${e.gateways.join(',')}): ${e.error.split('\n')[0]}`).join('; ')}`);
  console.log(`\n${meta.runsDone} runs in ${((performance.now() - started) / 60000).toFixed(1)} min · results: ${relative(root, opts.json) || opts.json}`);
}

try {
  await main();
} catch (err) {
  console.error(`${NAME}: ${err instanceof SetupError ? err.message : err.stack}`);
  process.exit(1);
}
