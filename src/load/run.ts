/**
 * A load run from start to report: start the session, drive it with the generator, read the
 * gateway's log, and fold everything into a LoadResult (what every load reporter renders).
 */
import { randomInt } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { Catalogue } from '../faults/registry.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import type { RuntimeChoice } from '../runtimes/index.js';
import { Worker } from 'node:worker_threads';
import type { BodyState, GeneratorResult, Progress } from './generator.js';
import { LatencyHistogram } from './histogram.js';
import { faultRefText, formatMix, type LoadMixEntry } from './mix.js';
import { loadPaths, startLoadSession } from './session.js';
import { wilson } from './stats.js';
import { STOP, type WorkerInput } from './worker-protocol.js';

export interface LoadSettings {
  readonly gateway: string;
  readonly runtime: RuntimeChoice;
  readonly image?: string;
  /** The user's gateway config file, as given. */
  readonly config?: string;
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  readonly connections: number;
  readonly method: 'GET' | 'POST';
  readonly mix: readonly LoadMixEntry[];
  readonly seed: number;
  /** The gateway pools its upstream connections (ignored with a config of the user's). */
  readonly keepalive: boolean;
  /** A request with no whole response after this long is given up. */
  readonly timeoutMs: number;
}

export interface LoadRunOptions {
  readonly settings: LoadSettings;
  readonly adapter: GatewayAdapter;
  readonly catalogue: Catalogue;
  readonly userConfig?: { readonly file: string; readonly text: string };
  readonly signal?: AbortSignal;
  readonly onStarted?: (g: LoadGatewayInfo) => void;
  readonly onProgress?: (p: Progress) => void;
  /** The gateway's log as read after the run (`load --save-log`, and `reproduce`'s tests make a production log of it). */
  readonly onLogText?: (text: string) => Promise<void> | void;
}

export interface LoadGatewayInfo {
  readonly id: string;
  readonly version: string | undefined;
  readonly runtime: string;
  readonly source: string;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface LoadResult {
  readonly settings: LoadSettings;
  /** The command line that replays this run: the same seed gives the same faults in the same order. */
  readonly command: string;
  readonly gateway: LoadGatewayInfo;
  readonly interrupted: boolean;
  /** A digest of the faults sent, in order (FNV-1a of the mix indices): the same seed, rate and duration give the same digest. */
  readonly sequenceDigest: string;
  /** Requests due in the time the run sent (rate × time). */
  readonly due: number;
  readonly sent: number;
  readonly unsent: number;
  /** Requests sent per second over the sending window. */
  readonly achievedRate: number;
  readonly windowMs: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byBody: Readonly<Record<BodyState, number>>;
  /** How the requests without a response ended (reset, fin, timeout, connect-error, protocol-error). */
  readonly noResponse: Readonly<Record<string, number>>;
  readonly byFault: ReadonlyArray<{ readonly fault: string; readonly weight: number; readonly sent: number; readonly byStatus: Readonly<Record<string, number>> }>;
  /** From when each request was due to its last byte, ms; undefined when nothing finished. */
  readonly latencyMs: Percentiles | undefined;
  /** The histogram's non-empty buckets: [low µs, high µs, count]. */
  readonly latencyBuckets: ReadonlyArray<readonly [number, number, number]>;
  /** Non-2xx answers plus requests without an answer, of the requests that finished (not `unfinished`). */
  readonly errors: { readonly count: number; readonly of: number; readonly rate: number; readonly low: number; readonly high: number };
  /** Sent more than 5 ms after they were due. */
  readonly late: number;
  /** Found every connection busy when due, and waited for one. */
  readonly queued: number;
  readonly maxSendDelayMs: number;
  readonly connectionsOpened: number;
  readonly logReasons: ReadonlyArray<{ readonly reason: string; readonly count: number; readonly example: string }>;
  readonly timeline: ReadonlyArray<{ readonly second: number; readonly done: number; readonly errors: number; readonly p99Ms: number | undefined }>;
}

/** A seed for a run that was given none: printed in the report, so the run can be replayed. */
export function freshSeed(): number {
  return randomInt(1, 2 ** 31);
}

const POST_BODY = Buffer.alloc(128, 'x');

export function requestBytes(method: 'GET' | 'POST', path: string, host: string, port: number): Buffer {
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: badgateway-load\r\n`;
  if (method === 'GET') return Buffer.from(`${head}\r\n`, 'latin1');
  return Buffer.concat([Buffer.from(`${head}Content-Type: application/octet-stream\r\nContent-Length: ${POST_BODY.length}\r\n\r\n`, 'latin1'), POST_BODY]);
}

/** The command line that replays a run, every setting spelt out (defaults included: they may change). */
export function commandLine(s: LoadSettings): string {
  const q = (v: string) => (/^[\w.,:/@=+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const parts = ['badgateway', 'load', '--gateway', s.gateway, '--runtime', s.runtime];
  if (s.image) parts.push('--image', q(s.image));
  if (s.config) parts.push('--config', q(s.config));
  parts.push('--rate', `${s.rate}/s`, '--duration', formatDuration(s.durationMs), '--connections', String(s.connections), '--method', s.method, '--mix', q(formatMix(s.mix)), '--seed', String(s.seed));
  if (!s.keepalive) parts.push('--no-keepalive');
  parts.push('--timeout', formatDuration(s.timeoutMs));
  return parts.join(' ');
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export async function runLoad(opts: LoadRunOptions): Promise<LoadResult> {
  const { settings: s, adapter } = opts;
  const session = await startLoadSession({ adapter, catalogue: opts.catalogue, mix: s.mix, runtime: s.runtime, image: s.image, userConfig: opts.userConfig, keepalive: s.keepalive, signal: opts.signal });
  try {
    const gw = session.gateway;
    const info: LoadGatewayInfo = { id: adapter.id, version: gw.version, runtime: gw.runtime, source: gw.source };
    opts.onStarted?.(info);
    const gen = await generateInWorker(
      {
        host: gw.host,
        port: gw.port,
        rate: s.rate,
        durationMs: s.durationMs,
        connections: s.connections,
        timeoutMs: s.timeoutMs,
        requests: loadPaths(s.mix).map((path) => requestBytes(s.method, path, gw.host, gw.port)),
        mix: s.mix,
        seed: s.seed,
      },
      opts.signal,
      opts.onProgress,
    );
    const logText = await gw.readLogs().catch(() => '');
    await opts.onLogText?.(logText);
    const logReasons = reasonCounts(adapter, logText);
    return summarize(s, info, gen, logReasons);
  } finally {
    await session.close();
  }
}

/** Runs the generator on a worker thread (src/load/worker.ts); an abort asks it to stop and still resolves, with the partial result. */
export function generateInWorker(input: WorkerInput, signal?: AbortSignal, onProgress?: (p: Progress) => void): Promise<GeneratorResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input });
    const onAbort = () => worker.postMessage(STOP);
    let result: GeneratorResult | undefined;
    worker.on('message', (m: { type: 'progress'; progress: Progress } | { type: 'result'; result: GeneratorResult }) => {
      if (m.type === 'progress') onProgress?.(m.progress);
      else result = revive(m.result);
    });
    worker.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (result) resolve(result);
      else reject(new Error(`the load generator's thread exited (code ${code}) without a result`));
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Structured clone keeps a histogram's fields, not its class. */
function revive(g: GeneratorResult): GeneratorResult {
  return { ...g, latency: LatencyHistogram.from(g.latency), timeline: g.timeline.map((b) => ({ ...b, latency: LatencyHistogram.from(b.latency) })) };
}

/** Every log line with a reason, counted by reason, with the first line of each as its example. */
export function reasonCounts(adapter: GatewayAdapter, logText: string): LoadResult['logReasons'] {
  const byReason = new Map<string, { count: number; example: string }>();
  for (const line of logText.split('\n')) {
    if (line.trim() === '') continue;
    const e = adapter.parseLogLine(line);
    if (!e?.reason) continue;
    const r = byReason.get(e.reason);
    if (r) r.count++;
    else byReason.set(e.reason, { count: 1, example: line.length > 500 ? `${line.slice(0, 500)}…` : line });
  }
  return [...byReason].map(([reason, v]) => ({ reason, ...v })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

function percentiles(h: LatencyHistogram): Percentiles | undefined {
  if (h.count === 0) return undefined;
  const ms = (q: number) => Math.round(h.quantile(q)!) / 1000;
  return { p50: ms(0.5), p90: ms(0.9), p99: ms(0.99), p999: ms(0.999), max: h.max / 1000 };
}

export function summarize(s: LoadSettings, gateway: LoadGatewayInfo, g: GeneratorResult, logReasons: LoadResult['logReasons']): LoadResult {
  const unfinished = g.byStatus['unfinished'] ?? 0;
  const of = g.sent - unfinished;
  let count = 0;
  for (const [k, v] of Object.entries(g.byStatus)) {
    const code = Number(k);
    if (k !== 'unfinished' && !(code >= 200 && code < 300)) count += v;
  }
  const ci = wilson(count, of) ?? { low: 0, high: 0 };
  return {
    settings: s,
    command: commandLine(s),
    gateway,
    interrupted: g.interrupted,
    sequenceDigest: g.sequenceDigest,
    due: g.due,
    sent: g.sent,
    unsent: g.unsent,
    achievedRate: g.windowMs > 0 ? g.sent / (g.windowMs / 1000) : 0,
    windowMs: Math.round(g.windowMs),
    byStatus: g.byStatus,
    byBody: g.byBody,
    noResponse: g.noResponse,
    byFault: s.mix.map((e, i) => ({ fault: faultRefText(e), weight: e.weight, sent: g.perEntry[i]!.sent, byStatus: g.perEntry[i]!.byStatus })),
    latencyMs: percentiles(g.latency),
    latencyBuckets: g.latency.buckets(),
    errors: { count, of, rate: of > 0 ? count / of : 0, low: ci.low, high: ci.high },
    late: g.late,
    queued: g.queued,
    maxSendDelayMs: Math.round(g.maxSendDelayMs * 1000) / 1000,
    connectionsOpened: g.connectionsOpened,
    logReasons,
    timeline: g.timeline.map((b) => ({ second: b.second, done: b.done, errors: b.errors, p99Ms: b.latency.count ? Math.round(b.latency.quantile(0.99)!) / 1000 : undefined })),
  };
}
