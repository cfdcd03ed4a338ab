#!/usr/bin/env node
/**
 * Accept queue: how many connections wait, established by the kernel but not yet accept()ed, on
 * the harness's listening sockets during full suite runs, and how many cases fail with a 504 at
 * the start of the run because of it. libuv (1.45+, Node 20.20) accepts one connection per
 * listener per event-loop turn; with ~85 scenarios starting at once, turns take 100-300 ms on a
 * loaded machine, and connections to one shared listener waited past nginx's 1 s read timeout.
 *
 *   node bench/accept-queue.mjs [--runs 5] [--gateway nginx] [--baseline PATH/dist/cli/bin.js]
 *                               [--burn 0] [--interval 50] [--json FILE]
 *
 * Each run is `node <bin> run --gateway G --reporter json:FILE` in a child process (so sampling
 * does not share its event loop); every --interval ms `ss -ltnpH` is read and the Recv-Q of the
 * LISTEN sockets that process owns is recorded (for a LISTEN socket Recv-Q is its accept queue).
 * With --baseline, runs alternate baseline, candidate (this checkout's dist), ... so the machine's
 * load hits both alike, and the ratios candidate/baseline are printed. --burn N starts N busy
 * loops for each run, to reproduce the loaded machine on demand. Exits 0 whatever it measures,
 * 1 when it could not measure (dist/ not built, ss missing, a run that wrote no report).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const candidate = resolve(here, '..', 'dist', 'cli', 'bin.js');

const USAGE = `usage: node bench/accept-queue.mjs [options]
  --runs <5>            full suite runs of each build
  --gateway <nginx>     gateways (comma-separated, as run --gateway)
  --baseline <[LABEL=]bin.js>  another build's dist/cli/bin.js to compare with (alternating
                        runs; repeatable)
  --burn <0>            busy loops to start during each run (added load)
  --interval <50>       ms between ss samples
  --json <file>         also write every run's figures as JSON`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    gateway: { type: 'string', default: 'nginx' },
    baseline: { type: 'string', multiple: true },
    burn: { type: 'string', default: '0' },
    interval: { type: 'string', default: '50' },
    json: { type: 'string' },
    rounds: { type: 'string' }, // bench/run.mjs passes --rounds to every benchmark
    help: { type: 'boolean' },
  },
  strict: false,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const runs = Number(values.rounds ?? values.runs);
const burn = Number(values.burn);
const interval = Number(values.interval);
function setupError(msg) {
  console.error(`accept-queue: ${msg}`);
  process.exit(1);
}
if (!Number.isInteger(runs) || runs < 1) setupError(`--runs must be a whole number >= 1, not ${values.runs}`);
if (!existsSync(candidate)) setupError(`${candidate} is missing: run npm run build first`);
// --baseline PATH, or LABEL=PATH (repeatable: several builds, each against the candidate).
const baselines = (values.baseline ?? []).map((b, i, all) => {
  const m = /^([\w-]+)=(.*)$/.exec(b);
  const [label, path] = m ? [m[1], m[2]] : [all.length > 1 ? `baseline${i + 1}` : 'baseline', b];
  if (!existsSync(path)) setupError(`--baseline ${path} does not exist`);
  return [label, path];
});
if (spawnSync('ss', ['-V']).status !== 0) setupError('ss (iproute2) is needed to read accept queues');

/** Recv-Q of each LISTEN socket owned by pid, keyed by local address. */
function listenQueues(pid) {
  const out = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout ?? '';
  const q = new Map();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const f = line.trim().split(/\s+/);
    q.set(f[3], Number(f[1]));
  }
  return q;
}

async function oneRun(bin, label) {
  const dir = mkdtempSync(join(tmpdir(), 'bg-accept-queue-'));
  const report = join(dir, 'report.json');
  const burners = Array.from({ length: burn }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  const load0 = loadavg()[0];
  const child = spawn(process.execPath, [bin, 'run', '--gateway', values.gateway, '--reporter', `json:${report}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let peak = 0; // the largest accept queue of any one listener
  let peakSum = 0; // the most connections waiting on all its listeners at once
  let waitingSamples = 0;
  let samples = 0;
  const sampler = setInterval(() => {
    const q = listenQueues(child.pid);
    const vals = [...q.values()];
    samples++;
    const sum = vals.reduce((a, b) => a + b, 0);
    if (sum > 0) waitingSamples++;
    peakSum = Math.max(peakSum, sum);
    peak = Math.max(peak, ...vals, 0);
  }, interval);
  const code = await new Promise((res) => child.on('exit', (c) => res(c)));
  clearInterval(sampler);
  for (const b of burners) b.kill('SIGKILL');
  if (!existsSync(report)) setupError(`${label}: the run exited ${code} without a report: ${stderr.slice(-600)}`);
  const r = JSON.parse(readFileSync(report, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const cases = r.runs.flatMap((run) => run.cases.map((c) => ({ ...c, gateway: run.gateway })));
  const failed = cases.filter((c) => c.state === 'fail');
  // The burst's signature: a case that failed with a 504 its expectation did not ask for.
  const at504 = failed.filter((c) => c.expected?.status !== 504 && (c.outcomes ?? []).some((o) => o.status === 504));
  const failures = failed.map((c) => ({ scenario: c.scenario, status: c.observed?.status, reasons: c.observed?.reasons, durationMs: c.durationMs, mismatches: c.mismatches?.length }));
  return { label, failures, cases: cases.length, failed: failed.length, failed504: at504.length, peak, peakSum, waitingMs: waitingSamples * interval, samples, load: Math.round(load0 * 10) / 10, exit: code, durationMs: r.summary.durationMs };
}

const builds = [...baselines, ['candidate', candidate]];
const results = [];
for (let i = 1; i <= runs; i++) {
  for (const [label, bin] of builds) {
    const r = await oneRun(bin, label);
    results.push(r);
    console.log(`${label} run ${i}: ${r.failed}/${r.cases} failed (${r.failed504} with an unexpected 504), accept queue peak ${r.peak} on one listener, ${r.peakSum} on all, something waiting for ${r.waitingMs} ms; load ${r.load}, ${(r.durationMs / 1000).toFixed(1)} s`);
  }
}
const sum = (label, k) => results.filter((r) => r.label === label).reduce((a, r) => a + r[k], 0);
const max = (label, k) => Math.max(...results.filter((r) => r.label === label).map((r) => r[k]));
const failing = (label) => results.filter((r) => r.label === label && r.failed504 > 0).length;
console.log(`\naccept-queue through ${values.gateway}, ${runs} runs each${burn ? `, ${burn} busy loops added` : ''}`);
for (const [label] of builds) {
  console.log(`  ${label.padEnd(9)} runs with unexpected 504s ${failing(label)}/${runs}, such cases ${sum(label, 'failed504')}, failed cases ${sum(label, 'failed')}, accept queue peak ${max(label, 'peak')} (one listener) / ${max(label, 'peakSum')} (all), waiting ${sum(label, 'waitingMs')} ms in all`);
}
for (const [base] of baselines) {
  const ratio = (k, f = sum) => (f(base, k) === 0 ? (f('candidate', k) === 0 ? '1.00 (both 0)' : 'n/a (baseline 0)') : (f('candidate', k) / f(base, k)).toFixed(2));
  console.log(`  ratio candidate/${base}: unexpected-504 cases ${ratio('failed504')}, failed cases ${ratio('failed')}, peak queue ${ratio('peak', max)}, waiting time ${ratio('waitingMs')}`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ gateway: values.gateway, runs, burn, results }, null, 2));
