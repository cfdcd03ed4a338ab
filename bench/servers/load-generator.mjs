#!/usr/bin/env node
/**
 * One run of `badgateway load`'s generator, alone in its process, for bench/load-vs-wrk.mjs:
 * the same entry point `load` uses (generateInWorker from dist/load/run.js: the generator on
 * its worker thread(s)), against a gateway somebody else started. Its own process, so its CPU
 * can be told from the gateway's and the upstream's, as wrk's can.
 *
 *   node bench/servers/load-generator.mjs '{"host":"127.0.0.1","port":N,"path":"/s/load/healthy",
 *        "rate":200000,"durationMs":5000,"connections":50}'
 *
 * Prints one JSON line: sent, achieved rate, statuses, the CPU this process used while it
 * generated (all threads, from /proc/self/stat) and the wall time it took. Exits 1 on failure.
 */
import { readFileSync } from 'node:fs';

const USER_HZ = 100;
/** This process's CPU time (all threads), ms: [user + system, system]. */
function cpuTimes() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ, (Number(f[12]) * 1000) / USER_HZ];
  } catch {
    return [NaN, NaN];
  }
}
const cpuMs = () => cpuTimes()[0];

let generateInWorker, requestBytes;
try {
  ({ generateInWorker, requestBytes } = await import('../../dist/load/run.js'));
} catch (err) {
  console.error(`cannot load dist/load/run.js (run \`npm run build\` first): ${err.message}`);
  process.exit(1);
}

const o = JSON.parse(process.argv[2] ?? '{}');
if (o.host !== '127.0.0.1') {
  console.error(`refusing to load anything but 127.0.0.1: ${o.host}`);
  process.exit(1);
}
// Exit with the bench: it holds our stdin.
process.stdin.on('end', () => process.exit(1)).resume();

const cpu0 = cpuMs();
const t0 = performance.now();
// The steady state: from the first progress report (the worker started, its code loaded) to the
// last one, so start-up is not charged per request; the whole run is reported too.
let first, last;
const onProgress = (p) => {
  const [cpu, sys] = cpuTimes();
  const at = { cpuMs: cpu, sysMs: sys, t: performance.now(), done: p.done };
  if (!first) first = at;
  else last = at;
};
const g = await generateInWorker({
  host: o.host,
  port: o.port,
  rate: o.rate,
  durationMs: o.durationMs,
  connections: o.connections,
  timeoutMs: o.timeoutMs ?? 2000,
  requests: [requestBytes('GET', o.path, o.host, o.port)],
  mix: [{ fault: 'healthy', weight: 1 }],
  seed: 1,
}, undefined, onProgress);
const wallMs = performance.now() - t0;
const cpu = cpuMs() - cpu0;
process.stdout.write(
  `${JSON.stringify({
    sent: g.sent,
    windowMs: g.windowMs,
    rps: g.windowMs > 0 ? g.sent / (g.windowMs / 1000) : 0,
    byStatus: g.byStatus,
    noResponse: g.noResponse,
    connectionsOpened: g.connectionsOpened,
    cpuMs: cpu,
    wallMs,
    steady: first && last && last.done > first.done ? { cpuMs: last.cpuMs - first.cpuMs, sysMs: last.sysMs - first.sysMs, wallMs: last.t - first.t, done: last.done - first.done } : undefined,
  })}\n`,
  () => process.exit(0),
);
