#!/usr/bin/env node
/**
 * Held connections: how long a healthy request takes while 10,000 other connections sit open on
 * the chaos upstream, against the same measurement with none held, in the same run (issue #9:
 * p99 under 5 ms with 10,000 held).
 *
 * The upstream runs in a child process. The held connections each send one healthy request
 * and then stay open, idle, as a gateway's pool of kept-alive upstream connections does
 * (`--hung`: they send nothing at all, like peers that connect and hang; the head guard then
 * times them, so the upstream runs with a head timeout longer than the bench). Healthy
 * requests are timed from write to the last byte of the answer, on one kept-alive connection
 * and on a fresh connection each. Rounds of (none held, 10,000 held), then none held once more;
 * samples pool by phase, so drift on a shared machine hits both sides.
 *
 * Needs about held + 2,000 descriptors in this process and in the upstream's: it raises its own
 * limit with prlimit when it can (root), and says what to do when it cannot.
 *
 *   node bench/held-connections.mjs [--held 10000] [--samples 3000] [--rounds 3] [--hung] [--json FILE]
 *
 * Exits 0 whatever it measures; 1 when it could not measure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchOptions, fmt, installCleanup, interrupted, positiveInt, runMain, SetupError, startServer, table } from './lib/harness.mjs';

const NAME = 'held-connections';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');
const TARGET_P99_MS = 5;
const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n', 'latin1');
const OK_CLOSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';
const GET = 'GET /healthy HTTP/1.1\r\nHost: bench\r\n\r\n';
const GET_CLOSE = 'GET /healthy HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n';
/** Descriptors beyond the held ones: timing connections, the child's own, and slack. */
const SPARE_FDS = 2000;

const USAGE = `usage: node bench/${NAME}.mjs [options]
  --held <10000>     connections held open during the loaded phase
  --samples <3000>   healthy requests timed per phase and per kind (kept-alive; fresh connections get a third)
  --rounds <3>       rounds of (none held, held); one more of none held at the end
  --hung             held connections send nothing (default: one healthy request each, then idle)
  --json <file>      where to write results (default bench/results/${NAME}.json)`;

function options() {
  const values = benchOptions(
    {
      held: { type: 'string', default: '10000' },
      samples: { type: 'string', default: '3000' },
      rounds: { type: 'string', default: '3' },
      hung: { type: 'boolean', default: false },
    },
    USAGE,
  );
  return {
    held: positiveInt('held', values.held),
    samples: positiveInt('samples', values.samples),
    rounds: positiveInt('rounds', values.rounds),
    hung: values.hung,
    json: values.json ?? join(resultsDir, `${NAME}.json`),
  };
}

function nofile() {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
  const n = (t) => (t === 'unlimited' ? Infinity : Number(t));
  return m ? { soft: n(m[1]), hard: n(m[2]) } : { soft: 1024, hard: 1024 };
}

/** Our descriptor limit raised to `need` if it is below (prlimit on our own pid: the child inherits it). */
function ensureDescriptors(need) {
  let lim = nofile();
  if (lim.soft >= need) return lim.soft;
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${need}:${Math.max(need, lim.hard)}`], { encoding: 'utf8' });
  lim = nofile();
  if (lim.soft >= need) return lim.soft;
  throw new SetupError(
    `this bench needs ${need} open descriptors (--held plus ${SPARE_FDS}) and may open ${lim.soft} (hard limit ${lim.hard})` +
      (r.error ? '; prlimit is not installed (util-linux)' : `; prlimit could not raise it${r.stderr ? `: ${r.stderr.trim()}` : ''}`) +
      `. Raise it in the shell first (\`ulimit -n ${need}\`; above the hard limit that takes root or /etc/security/limits.conf), or hold fewer (--held ${Math.max(1, lim.soft - SPARE_FDS)}).`,
  );
}

const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const summary = (xs) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) });

function open(port) {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from `s` until `want` bytes arrived; resolves them. */
function readExactly(s, want) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let got = 0;
    const onData = (d) => {
      parts.push(d);
      got += d.length;
      if (got >= want) done(null);
    };
    const onGone = () => done(new Error(`connection ended after ${got} of ${want} bytes`));
    const done = (err) => {
      s.off('data', onData);
      s.off('end', onGone);
      s.off('close', onGone);
      s.off('error', onGone);
      if (err) reject(err);
      else resolve(Buffer.concat(parts));
    };
    s.on('data', onData);
    s.once('end', onGone);
    s.once('close', onGone);
    s.once('error', onGone);
  });
}

/** `n` healthy requests one after another on one kept-alive connection, each timed write → last byte. */
async function timeKeptAlive(port, n) {
  const s = await open(port);
  const ms = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const pending = readExactly(s, OK.length);
      s.write(GET);
      const got = await pending;
      ms.push(performance.now() - t);
      if (!got.equals(OK)) throw new SetupError(`the upstream answered something else than healthy: ${JSON.stringify(got.toString('latin1'))}`);
    }
  } finally {
    s.destroy();
  }
  return ms;
}

/** `n` healthy requests, each on a fresh connection, timed connect → last byte. */
async function timeFresh(port, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const s = await open(port);
    const pending = readExactly(s, OK_CLOSE.length);
    s.write(GET_CLOSE);
    const got = await pending;
    ms.push(performance.now() - t);
    s.destroy();
    if (got.toString('latin1') !== OK_CLOSE) throw new SetupError(`the upstream answered something else than healthy: ${JSON.stringify(got.toString('latin1'))}`);
  }
  return ms;
}

async function measure(port, samples) {
  return { keptAlive: await timeKeptAlive(port, samples), fresh: await timeFresh(port, Math.max(100, Math.round(samples / 3))) };
}

const rssKb = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? NaN);
const fdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;

async function main() {
  const opts = options();
  if (process.platform !== 'linux') throw new SetupError('this bench reads /proc: Linux only');
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new SetupError('dist/ is not built: run `npm run build` first');
  const limit = ensureDescriptors(opts.held + SPARE_FDS);
  installCleanup();
  const upstreamOptions = { maxConnections: opts.held + SPARE_FDS / 2, ...(opts.hung ? { headTimeoutMs: 600_000 } : {}) };
  const server = await startServer('chaos upstream', join(here, 'servers', 'chaos.mjs'), { args: ['--options', JSON.stringify(upstreamOptions)] });
  const { pid, port } = server;

  await measure(port, 2000); // warm-up, unrecorded

  /** Opens the held connections, 500 at a time; resolves them and how long it took. */
  const holdAll = async () => {
    const held = [];
    const started = performance.now();
    for (let i = 0; i < opts.held && !interrupted(); i += 500) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(500, opts.held - i) }, async () => {
          const s = await open(port);
          if (!opts.hung) {
            const pending = readExactly(s, OK.length);
            s.write(GET);
            await pending;
          }
          s.on('error', () => {});
          s.once('close', () => closedEarly++);
          return s;
        }),
      );
      held.push(...batch);
    }
    return { held, seconds: (performance.now() - started) / 1000 };
  };

  // Rounds of none held, then held; a last round of none held. Samples pool by phase.
  const none = { keptAlive: [], fresh: [] };
  const loaded = { keptAlive: [], fresh: [] };
  const perRound = [];
  let closedEarly = 0;
  let openSeconds = 0;
  let fdsHeld = 0;
  let rssHeld = 0;
  let rssBase = 0;
  const add = (into, m) => {
    into.keptAlive.push(...m.keptAlive);
    into.fresh.push(...m.fresh);
  };
  for (let round = 0; round < opts.rounds && !interrupted(); round++) {
    const a = await measure(port, opts.samples);
    add(none, a);
    // Memory per held connection: from the first round, before the heap has grown around any.
    if (round === 0) rssBase = rssKb(pid);
    const { held, seconds } = await holdAll();
    openSeconds = Math.max(openSeconds, seconds);
    await sleep(1500); // the head guard sweeps its connections every second: let it run over all of them
    fdsHeld = Math.max(fdsHeld, fdCount(pid));
    if (round === 0) rssHeld = rssKb(pid);
    const b = await measure(port, opts.samples);
    add(loaded, b);
    perRound.push({ none: { keptAlive: summary(a.keptAlive).p99, fresh: summary(a.fresh).p99 }, held: { keptAlive: summary(b.keptAlive).p99, fresh: summary(b.fresh).p99 } });
    for (const s of held) {
      s.removeAllListeners('close');
      s.destroy();
    }
    const settle = performance.now();
    while (fdCount(pid) > fdsHeld - opts.held + 50 && performance.now() - settle < 5000) await sleep(50);
  }
  add(none, await measure(port, opts.samples));
  await server.stop();
  if (interrupted()) return 130;

  const heldName = `${fmt.int(opts.held)} held${opts.hung ? ' (hung)' : ' (idle)'}`;
  const phases = [
    ['none held', none],
    [heldName, loaded],
  ];
  const rows = [];
  for (const [name, m] of phases) {
    for (const kind of ['keptAlive', 'fresh']) {
      const s = summary(m[kind]);
      rows.push([name, kind === 'keptAlive' ? 'kept-alive' : 'fresh connection', fmt.int(s.n), fmt.ms(s.p50), fmt.ms(s.p99), fmt.ms(s.max)]);
    }
  }
  console.log(`held-connections: healthy requests with ${fmt.int(opts.held)} other connections open on the upstream, against none (descriptor limit ${limit}), ${opts.rounds} rounds`);
  console.log(`  opened ${fmt.int(opts.held)} in ${openSeconds.toFixed(1)} s (slowest round); the upstream then had ${fmt.int(fdsHeld)} descriptors and ${(rssHeld / 1024).toFixed(1)} MB RSS (${(rssBase / 1024).toFixed(1)} MB with none, first round: ${(((rssHeld - rssBase) * 1024) / opts.held).toFixed(0)} bytes per held connection); ${closedEarly} closed early`);
  console.log('');
  console.log(table(['phase', 'request', 'n', 'p50', 'p99', 'max'], rows));
  console.log('');
  console.log(
    table(
      ['round', 'p99 kept-alive, none', 'held', 'p99 fresh, none', 'held'],
      perRound.map((r, i) => [String(i + 1), fmt.ms(r.none.keptAlive), fmt.ms(r.held.keptAlive), fmt.ms(r.none.fresh), fmt.ms(r.held.fresh)]),
    ),
  );
  console.log('');
  const verdicts = {};
  for (const kind of ['keptAlive', 'fresh']) {
    const p99 = summary(loaded[kind]).p99;
    const ratio = p99 / summary(none[kind]).p99;
    verdicts[kind] = { p99, ratio, met: p99 < TARGET_P99_MS };
    console.log(`${kind === 'keptAlive' ? 'kept-alive' : 'fresh connection'}: p99 with ${fmt.int(opts.held)} held ${fmt.ms(p99)} (${fmt.ratio(ratio)} the p99 with none held); target < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'MET' : 'NOT MET'}`);
  }

  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(
    opts.json,
    JSON.stringify(
      {
        settings: opts,
        descriptorLimit: limit,
        openSeconds,
        closedEarly,
        upstream: { fdsHeld, rssKbBase: rssBase, rssKbHeld: rssHeld },
        phases: Object.fromEntries(phases.map(([name, m]) => [name, { keptAlive: summary(m.keptAlive), fresh: summary(m.fresh) }])),
        perRound,
        verdicts,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results: ${relative(process.cwd(), opts.json)}`);
  return 0;
}

runMain(main);
