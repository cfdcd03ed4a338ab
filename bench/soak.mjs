#!/usr/bin/env node
/**
 * Soak: at least 1,000,000 mixed requests straight at the chaos upstream (no gateway), the
 * healthy fault and every built-in exchange fault with small params, over a bounded number of
 * connections, while the upstream runs in a child process. Then it checks what an upstream
 * nobody can exhaust must show (issue #9):
 *
 *   - no crash: the upstream process is alive from start to end;
 *   - descriptors back to baseline within a second of the end (counted in /proc/<pid>/fd);
 *   - RSS after within 20 % of RSS before (both read after a full GC in the child, the
 *     "before" after a warm-up of the same mix, so what is compared is what stays retained);
 *   - every request answered the way its fault ends (FIN, RST, or our own timeout for the
 *     faults that never end), and no bug reported on the upstream's stderr.
 *
 * Each check prints PASS or FAIL; the exit code is 1 when one fails (unlike the timing
 * benchmarks, these are not timings but things that must hold). Linux only (/proc).
 *
 *   node bench/soak.mjs [--requests 1000000] [--concurrency 256] [--healthy-share 0.9]
 *        [--pipeline 16] [--seed 1] [--hang-ms 5] [--json FILE]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchOptions, fmt, installCleanup, interrupted, median, positiveInt, runMain, SetupError, startServer, table } from './lib/harness.mjs';

const NAME = 'soak';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');
const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n', 'latin1');
const HEALTHY = Buffer.from('GET /healthy HTTP/1.1\r\nHost: soak\r\n\r\n', 'latin1');
/** A fault that does not end by itself ("hang") is left after this many ms by default. */
const HANG_MS = 5;
/** Every *Ms param of a fault is set to this: the soak is about volume, not about waiting. */
const SMALL_MS = 1;
/** A request to a fault that does end, unanswered after this long, is counted as unanswered. */
const ANSWER_TIMEOUT_MS = 10_000;
const RSS_TOLERANCE = 0.2;
const FD_SETTLE_MS = 1000;

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --requests <1000000>    requests to send (healthy ones count one each, pipelined or not)
  --concurrency <256>     clients at once; each holds at most two connections (a kept-alive one for healthy
                          requests, a fresh one per fault request)
  --healthy-share <0.9>   share of the requests that are healthy; the rest is spread over every exchange fault,
                          fewer for the slow ones (by their measured duration) so the run stays short
  --pipeline <16>         healthy requests written at once on a kept-alive connection
  --seed <1>              the order of the mix
  --hang-ms <${HANG_MS}>           how long the client waits on a fault that never ends (never-respond, ...) before closing
  --json <file>           where to write results (default bench/results/${NAME}.json)`;

function options() {
  const values = benchOptions(
    {
      requests: { type: 'string', default: '1000000' },
      concurrency: { type: 'string', default: '256' },
      'healthy-share': { type: 'string', default: '0.9' },
      pipeline: { type: 'string', default: '16' },
      seed: { type: 'string', default: '1' },
      'hang-ms': { type: 'string', default: String(HANG_MS) },
    },
    USAGE,
  );
  const share = Number(values['healthy-share']);
  if (!(share >= 0 && share < 1)) throw new SetupError(`--healthy-share must be a number from 0 to below 1, got ${values['healthy-share']}`);
  return {
    requests: positiveInt('requests', values.requests),
    concurrency: positiveInt('concurrency', values.concurrency),
    healthyShare: share,
    pipeline: positiveInt('pipeline', values.pipeline),
    seed: positiveInt('seed', values.seed),
    hangMs: positiveInt('hang-ms', values['hang-ms']),
    json: values.json ?? join(resultsDir, `${NAME}.json`),
  };
}

/** mulberry32: a small seeded PRNG, so the order of the mix replays. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One request per exchange fault but healthy: the wire request its test uses, every *Ms param made small. */
function faultRequests(faults, hangMs) {
  return faults
    .filter((f) => f.layer === 'exchange' && f.id !== 'healthy')
    .map((f) => {
      let text = f.wire.request ?? `GET /${f.id}${f.wire.query ?? ''} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;
      const small = Object.keys(f.params ?? {}).filter((p) => p.endsWith('Ms'));
      if (small.length > 0) {
        // Every request line in the text (keepalive-stale sends two) gets the small params.
        text = text.replace(/^(\w+) (\S+) (HTTP\/1\.\d)\r\n/gm, (_, method, target, version) => {
          const q = target.indexOf('?');
          const params = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
          for (const p of small) params.set(p, String(SMALL_MS));
          return `${method} ${q === -1 ? target : target.slice(0, q)}?${params} ${version}\r\n`;
        });
      }
      const end = f.wire.end;
      return { id: f.id, request: Buffer.from(text, 'latin1'), end, timeoutMs: end === 'timeout' ? hangMs : ANSWER_TIMEOUT_MS };
    });
}

/** One request on a fresh connection: how it ended and how long it took. Never rejects. */
function oneShot(port, request, timeoutMs) {
  return new Promise((resolve) => {
    const started = performance.now();
    const s = connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    let bytes = 0;
    let done = false;
    const finish = (end, code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ end, code, bytes, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    s.on('connect', () => s.write(request));
    s.on('data', (d) => (bytes += d.length));
    s.on('end', () => finish('fin'));
    s.on('error', (err) => finish(err.code === 'ECONNRESET' ? 'reset' : 'error', err.code));
    s.on('close', () => finish('fin'));
  });
}

/** A kept-alive connection that sends `count` pipelined healthy requests and checks the answers byte for byte. */
class KeepAlive {
  constructor(port) {
    this.port = port;
    this.socket = undefined;
    this.waiting = undefined;
  }

  open() {
    const s = connect({ host: '127.0.0.1', port: this.port });
    s.setNoDelay(true);
    this.parts = [];
    this.got = 0;
    s.on('data', (d) => {
      this.parts.push(d);
      this.got += d.length;
      if (this.waiting && this.got >= this.waiting.want) this.settle(true);
    });
    const gone = () => {
      if (this.socket === s) this.socket = undefined;
      if (this.waiting) this.settle(false);
    };
    s.on('error', gone);
    s.on('close', gone);
    s.on('end', gone);
    this.socket = s;
  }

  settle(ok) {
    const w = this.waiting;
    this.waiting = undefined;
    clearTimeout(w.timer);
    const body = Buffer.concat(this.parts);
    this.parts = [];
    this.got = 0;
    w.resolve(ok && body.equals(w.expected));
  }

  /** Resolves true when all `batch` answers arrived, exactly as expected. */
  send(batch, expected) {
    if (!this.socket) this.open();
    return new Promise((resolve) => {
      this.waiting = { want: expected.length, expected, resolve, timer: setTimeout(() => this.settle(false), ANSWER_TIMEOUT_MS) };
      this.socket.write(batch);
    });
  }

  close() {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

const rssKb = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? NaN);
const fdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;
const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;

/** A full GC in the child (it runs with --expose-gc; SIGUSR2 asks), then a pause for the heap to shrink. */
async function collect(pid) {
  for (let i = 0; i < 2; i++) {
    process.kill(pid, 'SIGUSR2');
    await sleep(150);
  }
}

async function main() {
  const opts = options();
  if (process.platform !== 'linux') throw new SetupError('the soak reads /proc/<pid>/status and /proc/<pid>/fd: Linux only');
  const dist = join(root, 'dist', 'index.js');
  if (!existsSync(dist)) throw new SetupError('dist/ is not built: run `npm run build` first');
  const { faults } = await import(dist);
  installCleanup();

  const server = await startServer('chaos upstream', join(here, 'servers', 'chaos.mjs'), { nodeArgs: ['--expose-gc'] });
  let crashed;
  const watch = setInterval(() => {
    if (!server.alive && !crashed) crashed = `the upstream exited during the run\n${server.stderr}`;
  }, 50);
  const pid = server.pid;
  const port = server.port;
  const table0 = faultRequests(faults, opts.hangMs);

  // How long each fault takes on its own here (one request at a time, after one to warm up), so
  // slow faults get fewer requests: each fault costs about the same connection-time in all.
  const est = new Map();
  for (const f of table0) {
    const ms = [];
    for (let i = 0; i < 6; i++) ms.push((await oneShot(port, f.request, f.timeoutMs)).ms);
    est.set(f.id, median(ms.slice(1)));
  }
  const weights = table0.map((f) => 1 / (1 + est.get(f.id)));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const batchBuf = Buffer.concat(Array.from({ length: opts.pipeline }, () => HEALTHY));
  const batchOk = Buffer.concat(Array.from({ length: opts.pipeline }, () => OK));

  /** The jobs for `requests` requests, shuffled: 0 is a batch of pipelined healthy requests, i+1 one request to fault i. */
  const plan = (requests, seed, minPerFault) => {
    const faultTotal = Math.round(requests * (1 - opts.healthyShare));
    const perFault = weights.map((w) => Math.max(minPerFault, Math.round((faultTotal * w) / wsum)));
    const faultSum = perFault.reduce((a, b) => a + b, 0);
    const batches = Math.max(0, Math.ceil((requests - faultSum) / opts.pipeline));
    const jobs = new Uint8Array(batches + faultSum);
    let k = batches;
    perFault.forEach((n, i) => jobs.fill(i + 1, k, (k += n)));
    const rand = prng(seed);
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = jobs[i];
      jobs[i] = jobs[j];
      jobs[j] = t;
    }
    return { jobs, planned: faultSum + batches * opts.pipeline };
  };

  /** Runs the jobs on `concurrency` clients; counts into fresh stats, which it returns. */
  const run = async ({ jobs, planned }, progress) => {
    const stats = table0.map((f) => ({ id: f.id, expected: f.end, sent: 0, asExpected: 0, other: 0, unanswered: 0, ms: [] }));
    const healthy = { sent: 0, answered: 0, unanswered: 0 };
    let next = 0;
    const started = performance.now();
    let lastReport = started;
    const worker = async () => {
      const ka = new KeepAlive(port);
      while (next < jobs.length && !crashed && !interrupted()) {
        const job = jobs[next++];
        if (job === 0) {
          healthy.sent += opts.pipeline;
          if (await ka.send(batchBuf, batchOk)) healthy.answered += opts.pipeline;
          else healthy.unanswered += opts.pipeline;
        } else {
          const f = table0[job - 1];
          const st = stats[job - 1];
          st.sent++;
          const r = await oneShot(port, f.request, f.timeoutMs);
          if (st.ms.length < 2000) st.ms.push(r.ms);
          if (r.end === f.end) st.asExpected++;
          // libuv may read data and an RST in one wakeup as a FIN: answered, not as the wire says.
          else if ((r.end === 'fin' || r.end === 'reset') && f.end !== 'timeout') st.other++;
          else st.unanswered++;
        }
        const now = performance.now();
        if (progress && now - lastReport > 15_000) {
          lastReport = now;
          const done = healthy.sent + stats.reduce((a, s) => a + s.sent, 0);
          process.stderr.write(`  ${fmt.int(done)} / ${fmt.int(planned)} requests, ${((now - started) / 1000).toFixed(0)} s\n`);
        }
      }
      ka.close();
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    return { stats, healthy, seconds: (performance.now() - started) / 1000 };
  };

  // Warm-up: the same mix, 2 % of the run (at least 20,000 requests), so "before" is the upstream
  // in its steady state (JIT done, heap grown to its working size), not a process just started.
  const warm = await run(plan(Math.max(20_000, Math.round(opts.requests * 0.02)), opts.seed + 1, 5), false);
  const warmUnanswered = warm.healthy.unanswered + warm.stats.reduce((a, s) => a + s.unanswered, 0);
  if (warmUnanswered > 0) process.stderr.write(`  warm-up: ${warmUnanswered} unanswered\n`);
  await sleep(300);
  await collect(pid);
  const before = { rssKb: rssKb(pid), fds: fdCount(pid) };

  let peakKb = before.rssKb;
  let peakFds = before.fds;
  const sampler = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, rssKb(pid));
      peakFds = Math.max(peakFds, fdCount(pid));
    } catch {
      /* the child is gone: the crash check says so */
    }
  }, 100);
  const { stats, healthy, seconds } = await run(plan(opts.requests, opts.seed, 50), true);
  const endedAt = performance.now();
  clearInterval(sampler);

  // Descriptors: polled from the end of the load until back at the baseline, at most a second.
  let fdsBackMs;
  let fdsAfter = fdCount(pid);
  while (performance.now() - endedAt <= FD_SETTLE_MS) {
    fdsAfter = fdCount(pid);
    if (fdsAfter <= before.fds) {
      fdsBackMs = performance.now() - endedAt;
      break;
    }
    await sleep(20);
  }
  await collect(pid);
  const after = { rssKb: rssKb(pid), fds: fdCount(pid) };
  clearInterval(watch);
  if (!server.alive && !crashed) crashed = `the upstream exited\n${server.stderr}`;
  const bugs = /this is a bug|internal error/i.test(server.stderr);
  await server.stop();
  if (interrupted()) return 130;

  const sent = healthy.sent + stats.reduce((a, s) => a + s.sent, 0);
  const unanswered = healthy.unanswered + stats.reduce((a, s) => a + s.unanswered, 0);
  const answered = sent - unanswered;
  console.log(`soak: ${fmt.int(sent)} requests in ${seconds.toFixed(1)} s (${fmt.int(sent / seconds)} req/s), ${opts.concurrency} clients, seed ${opts.seed}`);
  console.log(`  healthy: ${fmt.int(healthy.sent)} (pipelined ${opts.pipeline} at a time on kept-alive connections); faults: ${fmt.int(sent - healthy.sent)} over ${stats.length} exchange faults, a fresh connection each`);
  console.log('');
  console.log(
    table(
      ['fault', 'requests', 'ends as its wire says', 'other end', 'unanswered', 'median'],
      stats.map((s) => [s.id, fmt.int(s.sent), `${s.sent ? ((100 * s.asExpected) / s.sent).toFixed(1) : '-'}% (${s.expected})`, fmt.int(s.other), fmt.int(s.unanswered), fmt.ms(median(s.ms))]),
    ),
  );
  console.log('');
  console.log(`  requests sent ${fmt.int(sent)}, answered ${fmt.int(answered)}, unanswered ${fmt.int(unanswered)}`);
  console.log(`  RSS before ${mb(before.rssKb)}, peak ${mb(peakKb)}, after ${mb(after.rssKb)} (${after.rssKb >= before.rssKb ? '+' : ''}${(((after.rssKb - before.rssKb) / before.rssKb) * 100).toFixed(1)} %)`);
  console.log(`  descriptors before ${before.fds}, peak ${peakFds}, after ${fdsAfter}${fdsBackMs === undefined ? ` (not back within ${FD_SETTLE_MS} ms)` : ` (back ${fdsBackMs.toFixed(0)} ms after the end)`}`);
  console.log('');
  const checks = [
    [`at least ${fmt.int(opts.requests)} requests sent`, sent >= opts.requests],
    ['zero crashes: the upstream process stayed up', !crashed],
    ['no bug reported on the upstream\'s stderr', !bugs],
    ['every request answered as its fault ends (FIN, RST, or the hang the client leaves)', unanswered === 0],
    [`descriptors back to baseline within ${FD_SETTLE_MS} ms of the end`, fdsBackMs !== undefined],
    [`RSS after within ${RSS_TOLERANCE * 100} % of RSS before`, after.rssKb <= before.rssKb * (1 + RSS_TOLERANCE)],
  ];
  for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
  if (crashed) console.log(crashed);
  if (bugs) console.log(`upstream stderr:\n${server.stderr}`);

  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(
    opts.json,
    JSON.stringify(
      {
        settings: opts,
        seconds,
        sent,
        answered,
        unanswered,
        healthy,
        faults: stats.map(({ ms, ...s }) => ({ ...s, medianMs: median(ms), calibratedMs: est.get(s.id) })),
        rssKb: { before: before.rssKb, peak: peakKb, after: after.rssKb },
        fds: { before: before.fds, peak: peakFds, after: fdsAfter, backMs: fdsBackMs },
        crashed: crashed ?? null,
        checks: Object.fromEntries(checks),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results: ${relative(process.cwd(), opts.json)}`);
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

runMain(main);
