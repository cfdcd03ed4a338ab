#!/usr/bin/env node
/**
 * Throughput of the chaos upstream in healthy mode against a bare node:http
 * hello server (same status, body and Content-Type), measured with wrk.
 *
 * Each server runs in its own node process, wrk in another; runs alternate
 * (upstream, node:http, upstream, node:http, ...) so drift hits both alike.
 * Reports the median req/s of each, their ratio against the target, latency
 * p50/p99, and writes bench/results/upstream-vs-node-http.json.
 *
 *   node bench/upstream-vs-node-http.mjs [--duration 5s] [--rounds 3]
 *        [--connections 50] [--threads 1] [--warmup 3s] [--pin] [--profile]
 *
 * Exits 0 whatever the numbers say; exits 1 only when it could not measure
 * (wrk missing, a server not starting or answering wrongly, dist/ not built).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './lib/cpuprofile.mjs';
import {
  checkWrk,
  cpuTimeMs,
  fmt,
  hasTaskset,
  installCleanup,
  machineLoad,
  median,
  parseDurationS,
  positiveInt,
  probe,
  runWrk,
  SetupError,
  startServer,
  table,
} from './lib/harness.mjs';

const NAME = 'upstream-vs-node-http';
/** The upstream should serve at least this many times node:http's requests/sec. */
const TARGET_RATIO = 1.2;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --duration <5s>      length of each wrk run (whole seconds)
  --rounds <3>         measured runs per server, alternating upstream / node:http
  --connections <50>   wrk connections (-c)
  --threads <1>        wrk threads (-t)
  --warmup <3s>        an unrecorded wrk run per server first, so both are JIT-warm (0 to skip)
  --pin                pin wrk to CPU 0 and the servers to CPU 1 (taskset)
  --profile            run the servers under --cpu-prof and print where their CPU goes
  --wrk <path>         the wrk binary (default: wrk on PATH)
  --json <file>        where to write results (default bench/results/${NAME}.json)`;

const SERVERS = [
  { key: 'upstream', label: 'badgateway upstream', script: join(here, 'servers', 'upstream.mjs') },
  { key: 'node-http', label: 'node:http', script: join(here, 'servers', 'node-http.mjs') },
];

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        duration: { type: 'string', default: '5s' },
        rounds: { type: 'string', default: '3' },
        connections: { type: 'string', default: '50' },
        threads: { type: 'string', default: '1' },
        warmup: { type: 'string', default: '3s' },
        pin: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        wrk: { type: 'string', default: 'wrk' },
        json: { type: 'string', default: join(resultsDir, `${NAME}.json`) },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new SetupError(`${err.message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const durationS = parseDurationS(values.duration);
  const rounds = positiveInt('rounds', values.rounds);
  const connections = positiveInt('connections', values.connections);
  const threads = positiveInt('threads', values.threads);
  const warmupS = /^0+(\.0*)?(s|ms|m)?$/.test(values.warmup.trim()) ? 0 : parseDurationS(values.warmup);

  if (!existsSync(join(root, 'dist', 'upstream', 'upstream.js'))) {
    throw new SetupError('dist/upstream/upstream.js is missing: build first (`npm run build`, or `npm run bench` which builds).');
  }
  const wrkVersion = checkWrk(values.wrk);
  const nCpus = cpus().length;
  let pin = values.pin;
  if (pin && !hasTaskset()) {
    console.warn('--pin: taskset not found (util-linux), running unpinned');
    pin = false;
  }
  if (pin && nCpus < 2) {
    console.warn('--pin: needs at least 2 CPUs, running unpinned');
    pin = false;
  }
  const wrkCpu = pin ? 0 : undefined;
  const serverCpu = pin ? 1 : undefined;

  installCleanup();
  const loadBefore = machineLoad();

  const profileDir = join(resultsDir, 'profiles');
  if (values.profile) mkdirSync(profileDir, { recursive: true });

  // Start both servers (each in its own process) and check they answer alike.
  const servers = [];
  for (const s of SERVERS) {
    const nodeArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${s.key}.cpuprofile`] : [];
    const started = await startServer(s.label, s.script, { nodeArgs, cpu: serverCpu, cwd: root });
    let answer;
    try {
      answer = await probe(started.url);
    } catch (err) {
      throw new SetupError(`${s.label} is listening on ${started.port} but a GET / failed: ${err.message}`);
    }
    if (answer.status !== 200 || answer.body !== 'ok\n' || answer.contentType !== 'text/plain') {
      throw new SetupError(`${s.label} answered ${answer.status} ${JSON.stringify(answer.contentType)} ${JSON.stringify(answer.body)}; expected 200 "text/plain" "ok\\n"`);
    }
    servers.push({ ...s, server: started });
  }

  const wrkOpts = { wrk: values.wrk, threads, connections, cpu: wrkCpu };
  const plan = `wrk -t${threads} -c${connections} -d${durationS}s --latency, ${rounds} round(s) alternating${warmupS ? `, ${warmupS}s warm-up each` : ''}${pin ? ', wrk on CPU 0 / servers on CPU 1' : ''}`;
  console.log(`${NAME}: ${plan}`);
  console.log(`node ${process.version}, ${wrkVersion.split(' Copyright')[0]}, ${nCpus} CPU(s) (${cpus()[0]?.model ?? '?'})`);
  for (const s of servers) console.log(`  ${s.label.padEnd(20)} pid ${s.server.pid}  ${s.server.url}`);

  if (warmupS > 0) {
    for (const s of servers) await runWrk(s.server.url, { ...wrkOpts, durationS: warmupS });
  }

  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    for (const s of servers) {
      if (!s.server.alive) throw new SetupError(`${s.label} died during the benchmark\n${s.server.stderr}`);
      const cpuBefore = cpuTimeMs(s.server.pid);
      const r = await runWrk(s.server.url, { ...wrkOpts, durationS });
      const cpuAfter = cpuTimeMs(s.server.pid);
      // Server CPU time per request (µs): insensitive to other load on the machine.
      const cpuUsPerReq = cpuBefore === undefined || cpuAfter === undefined ? NaN : ((cpuAfter - cpuBefore) * 1000) / r.requests;
      const cpuPct = cpuBefore === undefined || cpuAfter === undefined ? NaN : (100 * (cpuAfter - cpuBefore)) / r.elapsedMs;
      runs.push({ round, server: s.key, rps: r.rps, p50Ms: r.p50, p90Ms: r.p90, p99Ms: r.p99, requests: r.requests, cpuUsPerReq, serverCpuPct: cpuPct, errors: r.errors, socketErrors: r.socketErrors, non2xx: r.non2xx });
      process.stdout.write(
        `  round ${round}/${rounds}  ${s.label.padEnd(20)} ${fmt.int(r.rps).padStart(8)} req/s  p50 ${fmt.ms(r.p50)}  p99 ${fmt.ms(r.p99)}` +
          `  server ${fmt.us(cpuUsPerReq)} CPU/req (${fmt.int(cpuPct)}% of a core)${r.errors ? `  ${r.errors} errors` : ''}\n`,
      );
    }
  }

  for (const s of servers) await s.server.stop();
  for (const s of servers) {
    const err = s.server.stderr.trim();
    if (err) console.log(`\n${s.label} wrote to stderr:\n${err.split('\n').map((l) => `  | ${l}`).join('\n')}`);
  }

  const summary = {};
  for (const s of servers) {
    const mine = runs.filter((r) => r.server === s.key);
    summary[s.key] = {
      label: s.label,
      medianRps: median(mine.map((r) => r.rps)),
      minRps: Math.min(...mine.map((r) => r.rps)),
      maxRps: Math.max(...mine.map((r) => r.rps)),
      medianP50Ms: median(mine.map((r) => r.p50Ms)),
      medianP99Ms: median(mine.map((r) => r.p99Ms)),
      medianCpuUsPerReq: median(mine.map((r) => r.cpuUsPerReq)),
      errors: mine.reduce((a, r) => a + r.errors, 0),
    };
  }
  const ratio = summary.upstream.medianRps / summary['node-http'].medianRps;
  const pairedRatios = [];
  for (let round = 1; round <= rounds; round++) {
    const a = runs.find((r) => r.round === round && r.server === 'upstream');
    const b = runs.find((r) => r.round === round && r.server === 'node-http');
    pairedRatios.push(a.rps / b.rps);
  }
  const met = ratio >= TARGET_RATIO;

  console.log('');
  console.log(
    table(
      ['server', 'median req/s', 'min req/s', 'max req/s', 'p50', 'p99', 'CPU/req', 'errors'],
      servers.map((s) => {
        const m = summary[s.key];
        return [s.label, fmt.int(m.medianRps), fmt.int(m.minRps), fmt.int(m.maxRps), fmt.ms(m.medianP50Ms), fmt.ms(m.medianP99Ms), fmt.us(m.medianCpuUsPerReq), String(m.errors)];
      }),
    ),
  );
  console.log('');
  console.log(
    `ratio upstream / node:http: ${fmt.ratio(ratio)}   target >= ${fmt.ratio(TARGET_RATIO)}   ${met ? 'MET' : 'NOT MET'}` +
      `   (per-round: ${pairedRatios.map(fmt.ratio).join(' ')})`,
  );
  const cpuRatio = summary['node-http'].medianCpuUsPerReq / summary.upstream.medianCpuUsPerReq;
  if (Number.isFinite(cpuRatio)) console.log(`CPU efficiency (node:http CPU/req / upstream CPU/req): ${fmt.ratio(cpuRatio)}, a cross-check that other load on the machine moves less`);
  console.log('(p50/p99: medians over rounds of wrk\'s per-run latency percentiles; CPU/req: server process user+sys time per request)');
  const loadAfter = machineLoad();
  if (loadBefore.loadavg1 > nCpus * 0.25 || (loadBefore.cpuPressureSome10 ?? 0) > 20) {
    console.log(`warning: the machine was busy before the run (load ${loadBefore.loadavg1}, CPU pressure ${loadBefore.cpuPressureSome10 ?? '?'}%): req/s are depressed and noisy; trust the ratio and CPU/req more than the absolute numbers`);
  }
  const errorTotal = Object.values(summary).reduce((a, m) => a + m.errors, 0);
  if (errorTotal > 0) console.log(`warning: ${errorTotal} socket errors or non-2xx responses; see the JSON for details`);

  const profiles = {};
  if (values.profile) {
    for (const s of servers) {
      const file = join(profileDir, `${s.key}.cpuprofile`);
      if (!existsSync(file)) {
        console.log(`\nno profile written for ${s.label} (${relative(root, file)})`);
        continue;
      }
      const p = summarizeProfile(file, { top: 20, root });
      profiles[s.key] = { file: relative(root, file), ...p };
      console.log(`\n${s.label}: self time, top ${p.rows.length} of ${fmt.int(p.totalMs)} ms sampled (${relative(root, file)})`);
      console.log(table(['self %', 'self ms', 'function', 'where'], p.rows.map((r) => [r.selfPct.toFixed(1), fmt.int(r.selfMs), r.function, r.where])));
    }
  }

  const result = {
    benchmark: NAME,
    date: new Date().toISOString(),
    node: process.version,
    wrk: wrkVersion,
    cpus: nCpus,
    cpuModel: cpus()[0]?.model,
    settings: { durationS, rounds, connections, threads, warmupS, pinned: pin, profile: values.profile, url: '/', order: servers.map((s) => s.key) },
    target: { metric: 'median req/s, upstream / node:http', atLeast: TARGET_RATIO },
    ratio,
    pairedRatios,
    cpuEfficiencyRatio: cpuRatio,
    machine: { before: loadBefore, after: loadAfter },
    met,
    summary,
    runs,
    ...(values.profile ? { profiles } : {}),
  };
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${relative(process.cwd(), values.json) || values.json}`);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  if (err instanceof SetupError) console.error(`${NAME}: cannot run the benchmark: ${err.message}`);
  else console.error(`${NAME}: failed: ${err?.stack ?? err}`);
  process.exit(1);
}
