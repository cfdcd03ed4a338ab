#!/usr/bin/env node
/**
 * Stalled event-stream clients: healthy throughput of the chaos upstream while 100 clients hold
 * its control API's event stream open and never read, against the same upstream with none, in the
 * same run; and what the stalled clients cost in resident memory (issue #9: under 50 MB in all,
 * throughput within 20 % of the unloaded run).
 *
 * The upstream runs in a child process with its control API. It builds events only while someone
 * subscribes: the stalled clients are the only subscribers, so the unloaded phase costs no events
 * and the loaded one pays for all of them. A stalled client is closed by the upstream once more
 * than its bound of events was sent to it unconfirmed; a hostile peer then reconnects, so by
 * default each one dropped is replaced (within 50 ms: a client that never reads cannot see the
 * close, so the bench watches the upstream's side of each socket in /proc/net/tcp) and about 100
 * stay stalled throughout (`--no-replace`: dropped ones stay gone, which measures only until the
 * first drop). Rounds of (none, stalled) alternate so drift on a shared machine hits both sides.
 * Besides the upstream's RSS it prints the kernel's memory for TCP sockets, where unread bytes
 * wait.
 *
 *   node bench/stalled-events.mjs [--clients 100] [--duration 5] [--rounds 3] [--no-replace] [--json FILE]
 *
 * With BENCH_PROF=DIR in the environment the upstream writes a V8 CPU profile into DIR (--cpu-prof).
 *
 * Prints PASS or FAIL against each target; exits 0 whatever it measures, 1 when it could not measure.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchOptions, checkWrk, cpuTimeMs, fmt, installCleanup, interrupted, machineLoad, median, parseDurationS, positiveInt, runMain, runWrk, SetupError, startServer, table } from './lib/harness.mjs';

const NAME = 'stalled-events';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');
const TARGET_RSS_GROWTH_MB = 50;
const TARGET_THROUGHPUT_RATIO = 0.8;

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --clients <100>    stalled event-stream clients during the loaded phase
  --duration <5>     seconds of wrk per phase
  --rounds <3>       rounds of (none, stalled)
  --no-replace       do not replace a stalled client the upstream closes
  --json <file>      where to write results (default bench/results/${NAME}.json)`;

function options() {
  const values = benchOptions(
    {
      clients: { type: 'string', default: '100' },
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      'no-replace': { type: 'boolean', default: false },
    },
    USAGE,
  );
  return {
    clients: positiveInt('clients', values.clients),
    durationS: parseDurationS(values.duration),
    rounds: positiveInt('rounds', values.rounds),
    replace: !values['no-replace'],
    json: values.json ?? join(resultsDir, `${NAME}.json`),
  };
}

/** A port free right now on 127.0.0.1, for the child's control API (the bench server announces only its HTTP port). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const rssKb = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? NaN);

/** Handshake on /api/events, then never read again: paused, the kernel's buffers fill and stay full. */
function stalledClient(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.once('close', () => reject(new SetupError('the control API closed an event-stream client during its handshake')));
    s.write(
      `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.pause();
      if (head.startsWith('HTTP/1.1 101 ')) resolve(s);
      else reject(new SetupError(`the control API refused the event-stream upgrade: ${head.split('\r\n')[0]}`));
    };
    s.on('data', onData);
  });
}

/**
 * The upstream's side of each connection to `port`, by the client's port: a stalled client never
 * reads, so it cannot see the upstream close it; the upstream's socket leaving ESTABLISHED can be.
 */
function serverSideStates(port) {
  const states = new Map();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !f[1].endsWith(`:${hexPort}`)) continue;
    states.set(parseInt(f[2].split(':')[1], 16), f[3]);
  }
  return states;
}
const ESTABLISHED = '01';

/** Kernel memory of all TCP sockets, from /proc/net/sockstat (pages of 4 KiB). */
const tcpKernelMb = () => (Number(/^TCP:.* mem (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'latin1'))?.[1] ?? NaN) * 4096) / 1024 / 1024;

/**
 * `n` stalled clients, kept at `n` (when `replace`) until stop(): every 50 ms the ones the
 * upstream has closed are counted, destroyed and (when `replace`) replaced, as a hostile peer
 * reconnecting would be.
 */
async function stallClients(port, n, replace) {
  const live = new Map();
  let dropped = 0;
  let stopped = false;
  const add = async () => {
    const s = await stalledClient(port);
    s.removeAllListeners('close');
    live.set(s.localPort, s);
  };
  await Promise.all(Array.from({ length: n }, add));
  const watcher = setInterval(() => {
    const states = serverSideStates(port);
    for (const [localPort, s] of live) {
      if (states.get(localPort) === ESTABLISHED) continue;
      live.delete(localPort);
      s.destroy();
      dropped++;
      if (replace && !stopped) add().catch(() => {});
    }
  }, 50);
  return {
    get dropped() {
      return dropped;
    },
    get live() {
      return live.size;
    },
    stop() {
      stopped = true;
      clearInterval(watcher);
      for (const s of live.values()) s.destroy();
      live.clear();
    },
  };
}

async function main() {
  const opts = options();
  if (process.platform !== 'linux') throw new SetupError('this bench reads /proc: Linux only');
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new SetupError('dist/ is not built: run `npm run build` first');
  const wrkVersion = checkWrk();
  installCleanup();
  const load = machineLoad();
  const controlPort = await freePort();
  const server = await startServer('chaos upstream', join(here, 'servers', 'chaos.mjs'), {
    nodeArgs: ['--expose-gc', ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : [])],
    args: ['--options', JSON.stringify({ control: { port: controlPort } })],
  });
  const { pid } = server;
  const url = `http://127.0.0.1:${server.port}/healthy`;
  /** wrk, plus the upstream's CPU time per request: steadier than req/s when other work shares the machine. */
  const wrk = async () => {
    const cpu0 = cpuTimeMs(pid);
    const r = await runWrk(url, { durationS: opts.durationS });
    return { ...r, cpuUsPerRequest: ((cpuTimeMs(pid) - cpu0) * 1000) / r.requests };
  };

  await runWrk(url, { durationS: 2 }); // warm-up, unrecorded
  // One unrecorded stalled phase too: the first one grows the heap for the event path's code and buffers.
  const warm = await stallClients(controlPort, opts.clients, opts.replace);
  await runWrk(url, { durationS: 2 });
  warm.stop();
  await sleep(500);

  const rounds = [];
  for (let round = 0; round < opts.rounds && !interrupted(); round++) {
    process.kill(pid, 'SIGUSR2'); // a full GC, so RSS before is what the upstream holds, not garbage
    await sleep(300);
    const none = await wrk();
    const rssBefore = rssKb(pid);
    const tcpBefore = tcpKernelMb();
    let tcpPeak = tcpBefore;
    const clients = await stallClients(controlPort, opts.clients, opts.replace);
    let rssPeak = rssKb(pid);
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssKb(pid));
      tcpPeak = Math.max(tcpPeak, tcpKernelMb());
    }, 50);
    let stalled;
    try {
      stalled = await wrk();
    } finally {
      clearInterval(sampler);
    }
    const rssAfter = rssKb(pid);
    rssPeak = Math.max(rssPeak, rssAfter);
    const live = clients.live;
    const dropped = clients.dropped;
    clients.stop();
    await sleep(500);
    rounds.push({ none: none.rps, stalled: stalled.rps, cpuUsNone: none.cpuUsPerRequest, cpuUsStalled: stalled.cpuUsPerRequest, errors: none.errors + stalled.errors, rssKbBefore: rssBefore, rssKbPeak: rssPeak, rssKbAfter: rssAfter, tcpMbBefore: tcpBefore, tcpMbPeak: tcpPeak, liveAtEnd: live, dropped });
  }
  await server.stop();
  if (interrupted()) return 130;

  const noneRps = median(rounds.map((r) => r.none));
  const stalledRps = median(rounds.map((r) => r.stalled));
  const ratio = stalledRps / noneRps;
  // The verdict takes the worst round: the budget is for the whole cost, not a typical one.
  const growthMb = Math.max(...rounds.map((r) => (r.rssKbPeak - r.rssKbBefore) / 1024));
  const rssMet = growthMb < TARGET_RSS_GROWTH_MB;
  const rpsMet = ratio >= TARGET_THROUGHPUT_RATIO;

  console.log(
    `stalled-events: healthy req/s of the chaos upstream with ${opts.clients} stalled event-stream clients against none, ` +
      `${opts.rounds} rounds of wrk -t1 -c50 -d${opts.durationS}s (${wrkVersion}; load average ${load.loadavg1} before the run)`,
  );
  console.log(`  stalled clients ${opts.replace ? 'replaced as soon as the upstream closes one' : 'not replaced once closed'}`);
  console.log('');
  console.log(
    table(
      ['round', 'req/s none', `req/s ${opts.clients} stalled`, 'ratio', 'CPU/req none', 'stalled', 'RSS before MB', 'peak MB', 'after MB', 'kernel TCP MB', 'peak', 'closed by upstream', 'errors'],
      rounds.map((r, i) => [
        String(i + 1),
        fmt.int(r.none),
        fmt.int(r.stalled),
        fmt.ratio(r.stalled / r.none),
        fmt.us(r.cpuUsNone),
        fmt.us(r.cpuUsStalled),
        (r.rssKbBefore / 1024).toFixed(1),
        (r.rssKbPeak / 1024).toFixed(1),
        (r.rssKbAfter / 1024).toFixed(1),
        r.tcpMbBefore.toFixed(1),
        r.tcpMbPeak.toFixed(1),
        fmt.int(r.dropped),
        fmt.int(r.errors),
      ]),
    ),
  );
  console.log('');
  console.log(`throughput: median ${fmt.int(stalledRps)} req/s with ${opts.clients} stalled, ${fmt.int(noneRps)} with none: ${fmt.ratio(ratio)}; target >= ${TARGET_THROUGHPUT_RATIO}x: ${rpsMet ? 'PASS' : 'FAIL'}`);
  const cpuNone = median(rounds.map((r) => r.cpuUsNone));
  const cpuStalled = median(rounds.map((r) => r.cpuUsStalled));
  console.log(`  upstream CPU per request: median ${fmt.us(cpuStalled)} with ${opts.clients} stalled, ${fmt.us(cpuNone)} with none (${fmt.ratio(cpuNone / cpuStalled)} the throughput the CPU allows; for reading the req/s when the machine is shared)`);
  const tcpGrowthMb = Math.max(...rounds.map((r) => r.tcpMbPeak - r.tcpMbBefore));
  console.log(`  kernel memory of all TCP sockets (both ends, this machine), worst round: +${tcpGrowthMb.toFixed(1)} MB at peak`);
  console.log(`memory: RSS growth with ${opts.clients} stalled, worst round ${growthMb.toFixed(1)} MB (peak over the round's before); target < ${TARGET_RSS_GROWTH_MB} MB: ${rssMet ? 'PASS' : 'FAIL'}`);

  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(
    opts.json,
    JSON.stringify({ settings: opts, machineLoad: load, rounds, medians: { none: noneRps, stalled: stalledRps, ratio, cpuUsNone: cpuNone, cpuUsStalled: cpuStalled }, worstRssGrowthMb: growthMb, worstKernelTcpGrowthMb: tcpGrowthMb, verdicts: { rss: rssMet, throughput: rpsMet } }, null, 2) + '\n',
  );
  console.log(`results: ${relative(process.cwd(), opts.json)}`);
  return 0;
}

runMain(main);
