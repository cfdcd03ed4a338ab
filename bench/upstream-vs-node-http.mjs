#!/usr/bin/env node
/**
 * Throughput of the chaos upstream in healthy mode against a bare node:http
 * hello server (same status, body and Content-Type), measured with wrk.
 *
 * Each server runs in its own node process, wrk in another; runs alternate
 * (upstream, node:http, upstream, node:http, ...) so drift hits both alike.
 * Reports the median req/s of each, their ratio against the target, latency
 * p50/p99, the server's CPU time per request (a cross-check that other load on
 * the machine disturbs less), how much CPU other processes took during each
 * run, and writes bench/results/upstream-vs-node-http.json.
 *
 *   node bench/upstream-vs-node-http.mjs [--duration 3s] [--rounds 5]
 *        [--connections 50] [--threads 1] [--warmup 3s] [--connection-close]
 *        [--pin] [--profile]
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
  cpuSnapshot,
  cpuTimeMs,
  fmt,
  hasTaskset,
  installCleanup,
  interrupted,
  machineLoad,
  median,
  otherLoad,
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
/** A run during which other processes took more than this share of the machine is flagged as noisy. */
const NOISY_OTHER_PCT = 10;
/** wrk busier than this (% of one core per thread) means it, not the server, is the bottleneck. */
const WRK_BOUND_PCT = 90;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --duration <3s>       length of each measured wrk run (whole seconds)
  --rounds <5>          measured runs per server, alternating upstream / node:http (at least 3 recommended)
  --connections <50>    wrk connections (-c)
  --threads <1>         wrk threads (-t)
  --warmup <3s>         an unrecorded wrk run per server first, so both are JIT-warm (0 to skip)
  --connection-close    send "Connection: close": one TCP connection per request (connection churn,
                        as from a proxy that does not keep upstream connections alive)
  --pin                 pin wrk to CPU 0 and the servers to CPU 1 (taskset)
  --profile             run the servers under --cpu-prof and print where their CPU goes
  --wrk <path>          the wrk binary (default: wrk on PATH)
  --json <file>         where to write results (default bench/results/${NAME}[-connection-close].json)`;

const SERVERS = [
  { key: 'upstream', label: 'badgateway upstream', script: join(here, 'servers', 'upstream.mjs') },
  { key: 'node-http', label: 'node:http', script: join(here, 'servers', 'node-http.mjs') },
];

function options() {
  let values;
  let tokens;
  try {
    ({ values, tokens } = parseArgs({
      options: {
        duration: { type: 'string', default: '3s' },
        rounds: { type: 'string', default: '5' },
        connections: { type: 'string', default: '50' },
        threads: { type: 'string', default: '1' },
        warmup: { type: 'string', default: '3s' },
        'connection-close': { type: 'boolean', default: false },
        pin: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        wrk: { type: 'string', default: 'wrk' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      // bench/run.mjs hands the same arguments to every benchmark: ignore the ones meant for others.
      strict: false,
      allowPositionals: true,
      tokens: true,
    }));
  } catch (err) {
    throw new SetupError(`${err.message}\n${USAGE}`);
  }
  const known = new Set(['duration', 'rounds', 'connections', 'threads', 'warmup', 'connection-close', 'pin', 'profile', 'wrk', 'json', 'help']);
  const unknown = tokens.filter((t) => t.kind === 'option' && !known.has(t.name)).map((t) => t.rawName);
  if (unknown.length > 0) console.warn(`${NAME}: ignoring option(s) it does not know: ${unknown.join(' ')}`);
  for (const name of ['duration', 'rounds', 'connections', 'threads', 'warmup', 'wrk', 'json']) {
    if (typeof values[name] === 'boolean') throw new SetupError(`--${name} needs a value\n${USAGE}`);
  }
  for (const name of ['connection-close', 'pin', 'profile', 'help']) {
    if (typeof values[name] === 'string') throw new SetupError(`--${name} takes no value\n${USAGE}`);
  }
  const close = values['connection-close'];
  return {
    help: values.help,
    durationS: parseDurationS(values.duration),
    rounds: positiveInt('rounds', values.rounds),
    connections: positiveInt('connections', values.connections),
    threads: positiveInt('threads', values.threads),
    warmupS: /^0+(\.0*)?(s|ms|m)?$/.test(values.warmup.trim()) ? 0 : parseDurationS(values.warmup),
    connectionClose: close,
    pin: values.pin,
    profile: values.profile,
    wrk: values.wrk,
    json: values.json ?? join(resultsDir, `${NAME}${close ? '-connection-close' : ''}.json`),
  };
}

async function main() {
  const opts = options();
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    throw new SetupError('dist/index.js is missing: build first (`npm run build`, or `npm run bench` which builds).');
  }
  const wrkVersion = checkWrk(opts.wrk);
  const nCpus = cpus().length;
  let pin = opts.pin;
  if (pin && !hasTaskset()) {
    console.warn('--pin: taskset not found (util-linux), running unpinned');
    pin = false;
  }
  if (pin && nCpus < 2) {
    console.warn('--pin: needs at least 2 CPUs, running unpinned');
    pin = false;
  }

  installCleanup();
  const loadBefore = machineLoad();

  const profileDir = join(resultsDir, 'profiles');
  if (opts.profile) mkdirSync(profileDir, { recursive: true });

  // Start both servers, each in its own process, and check they answer alike.
  const servers = [];
  for (const s of SERVERS) {
    const nodeArgs = opts.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${s.key}.cpuprofile`] : [];
    const started = await startServer(s.label, s.script, { nodeArgs, cpu: pin ? 1 : undefined, cwd: root });
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

  const headers = opts.connectionClose ? ['Connection: close'] : [];
  const wrkOpts = { wrk: opts.wrk, threads: opts.threads, connections: opts.connections, headers, cpu: pin ? 0 : undefined };
  const plan =
    `wrk -t${opts.threads} -c${opts.connections} -d${opts.durationS}s --latency${opts.connectionClose ? ' -H "Connection: close"' : ''}, ` +
    `${opts.rounds} round(s) alternating${opts.warmupS ? `, ${opts.warmupS}s warm-up each` : ''}${pin ? ', wrk on CPU 0 / servers on CPU 1' : ''}`;
  console.log(`${NAME}: ${plan}`);
  console.log(`node ${process.version}, ${wrkVersion.split(' Copyright')[0]}, ${nCpus} CPU(s) (${cpus()[0]?.model ?? '?'}), load ${loadBefore.loadavg1} before start`);
  for (const s of servers) console.log(`  ${s.label.padEnd(20)} pid ${s.server.pid}  ${s.server.url}`);

  if (opts.warmupS > 0) {
    for (const s of servers) await runWrk(s.server.url, { ...wrkOpts, durationS: opts.warmupS });
  }

  const runs = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const s of servers) {
      if (!s.server.alive) throw new SetupError(`${s.label} died during the benchmark\n${s.server.stderr}`);
      const cpuBefore = cpuTimeMs(s.server.pid);
      const machineBefore = cpuSnapshot();
      const r = await runWrk(s.server.url, { ...wrkOpts, durationS: opts.durationS });
      const machineAfter = cpuSnapshot();
      const cpuAfter = cpuTimeMs(s.server.pid);
      const serverCpuMs = cpuBefore === undefined || cpuAfter === undefined ? NaN : cpuAfter - cpuBefore;
      const { otherPct, stealPct, wrkCpuPct } = otherLoad(machineBefore, machineAfter, serverCpuMs, nCpus);
      const run = {
        round,
        server: s.key,
        rps: r.rps,
        p50Ms: r.p50,
        p90Ms: r.p90,
        p99Ms: r.p99,
        requests: r.requests,
        // Server CPU time (user + sys) per request, and as a share of one core.
        cpuUsPerReq: (serverCpuMs * 1000) / r.requests,
        serverCpuPct: (100 * serverCpuMs) / r.elapsedMs,
        wrkCpuPct,
        // What other processes took from the machine meanwhile (100% = all CPUs).
        otherLoadPct: otherPct,
        stealPct,
        errors: r.errors,
        socketErrors: r.socketErrors,
        non2xx: r.non2xx,
      };
      runs.push(run);
      const noisy = otherPct > NOISY_OTHER_PCT ? `  [noisy: other processes took ${Math.round(otherPct)}% of the machine]` : '';
      console.log(
        `  round ${round}/${opts.rounds}  ${s.label.padEnd(20)} ${fmt.int(r.rps).padStart(8)} req/s  p50 ${fmt.ms(r.p50)}  p99 ${fmt.ms(r.p99)}` +
          `  server ${fmt.us(run.cpuUsPerReq)} CPU/req, ${fmt.int(run.serverCpuPct)}% of a core  wrk ${fmt.int(wrkCpuPct)}%${r.errors ? `  ${r.errors} errors` : ''}${noisy}`,
      );
    }
  }

  for (const s of servers) await s.server.stop();

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
  const up = summary.upstream;
  const base = summary['node-http'];
  const ratio = up.medianRps / base.medianRps;
  const pairedRatios = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const a = runs.find((r) => r.round === round && r.server === 'upstream');
    const b = runs.find((r) => r.round === round && r.server === 'node-http');
    pairedRatios.push(a.rps / b.rps);
  }
  const cpuRatio = base.medianCpuUsPerReq / up.medianCpuUsPerReq;
  const met = ratio >= TARGET_RATIO;
  const medianOther = median(runs.map((r) => r.otherLoadPct));

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
  console.log(`ratio upstream / node:http (median req/s): ${fmt.ratio(ratio)}   target >= ${fmt.ratio(TARGET_RATIO)}   ${met ? 'MET' : 'NOT MET'}`);
  console.log(`  per round: ${pairedRatios.map(fmt.ratio).join(' ')}`);
  if (Number.isFinite(cpuRatio)) console.log(`  CPU per request, node:http / upstream: ${fmt.ratio(cpuRatio)} (less disturbed by other load than req/s)`);
  console.log('  p50/p99: medians of wrk\'s per-run percentiles. CPU/req: server process user+sys time per request.');
  const errorTotal = up.errors + base.errors;
  if (errorTotal > 0) console.log(`warning: ${errorTotal} socket errors or non-2xx responses; see the JSON for details`);
  const wrkBound = runs.filter((r) => r.wrkCpuPct >= WRK_BOUND_PCT * opts.threads).length;
  if (wrkBound > runs.length / 2) {
    console.log(
      `warning: wrk used >= ${WRK_BOUND_PCT}% of its core(s) in ${wrkBound} of ${runs.length} runs: the load generator, not the server, set the pace; ` +
        'the ratio understates the difference (try --threads 2 on a machine with spare cores)',
    );
  }
  if (medianOther > NOISY_OTHER_PCT) {
    console.log(
      `warning: other processes took a median ${Math.round(medianOther)}% of the machine during the runs: req/s are depressed and noisy; ` +
        'trust the ratio (and CPU/req) more than absolute numbers, or rerun on a quiet machine with more --rounds',
    );
  }

  for (const s of servers) {
    const err = s.server.stderr.trim();
    if (err) console.log(`\n${s.label} wrote to stderr:\n${err.split('\n').map((l) => `  | ${l}`).join('\n')}`);
  }

  const profiles = {};
  if (opts.profile) {
    for (const s of servers) {
      const file = join(profileDir, `${s.key}.cpuprofile`);
      if (!existsSync(file)) {
        console.log(`\nno profile written for ${s.label} (${relative(root, file)})`);
        continue;
      }
      const p = summarizeProfile(file, { top: 20, root });
      profiles[s.key] = { file: relative(root, file), ...p };
      console.log(`\n${s.label}: self time, top ${p.rows.length} functions, % of ${fmt.int(p.busyMs)} ms busy (${relative(root, file)}; open it in Chrome DevTools > Performance)`);
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
    settings: {
      durationS: opts.durationS,
      rounds: opts.rounds,
      connections: opts.connections,
      threads: opts.threads,
      warmupS: opts.warmupS,
      connectionClose: opts.connectionClose,
      pinned: pin,
      profile: opts.profile,
      url: '/',
      order: servers.map((s) => s.key),
    },
    target: { metric: 'median req/s, upstream / node:http', atLeast: TARGET_RATIO },
    ratio,
    met,
    pairedRatios,
    cpuPerRequestRatio: cpuRatio,
    machine: { loadBefore, medianOtherLoadPct: medianOther, wrkBoundRuns: wrkBound },
    summary,
    runs,
    ...(opts.profile ? { profiles } : {}),
  };
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${relative(process.cwd(), opts.json) || opts.json}`);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  // Ctrl-C kills wrk and the servers under us: that is not a failure to report.
  if (interrupted()) process.exit(interrupted() === 'SIGINT' ? 130 : 143);
  if (err instanceof SetupError) console.error(`${NAME}: cannot run the benchmark: ${err.message}`);
  else console.error(`${NAME}: failed: ${err?.stack ?? err}`);
  process.exit(1);
}
