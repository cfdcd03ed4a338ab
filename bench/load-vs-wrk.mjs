#!/usr/bin/env node
/**
 * Is `badgateway load` the bottleneck? One nginx in front of the chaos upstream (healthy),
 * started through the project's own load session (dist/load/session.js, process runtime: what
 * `badgateway load --gateway nginx` starts), driven in the same run, alternately, by `load`'s
 * generator (its own process, the entry point `load` uses, at a target rate far above what the
 * machine can serve, so the rate it achieves is the ceiling) and by `wrk -t1`, with the same
 * connections. Prints the median achieved rate of each, their ratio against the 0.8x target,
 * the CPU each used (from /proc), nginx's and the upstream's CPU, and the load average, and
 * writes bench/results/load-vs-wrk.json.
 *
 *   node bench/load-vs-wrk.mjs [--rounds 5] [--duration 5s] [--connections 64] [--warmup 2s]
 *        [--rate 200000] [--profile] [--wrk wrk] [--json FILE]
 *
 * Exits 0 whatever the numbers say; exits 1 only when it could not measure (wrk or nginx
 * missing, dist/ not built, nginx answering wrongly).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeProfile } from './lib/cpuprofile.mjs';
import {
  benchOptions,
  checkWrk,
  cpuSnapshot,
  cpuTimeMs,
  fmt,
  installCleanup,
  machineLoad,
  median,
  parseDurationS,
  positiveInt,
  probe,
  runNodeJson,
  runWrk,
  SetupError,
  runMain,
  table,
} from './lib/harness.mjs';

const NAME = 'load-vs-wrk';
/** `load` should reach at least this share of wrk's rate through the same nginx with the same connections. */
const TARGET_RATIO = 0.8;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');
const generatorScript = join(here, 'servers', 'load-generator.mjs');

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --rounds <5>          measured runs of each, alternating load / wrk (the first of a round alternates too)
  --duration <5s>       length of each measured run (whole seconds)
  --connections <64>    connections for both (wrk -c, load --connections; 64 is load's default)
  --warmup <2s>         one unrecorded run of each first, so nginx, the upstream and the JIT are warm (0 to skip)
  --rate <200000>       load's target rate (req/s): far above what the machine serves, so the achieved rate is the ceiling
  --profile             run the generator under --cpu-prof and print where its CPU goes
  --baseline <dir>      another checkout (built) whose generator runs as a third contender, in the same
                        rounds, to compare a change to the generator with what it was
  --wrk <path>          the wrk binary (default: wrk on PATH)
  --json <file>         where to write results (default bench/results/${NAME}.json)`;

function options() {
  const v = benchOptions(
    {
      rounds: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5s' },
      connections: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '2s' },
      rate: { type: 'string', default: '200000' },
      profile: { type: 'boolean', default: false },
      baseline: { type: 'string' },
      wrk: { type: 'string', default: 'wrk' },
    },
    USAGE,
  );
  return {
    rounds: positiveInt('rounds', v.rounds),
    durationS: parseDurationS(v.duration),
    connections: positiveInt('connections', v.connections),
    warmupS: /^0+(s|ms)?$/.test(String(v.warmup)) ? 0 : parseDurationS(v.warmup),
    rate: positiveInt('rate', v.rate),
    profile: Boolean(v.profile),
    baseline: v.baseline === undefined ? undefined : String(v.baseline),
    wrk: String(v.wrk),
    json: v.json ?? join(resultsDir, `${NAME}.json`),
  };
}

async function importDist(path) {
  const file = join(root, 'dist', path);
  if (!existsSync(file)) throw new SetupError(`${relative(root, file)} is missing: build first (\`npm run build\`, or \`npm run bench\` which builds).`);
  return import(file);
}

/** nginx's master and its workers (from /proc): their CPU is the gateway's. */
function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${pids[i]}/task`)) {
        const kids = readFileSync(`/proc/${pids[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) pids.push(...kids.split(/\s+/).map(Number));
      }
    } catch {}
  }
  return pids;
}

/** System CPU time (ms) of our reaped children (wrk, once it has exited), from /proc/self/stat. */
function childrenSysMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[14]) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Lines in nginx's access log so far: one per request it answered, a count neither tool made. */
function accessLines(file) {
  try {
    const b = readFileSync(file);
    let n = 0;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
    return n;
  } catch {
    return NaN;
  }
}

const cpuOf = (pids) => pids.reduce((sum, p) => sum + (cpuTimeMs(p) ?? NaN), 0);

async function main() {
  const o = options();
  installCleanup();
  const wrkVersion = checkWrk(o.wrk);
  const { startLoadSession, loadPath } = await importDist('load/session.js');
  const { gatewayById } = await importDist('gateways/index.js');
  const { loadCatalogue } = await importDist('api/suite.js');
  const { parseMix } = await importDist('load/mix.js');
  const catalogue = await loadCatalogue();
  const adapter = gatewayById('nginx');
  const nCpus = cpus().length;
  const startLoad = machineLoad();

  const session = await startLoadSession({ adapter, catalogue, mix: parseMix('healthy:1', catalogue), runtime: 'process' }).catch((err) => {
    throw new SetupError(`nginx did not start through the load session: ${err.message}`);
  });
  try {
    const gw = session.gateway;
    const path = loadPath('healthy');
    const url = `http://127.0.0.1:${gw.port}${path}`;
    const check = await probe(url);
    if (check.status !== 200 || check.body !== 'ok\n') throw new SetupError(`nginx → chaos upstream answered ${check.status} ${JSON.stringify(check.body)} on ${url}, not 200 "ok\\n"`);
    const baselineScript = o.baseline === undefined ? undefined : join(o.baseline, 'bench', 'servers', 'load-generator.mjs');
    if (baselineScript && !existsSync(baselineScript)) throw new SetupError(`--baseline ${o.baseline}: no bench/servers/load-generator.mjs there`);
    const tools = baselineScript ? ['load', 'wrk', 'baseline'] : ['load', 'wrk'];
    const accessLog = join(gw.prefix, 'logs', 'access.log');
    const nginxPids = gw.pid ? processTree(gw.pid) : [];
    const profileDir = join(resultsDir, 'profiles', `${NAME}-${Date.now()}`);
    console.log(`${NAME}: nginx ${gw.version ?? '?'} (${gw.source}, process runtime) → chaos upstream (healthy), ${url}`);
    console.log(`  ${nCpus} CPUs, load average ${startLoad.loadavg1} at start; ${o.rounds} rounds × ${o.durationS} s each, -c ${o.connections}; ${wrkVersion}`);

    const runLoadGen = async (durationS, profile, script = generatorScript) => {
      const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
      return runNodeJson('the load generator', script, [JSON.stringify({ host: '127.0.0.1', port: gw.port, path, rate: o.rate, durationMs: durationS * 1000, connections: o.connections })], { nodeArgs, timeoutMs: (durationS + 30) * 1000 });
    };
    const wrkRun = (durationS) => runWrk(url, { wrk: o.wrk, threads: 1, connections: o.connections, durationS });

    if (o.warmupS > 0) {
      await wrkRun(o.warmupS);
      await runLoadGen(o.warmupS, false);
      if (baselineScript) await runLoadGen(o.warmupS, false, baselineScript);
    }

    /** One measured run of either tool, with the CPU of everything involved over it. */
    const measure = async (tool, round) => {
      const loadavg1 = machineLoad().loadavg1;
      const before = cpuSnapshot();
      const nginx0 = cpuOf(nginxPids);
      const sys0 = childrenSysMs();
      const served0 = accessLines(accessLog);
      let rps, requests, errors, toolCpuMs, toolSysMs, toolWallMs, perReq, extra;
      if (tool === 'wrk') {
        const r = await wrkRun(o.durationS);
        const after = cpuSnapshot();
        rps = r.rps;
        requests = r.requests;
        errors = r.errors;
        toolCpuMs = after.childrenMs - before.childrenMs;
        toolSysMs = childrenSysMs() - sys0;
        toolWallMs = Number.isFinite(r.elapsedMs) ? r.elapsedMs : after.at - before.at;
        perReq = r.requests;
        extra = { after };
      } else {
        const r = await runLoadGen(o.durationS, o.profile && tool === 'load', tool === 'baseline' ? baselineScript : generatorScript);
        const after = cpuSnapshot();
        rps = r.rps;
        requests = r.sent;
        errors = r.sent - (r.byStatus['200'] ?? 0) - (r.byStatus['unfinished'] ?? 0);
        // The generator's own reading (all its threads) in the steady state, from its first progress
        // report to its last: the worker's start-up (a few tens of ms of module loading) is not
        // charged per request. The whole generation and the process's whole life (node start-up
        // included, from the reaped-children figure) are kept for the record.
        const steady = r.steady ?? { cpuMs: r.cpuMs, wallMs: r.wallMs, done: r.sent };
        toolCpuMs = steady.cpuMs;
        toolSysMs = steady.sysMs ?? NaN;
        toolWallMs = steady.wallMs;
        perReq = steady.done;
        extra = { after, generationCpuMs: r.cpuMs, generationWallMs: r.wallMs, processCpuMs: after.childrenMs - before.childrenMs, byStatus: r.byStatus, noResponse: r.noResponse, connectionsOpened: r.connectionsOpened };
      }
      const { after } = extra;
      delete extra.after;
      // A cross-check of the tool's own count: nginx's log has every answer (wrk's count leaves out
      // the up to -c requests in flight when it stops; the generator waits for them).
      const served = accessLines(accessLog) - served0;
      const wallMs = after.at - before.at;
      const nginxMs = cpuOf(nginxPids) - nginx0;
      // The bench's own process is the chaos upstream (its main thread) plus a little bookkeeping.
      const upstreamMs = after.selfMs - before.selfMs;
      const busyMs = after.busyMs - before.busyMs;
      const childMs = after.childrenMs - before.childrenMs;
      const otherPct = Math.max(0, (100 * (busyMs - childMs - upstreamMs - nginxMs)) / (wallMs * nCpus));
      return {
        tool,
        round,
        rps,
        requests,
        servedByNginx: served,
        errors,
        cpuPct: (100 * toolCpuMs) / toolWallMs,
        cpuUsPerReq: (1000 * toolCpuMs) / perReq,
        // The kernel's share: on loopback a write(2) also carries the receiver's TCP processing.
        sysShare: toolSysMs / toolCpuMs,
        // Per request, not per second: a generator run's wall time includes its process's start-up.
        nginxCpuUsPerReq: (1000 * nginxMs) / requests,
        upstreamCpuUsPerReq: (1000 * upstreamMs) / requests,
        otherPct,
        loadavg1,
        ...extra,
      };
    };

    const runs = [];
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 ? tools : [...tools].reverse();
      for (const tool of order) {
        const r = await measure(tool, round);
        runs.push(r);
        process.stdout.write(`  round ${round} ${tool.padEnd(4)} ${fmt.int(r.rps).padStart(7)} req/s  ${tool} CPU ${r.cpuPct.toFixed(0)}%  (${r.cpuUsPerReq.toFixed(1)} µs/req)  nginx ${r.nginxCpuUsPerReq.toFixed(1)} µs/req  upstream ${r.upstreamCpuUsPerReq.toFixed(1)} µs/req  others ${r.otherPct.toFixed(0)}%  load avg ${r.loadavg1}\n`);
      }
    }
    const endLoad = machineLoad();

    const summary = {};
    for (const tool of tools) {
      const mine = runs.filter((r) => r.tool === tool);
      const m = (k) => median(mine.map((r) => r[k]));
      summary[tool] = { rps: m('rps'), minRps: Math.min(...mine.map((r) => r.rps)), maxRps: Math.max(...mine.map((r) => r.rps)), cpuPct: m('cpuPct'), cpuUsPerReq: m('cpuUsPerReq'), sysShare: m('sysShare'), nginxCpuUsPerReq: m('nginxCpuUsPerReq'), upstreamCpuUsPerReq: m('upstreamCpuUsPerReq'), otherPct: m('otherPct'), errors: mine.reduce((s, r) => s + r.errors, 0) };
    }
    const ratio = summary.load.rps / summary.wrk.rps;
    const perRound = [];
    for (let round = 1; round <= o.rounds; round++) {
      const l = runs.find((r) => r.round === round && r.tool === 'load');
      const w = runs.find((r) => r.round === round && r.tool === 'wrk');
      perRound.push(l.rps / w.rps);
    }
    const met = ratio >= TARGET_RATIO;
    const miscounted = runs.filter((r) => Number.isFinite(r.servedByNginx) && Math.abs(r.servedByNginx - r.requests) > o.connections + 0.01 * r.requests);
    const loadavgMedian = Number(median(runs.map((r) => r.loadavg1)).toFixed(2));

    console.log('');
    console.log(
      table(
        ['', 'req/s (median)', 'min', 'max', 'CPU % of a core', 'CPU µs/req', 'kernel %', 'nginx µs/req', 'upstream µs/req', 'errors'],
        tools.map((t) => {
          const s = summary[t];
          return [{ load: 'badgateway load', wrk: 'wrk -t1', baseline: 'load (baseline)' }[t], fmt.int(s.rps), fmt.int(s.minRps), fmt.int(s.maxRps), s.cpuPct.toFixed(0), s.cpuUsPerReq.toFixed(1), (100 * s.sysShare).toFixed(0), s.nginxCpuUsPerReq.toFixed(1), s.upstreamCpuUsPerReq.toFixed(1), fmt.int(s.errors)];
        }),
      ),
    );
    console.log('');
    console.log(`  load / wrk: ${fmt.ratio(ratio)} (target ≥ ${fmt.ratio(TARGET_RATIO)}): ${met ? 'MET' : 'NOT MET'}; per round ${perRound.map(fmt.ratio).join(' ')}`);
    if (baselineScript) console.log(`  load / baseline: ${fmt.ratio(summary.load.rps / summary.baseline.rps)} in req/s, ${fmt.ratio(summary.load.cpuUsPerReq / summary.baseline.cpuUsPerReq)} in CPU per request (baseline: ${o.baseline})`);
    if (miscounted.length) console.log(`  WARNING: ${miscounted.length} run(s) where nginx's access log and the tool disagree on the count by more than -c + 1 %: ${miscounted.map((r) => `round ${r.round} ${r.tool} ${r.requests} vs ${r.servedByNginx}`).join(', ')}`);
    else console.log(`  every run's count matches nginx's access log (within -c + 1 %)`);
    console.log(`  load average (1 min): ${startLoad.loadavg1} at start, ${loadavgMedian} median over runs, ${endLoad.loadavg1} at end; ${nCpus} CPUs`);

    let profile;
    if (o.profile) {
      const files = existsSync(profileDir) ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : [];
      profile = files.map((f) => ({ file: relative(root, join(profileDir, f)), ...summarizeProfile(join(profileDir, f), { root, top: 12 }) }));
      for (const p of profile) {
        if (p.busyMs < 200) continue; // the generator's idle main thread
        console.log(`\n  profile ${p.file} (busy ${p.busyMs.toFixed(0)} ms):`);
        console.log(table(['self %', 'function', 'where'], p.rows.map((r) => [r.selfPct.toFixed(1), r.function, r.where])).replace(/^/gm, '    '));
      }
    }

    const out = {
      bench: NAME,
      date: new Date().toISOString(),
      machine: { cpus: nCpus, node: process.version, nginx: gw.version, wrk: wrkVersion, loadavg1Start: startLoad.loadavg1, loadavg1Median: loadavgMedian, loadavg1End: endLoad.loadavg1, cpuPressureSome10: startLoad.cpuPressureSome10 },
      settings: { baseline: o.baseline, rounds: o.rounds, durationS: o.durationS, connections: o.connections, warmupS: o.warmupS, loadTargetRate: o.rate, wrk: `wrk -t1 -c${o.connections} -d${o.durationS}s`, url },
      runs,
      summary,
      ratio,
      perRound,
      target: TARGET_RATIO,
      met,
      ...(profile ? { profile } : {}),
    };
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\n  results: ${relative(process.cwd(), o.json)}`);
    return 0;
  } finally {
    await session.close();
  }
}

runMain(main);
