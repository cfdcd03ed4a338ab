/**
 * Benchmark plumbing shared by bench/*.mjs: server child processes, wrk runs
 * and their parsed output, medians, and cleanup of every child on exit.
 * Everything here targets 127.0.0.1 only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

/** A benchmark could not run (a tool is missing, a server did not start): exit 1 with this message. */
export class SetupError extends Error {}

const children = new Set();
let cleanupInstalled = false;
let interruptedBy;

/** The signal (SIGINT/SIGTERM) that interrupted this benchmark, if any: failures after it are not real. */
export function interrupted() {
  return interruptedBy;
}

/** Kill every child we started: at exit (synchronously), and on SIGINT/SIGTERM (then exit 130/143). */
export function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    process.once(sig, () => {
      interruptedBy = sig;
      process.stderr.write(`\n${sig}: stopping ${children.size} child process(es)\n`);
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      // process.on('exit') SIGKILLs whatever ignored the SIGTERM.
      setTimeout(() => process.exit(code), 300).unref();
    });
  }
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A command prefix that pins a process to one CPU, or [] when pinning is off or taskset is missing. */
export function pinPrefix(cpu) {
  if (cpu === undefined || cpu === null) return [];
  return ['taskset', '-c', String(cpu)];
}

export function hasTaskset() {
  const r = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
  return !r.error;
}

/**
 * Start `node <script> --exit-on-stdin-close ...args` and wait for the JSON line
 * with its port. The child holds our stdin pipe: if we die, it exits.
 */
export async function startServer(name, script, { nodeArgs = [], args = [], cpu, timeoutMs = 10_000, cwd } = {}) {
  const argv = [...pinPrefix(cpu), process.execPath, ...nodeArgs, script, '--exit-on-stdin-close', ...args];
  const child = track(spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd }));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
  });
  child.stdout.setEncoding('utf8');
  const info = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new SetupError(`${name} did not print its port within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    const onData = (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      try {
        const parsed = JSON.parse(out.slice(0, nl));
        if (!Number.isInteger(parsed.port) || parsed.port <= 0) throw new Error(`no port in ${out.slice(0, nl)}`);
        resolve(parsed);
      } catch (err) {
        child.kill('SIGKILL');
        reject(new SetupError(`${name} printed something other than {"port":N}: ${err.message}`));
      }
    };
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new SetupError(`${name} exited (${signal ?? `code ${code}`}) before it was listening\n${stderr.trim()}`));
    };
    const onError = (err) => {
      clearTimeout(timer);
      reject(new SetupError(`${name} could not be spawned (${argv[0]}): ${err.message}`));
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  child.stdout.resume();
  return {
    name,
    port: info.port,
    pid: child.pid,
    url: `http://127.0.0.1:${info.port}/`,
    get stderr() {
      return stderr;
    },
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(t);
    },
  };
}

/** One GET over a fresh connection: status, headers and body, to check a server says what we expect. */
export async function probe(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** Fails with a SetupError (and the install hint) when wrk is not there. Returns its version line. */
export function checkWrk(wrk = 'wrk') {
  const r = spawnSync(wrk, ['-v'], { encoding: 'utf8' });
  if (r.error) {
    throw new SetupError(
      r.error.code === 'ENOENT'
        ? `wrk not found (${wrk}). Install it: \`apt-get install wrk\` (Debian/Ubuntu), \`brew install wrk\` (macOS), or pass --wrk /path/to/wrk.`
        : `cannot run ${wrk}: ${r.error.message}`,
    );
  }
  return `${r.stdout}${r.stderr}`.split('\n')[0].trim();
}

/** Parse a wrk duration like 812.00us, 1.23ms, 2.00s, 1.00m into milliseconds. */
export function wrkTimeMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return v * { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]];
}

/** Requests/sec, latency p50/p90/p99 (ms), totals and errors from `wrk --latency` output. */
export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? wrkTimeMs(m[1]) : NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] } : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const total = /(\d+) requests in ([\d.]+\w+),/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    requests: total ? Number(total[1]) : NaN,
    elapsedMs: total ? wrkTimeMs(total[2]) : NaN,
    socketErrors,
    errors: socketErrors.connect + socketErrors.read + socketErrors.write + socketErrors.timeout + (Number.isNaN(non2xx) ? 0 : non2xx),
    non2xx: Number.isNaN(non2xx) ? 0 : non2xx,
  };
}

/** Run wrk against a 127.0.0.1 URL with a hard deadline; resolves the parsed result plus the raw output. */
export async function runWrk(url, { wrk = 'wrk', threads = 1, connections = 50, durationS = 5, timeoutS = 2, headers = [], cpu } = {}) {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`refusing to load anything but 127.0.0.1: ${url}`);
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, `--timeout`, `${timeoutS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const argv = [...pinPrefix(cpu), wrk, ...args];
  const child = track(spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const deadline = setTimeout(() => child.kill('SIGKILL'), (durationS + 15) * 1000);
  let code, signal;
  try {
    [code, signal] = await once(child, 'exit'); // rejects on 'error' (e.g. ENOENT)
  } catch (e) {
    throw new SetupError(`cannot run ${wrk}: ${e.message}`);
  } finally {
    clearTimeout(deadline);
  }
  if (code !== 0) throw new SetupError(`wrk ${args.map(shellWord).join(' ')} failed (${signal ?? `exit ${code}`}):\n${err || out}`);
  const parsed = parseWrk(out);
  if (!Number.isFinite(parsed.rps)) throw new SetupError(`could not find Requests/sec in wrk output:\n${out}`);
  return { ...parsed, command: `wrk ${args.map(shellWord).join(' ')}`, raw: out };
}

/**
 * Run `node <script> ...args` to the end with a hard deadline (tracked, so Ctrl-C kills it) and
 * resolve the JSON of the last line it printed; a failure is a SetupError with its stderr.
 */
export async function runNodeJson(name, script, args = [], { nodeArgs = [], timeoutMs = 60_000, cwd } = {}) {
  const child = track(spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd }));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err = (err + d).slice(-20_000)));
  const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let code, signal;
  try {
    [code, signal] = await once(child, 'exit');
  } catch (e) {
    throw new SetupError(`${name} could not be spawned: ${e.message}`);
  } finally {
    clearTimeout(deadline);
  }
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new SetupError(`${name} failed (${signal ?? `exit ${code}`}):\n${err.trim() || out}`);
  try {
    return JSON.parse(last);
  } catch {
    throw new SetupError(`${name} printed no JSON result:\n${out}\n${err}`);
  }
}

function shellWord(w) {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Parse `5`, `5s`, `1500ms`, `1m` into seconds (wrk wants whole seconds; at least 1). */
export function parseDurationS(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!m) throw new SetupError(`--duration must look like 5, 5s or 1m, got ${JSON.stringify(text)}`);
  const s = Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 }[m[2] ?? 's']);
  return Math.max(1, Math.round(s));
}

/**
 * The benchmark's own options (plus --json and --help) parsed from the command line; a bad one is a
 * SetupError with the usage, and --help prints the usage and exits 0.
 */
export function benchOptions(options, usage) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, json: { type: 'string' }, help: { type: 'boolean', default: false } }, strict: false }));
  } catch (err) {
    throw new SetupError(`${err.message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

export function positiveInt(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new SetupError(`--${name} must be a whole number >= 1, got ${JSON.stringify(text)}`);
  return n;
}

export const fmt = {
  int: (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'),
  ms: (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) + ' ms' : '-'),
  us: (n) => (Number.isFinite(n) ? n.toFixed(1) + ' µs' : '-'),
  ratio: (n) => (Number.isFinite(n) ? n.toFixed(2) + 'x' : '-'),
};

/** Render rows (arrays of strings) as an aligned text table; numbers align right. */
export function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const right = header.map((_, i) => rows.every((r) => /^[\d,.\-]+( ms| µs|x)?$|^-$/.test(String(r[i] ?? ''))));
  const line = (r) => r.map((c, i) => (right[i] ? String(c ?? '').padStart(widths[i]) : String(c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ: 100 on every mainstream Linux). */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) a process has used so far, from /proc; undefined
 * where /proc is not there. Contention from other processes inflates wall time
 * and lowers req/s, but barely moves CPU time per request, so this is the
 * steadier measure of how much work a server does per request.
 */
export function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0: utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/**
 * A snapshot of CPU accounting, to tell afterwards how much of the machine
 * other processes took during a run: machine-wide busy and steal time from
 * /proc/stat, our reaped children (wrk) from /proc/self/stat, and our own time.
 * Undefined where /proc is not there.
 */
export function cpuSnapshot() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , , , steal] = cpu;
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ');
    const toMs = (ticks) => (ticks * 1000) / USER_HZ;
    return {
      at: performance.now(),
      // irq/softirq time is left out: on loopback most of it is our own traffic.
      busyMs: toMs(user + nice + system),
      stealMs: toMs(steal ?? 0),
      selfMs: toMs(Number(f[11]) + Number(f[12])),
      childrenMs: toMs(Number(f[13]) + Number(f[14])),
    };
  } catch {
    return undefined;
  }
}

/**
 * What other processes did between two snapshots, as a share of the whole
 * machine (100% = every CPU busy): busy time minus the server's, wrk's (a
 * reaped child by then) and ours; the hypervisor's steal time; and wrk's own
 * CPU as a share of one core.
 */
export function otherLoad(before, after, serverCpuMs, nCpus) {
  if (!before || !after || !Number.isFinite(serverCpuMs)) return { otherPct: NaN, stealPct: NaN, wrkCpuPct: NaN };
  const wallMs = after.at - before.at;
  const capacity = wallMs * nCpus;
  const wrkMs = after.childrenMs - before.childrenMs;
  const ours = serverCpuMs + wrkMs + (after.selfMs - before.selfMs);
  const other = after.busyMs - before.busyMs - ours;
  return {
    otherPct: Math.max(0, (100 * other) / capacity),
    stealPct: (100 * (after.stealMs - before.stealMs)) / capacity,
    // wrk's CPU as a share of one core: near 100% means the load generator, not the server, set the pace.
    wrkCpuPct: (100 * wrkMs) / wallMs,
  };
}

/** How busy the machine is before we start: 1-minute load average and CPU pressure (PSI), when available. */
export function machineLoad() {
  let psiSome10;
  try {
    const m = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    if (m) psiSome10 = Number(m[1]);
  } catch {}
  return { loadavg1: Number(os.loadavg()[0].toFixed(2)), cpuPressureSome10: psiSome10 };
}

/**
 * Runs a bench's main() and exits with its code: 130 when interrupted, 1 with the message alone
 * for a SetupError (it could not measure), 1 with the stack for anything else.
 */
export function runMain(main) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      if (interrupted()) process.exit(130);
      console.error(err instanceof SetupError ? err.message : err.stack ?? err);
      process.exit(1);
    },
  );
}
