/**
 * Run a suite: for each gateway, start the chaos side, start the gateway in
 * front of it, send every scenario's requests through it concurrently, then
 * attribute the gateway's log lines and hold the outcomes against expectations.
 * Everything started sits on one disposal stack, unwound on success, failure
 * or abort.
 */
import { setMaxListeners } from 'node:events';
import { chmod, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ListenerBehavior, ListenerFaultDef } from '../faults/fault.js';
import type { Catalogue } from '../faults/registry.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, RenderedConfig } from '../gateways/gateway.js';
import { probe, type Outcome } from '../probe/http-probe.js';
import { makePrefix, removePrefix } from '../runtimes/files.js';
import type { RuntimeKind } from '../runtimes/runtime.js';
import { expectationFor, unmeasured, type Expectation, type Scenario } from '../scenarios/scenario.js';
import type { RouteSpec } from '../upstream/upstream.js';
import { attribute, probeTag } from './attribute.js';
import { startChaos } from './chaos.js';
import { DisposalStack } from './disposal.js';
import { startLogSink } from './log-sink.js';
import { evaluate, observe, type Observed, type Verdict } from './evaluate.js';
import { mapLimit } from './pool.js';
import { resolveRuntime, type RuntimeChoice } from './runtime-choice.js';

export interface Timeouts {
  readonly connectMs: number;
  readonly readMs: number;
  readonly sendMs: number;
  readonly resolverMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 1000, readMs: 1000, sendMs: 1000, resolverMs: 1000 };

export interface RunOptions {
  readonly scenarios: readonly Scenario[];
  readonly gateways: readonly GatewayAdapter[];
  readonly catalogue: Catalogue;
  readonly runtime?: RuntimeChoice;
  /** The container image: one for a single gateway, or by gateway id. */
  readonly image?: string | Readonly<Record<string, string>>;
  /** The user's own gateway config, with placeholders (see the adapter). */
  readonly userConfig?: { readonly file: string; readonly text: string };
  /** Scenarios in flight at once per gateway. */
  readonly concurrency?: number;
  readonly timeouts?: Partial<Timeouts>;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressListener;
}

export interface CaseResult {
  readonly scenario: Scenario;
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: RuntimeKind;
  readonly outcomes: readonly Outcome[];
  readonly logs: readonly LogEntry[];
  readonly observed: Observed;
  readonly expectation?: Expectation;
  /** Undefined when the scenario has no expectation for this gateway: the outcome is reported, not judged. */
  readonly verdict?: Verdict;
  /** Why there is no verdict, e.g. "no expectation measured for envoy": reported, neither a pass nor a failure. */
  readonly unjudged?: string;
  /** With a user's config: what the gateway does with its default config, to show what the user's config changes. */
  readonly baseline?: Expectation;
}

export interface GatewayRun {
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: RuntimeKind;
  readonly userConfig?: string;
  readonly cases: readonly CaseResult[];
  readonly skipped: ReadonlyArray<{ readonly scenario: Scenario; readonly why: string }>;
  readonly durationMs: number;
}

export interface SuiteResult {
  readonly runs: readonly GatewayRun[];
  readonly durationMs: number;
  readonly passed: number;
  readonly failed: number;
  readonly unchecked: number;
  readonly skipped: number;
}

export interface ProgressListener {
  onGatewayReady?(info: { gateway: string; version: string | undefined; runtime: RuntimeKind; scenarios: number }): void;
  /** Live: a scenario's requests are done (its verdict comes once the gateway's log is read). */
  onProbed?(info: { gateway: string; scenario: Scenario; outcomes: readonly Outcome[] }): void;
  onCase?(result: CaseResult): void;
}

const LISTENER_BY_FAULT: Record<string, ListenerBehavior> = {};

function listenerBehavior(catalogue: Catalogue, id: string): ListenerBehavior {
  return (LISTENER_BY_FAULT[id] ??= (catalogue.get(id) as ListenerFaultDef).listener);
}

export async function freePort(host: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => resolve());
  });
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function runSuite(opts: RunOptions): Promise<SuiteResult> {
  const started = performance.now();
  // One gateway failing stops the others (their results would be thrown away), and the error is
  // reported only once every gateway has stopped and removed what it started.
  const ctl = new AbortController();
  setMaxListeners(100, ctl.signal);
  const onOuterAbort = () => ctl.abort(opts.signal!.reason);
  if (opts.signal?.aborted) ctl.abort(opts.signal.reason);
  else opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const inner: RunOptions = { ...opts, signal: ctl.signal };
  let firstFailure: { error: unknown } | undefined;
  // A gateway reports its failure as soon as it happens, before it unwinds what it started.
  const fail = (err: unknown) => {
    if (ctl.signal.aborted) return;
    firstFailure = { error: err };
    ctl.abort(err);
  };
  const barrier = startBarrier(opts.gateways.length, fail);
  const settled = await Promise.allSettled(opts.gateways.map((g) => runGateway(g, inner, barrier)));
  opts.signal?.removeEventListener('abort', onOuterAbort);
  if (firstFailure) throw firstFailure.error;
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  const runs = settled.map((r) => (r as PromiseFulfilledResult<GatewayRun>).value);
  const all = runs.flatMap((r) => r.cases);
  return {
    runs,
    durationMs: Math.round(performance.now() - started),
    passed: all.filter((c) => c.verdict?.pass === true).length,
    failed: all.filter((c) => c.verdict?.pass === false).length,
    unchecked: all.filter((c) => c.verdict === undefined).length,
    skipped: runs.reduce((n, r) => n + r.skipped.length, 0),
  };
}

/**
 * Every gateway has started (or failed to) before any is probed. Starting one forks its
 * binary a few times, and each fork stops this process's event loop for tens of
 * milliseconds: the loop that plays the faults' delays for the gateways already probing.
 */
interface StartBarrier {
  arrive(): void;
  /** A gateway failed (to start or later): the run stops the others. */
  fail(err: unknown): void;
  readonly open: Promise<void>;
}

/** Waits for `p`, or until the signal aborts, whichever comes first (the caller checks which). */
async function untilOr<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return undefined;
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((resolve) => (onAbort = () => resolve(undefined)));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function startBarrier(n: number, fail: (err: unknown) => void): StartBarrier {
  let left = n;
  let release!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  if (left <= 0) release();
  return { arrive: () => void (--left <= 0 && release()), fail, open };
}

async function runGateway(adapter: GatewayAdapter, opts: RunOptions, barrier: StartBarrier): Promise<GatewayRun> {
  let arrived = false;
  const arrive = () => {
    if (!arrived) barrier.arrive();
    arrived = true;
  };
  const started = performance.now();
  const host = '127.0.0.1';
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const stack = new DisposalStack();
  const onAbort = () => void stack.dispose().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    opts.signal?.throwIfAborted();
    // Finding the runtime may pull an image for minutes: an abort does not wait for it.
    const chosen = await untilOr(resolveRuntime(opts.runtime ?? 'auto', adapter, typeof opts.image === 'string' ? opts.image : opts.image?.[adapter.id]), opts.signal);
    opts.signal?.throwIfAborted();
    const { runtime, image } = chosen!;
    const { catalogue } = opts;
    const skipped: Array<{ scenario: Scenario; why: string }> = [];
    let scenarios = [...opts.scenarios];
    if (opts.userConfig) {
      // A user's config has one upstream address: only faults served by the upstream's HTTP listener fit.
      scenarios = scenarios.filter((s) => {
        const layer = catalogue.get(s.fault).layer;
        if (layer === 'exchange' && s.upstream === 'tcp') return true;
        skipped.push({ scenario: s, why: layer === 'exchange' ? `reaches the upstream by ${s.upstream}; your config has one TCP upstream` : `a ${layer} fault needs its own ${layer === 'dns' ? 'DNS name' : 'address'}; your config has one upstream` });
        return false;
      });
    }

    if (adapter.supportsResolver === false) {
      // The gateway resolves names with the system resolver only: it cannot be pointed at our DNS responder.
      scenarios = scenarios.filter((s) => {
        const layer = catalogue.get(s.fault).layer;
        if (layer !== 'dns' && !(layer === 'exchange' && s.upstream === 'dns')) return true;
        skipped.push({ scenario: s, why: `${adapter.id} resolves upstream names with the system resolver only; it cannot use badgateway's DNS responder` });
        return false;
      });
    }

    if (adapter.supportsUnixUpstream === false) {
      scenarios = scenarios.filter((s) => {
        if (!(s.upstream === 'unix' && catalogue.get(s.fault).layer === 'exchange')) return true;
        skipped.push({ scenario: s, why: `${adapter.id} cannot reach an upstream over a unix socket` });
        return false;
      });
    }

    const runDir = await mkdtemp(join(tmpdir(), 'badgateway-run-'));
    await chmod(runDir, 0o755);
    stack.defer(() => removePrefix(runDir));
    const needsUnix = scenarios.some((s) => s.upstream === 'unix' && catalogue.get(s.fault).layer === 'exchange');
    const unixPath = needsUnix ? join(runDir, 'upstream.sock') : undefined;
    const listenerFaults = [...new Set(scenarios.filter((s) => catalogue.get(s.fault).layer === 'listener').map((s) => listenerBehavior(catalogue, s.fault)))];
    const needsDns = scenarios.some((s) => catalogue.get(s.fault).layer === 'dns' || s.upstream === 'dns');
    const routes: RouteSpec[] = scenarios
      .filter((s) => catalogue.get(s.fault).layer === 'exchange')
      .map((s) => ({ pathPrefix: `/s/${s.id}`, fault: s.fault, params: s.params }));
    const chaos = stack.use(
      await startChaos({
        host,
        catalogue,
        routes,
        defaultFault: 'healthy',
        faultPaths: false,
        faultHeader: false,
        listenerFaults,
        unixPath,
        dnsPort: needsDns ? 0 : false,
        control: false,
      }),
    );
    if (unixPath) await chmod(unixPath, 0o666);
    // A second upstream that always answers healthy, for retry/failover configs ({{healthy}}).
    const healthy = opts.userConfig ? stack.use(await startChaos({ host, catalogue, listenerFaults: [], dnsPort: false, control: false, faultHeader: false, faultPaths: false })) : undefined;

    const gatewayRoutes: GatewayRoute[] = scenarios.map((s) => {
      const def = catalogue.get(s.fault);
      const base = { id: s.id, keepalive: s.keepalive, websocket: s.request.websocket };
      if (def.layer === 'listener') {
        const l = chaos.upstream.listeners.find((x) => x.fault === s.fault)!;
        return { ...base, target: { kind: 'tcp', host, port: l.port! } };
      }
      if (def.layer === 'dns') return { ...base, target: { kind: 'dns', name: chaos.dns!.nameFor(def.name), port: chaos.upstream.http.port } };
      if (s.upstream === 'unix') return { ...base, target: { kind: 'unix', path: unixPath! } };
      if (s.upstream === 'dns') return { ...base, target: { kind: 'dns', name: chaos.dns!.nameFor('ok'), port: chaos.upstream.http.port } };
      return { ...base, target: { kind: 'tcp', host, port: chaos.upstream.http.port } };
    });

    const listen = { host, port: await freePort(host) };
    const prefix = await makePrefix(adapter.id);
    const resolver = chaos.dns ? { host: chaos.dns.host, port: chaos.dns.port } : undefined;
    let config: RenderedConfig;
    try {
      // A gateway that logs over syslog gets a socket of ours, open before its config names it.
      // On the stack before the gateway, so it closes after the gateway has stopped.
      const sink = adapter.syslogFile ? stack.use(await startLogSink({ host, file: join(prefix, adapter.syslogFile) })) : undefined;
      const logSink = sink ? { host: sink.host, port: sink.port } : undefined;
      config = opts.userConfig
        ? adapter.fromUserConfig(opts.userConfig.text, opts.userConfig.file, { listen, prefix, upstream: { host, port: chaos.upstream.http.port }, healthy: { host, port: healthy!.upstream.http.port }, resolver, logSink })
        : adapter.render({ listen, prefix, routes: gatewayRoutes, resolver, timeouts, logSink });
    } catch (err) {
      await removePrefix(prefix);
      throw err;
    }
    const gw = stack.use(
      await runtime.start({ adapter, config, prefix, listen, readyPath: opts.userConfig ? undefined : '/__badgateway/ready', signal: opts.signal, image, extraMounts: [runDir] }),
    );
    opts.progress?.onGatewayReady?.({ gateway: adapter.id, version: gw.version, runtime: gw.runtime, scenarios: scenarios.length });
    arrive();
    await untilOr(barrier.open, opts.signal);
    opts.signal?.throwIfAborted();

    let probeCounter = 0;
    const probeRuns = await mapLimit(
      scenarios,
      opts.concurrency ?? 64,
      async (s) => {
        const count = s.sequence?.count ?? 1;
        const numbers = Array.from({ length: count }, () => ++probeCounter);
        const begin = performance.now();
        const outcomes = await mapLimit(numbers, s.sequence?.concurrency ?? 1, async (n, i) => {
          const due = begin + i * (s.sequence?.spacingMs ?? 0) - performance.now();
          if (due > 0) await sleep(due, undefined, { signal: opts.signal });
          return probe({
            host: gw.host,
            port: gw.port,
            method: s.request.method,
            target: `/s/${s.id}${s.request.path}${s.request.path.includes('?') ? '&' : '?'}${probeTag(n)}`,
            headers: s.request.headers,
            body: s.request.body === undefined ? undefined : Buffer.from(s.request.body, 'latin1'),
            websocket: s.request.websocket,
            timeoutMs: s.request.timeoutMs,
          });
        }, opts.signal);
        opts.progress?.onProbed?.({ gateway: adapter.id, scenario: s, outcomes });
        return { scenario: s, numbers, outcomes };
      },
      opts.signal,
    );
    // An abort tears the gateway down under the probes: their outcomes mean nothing then.
    opts.signal?.throwIfAborted();
    // Lines written as the gateway closes a connection can trail the client's view by a moment.
    await sleep(100, undefined, { signal: opts.signal });
    const byProbe = attribute(adapter, await gw.readLogs());
    const cases: CaseResult[] = probeRuns.map(({ scenario, numbers, outcomes }) => {
      const logs = numbers.flatMap((n) => byProbe.get(n) ?? []);
      const observed = observe(outcomes, logs);
      const builtin = expectationFor(scenario, adapter.id, gw.version);
      const expectation = opts.userConfig ? undefined : builtin;
      const result: CaseResult = {
        scenario,
        gateway: adapter.id,
        version: gw.version,
        runtime: gw.runtime,
        outcomes,
        logs,
        observed,
        expectation,
        verdict: expectation ? evaluate(observed, expectation) : undefined,
        unjudged: opts.userConfig || expectation ? undefined : unmeasured(scenario, adapter.id, gw.version),
        baseline: opts.userConfig ? builtin : undefined,
      };
      opts.progress?.onCase?.(result);
      return result;
    });
    return { gateway: adapter.id, version: gw.version, runtime: gw.runtime, userConfig: opts.userConfig?.file, cases, skipped, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    barrier.fail(err);
    throw err;
  } finally {
    arrive();
    opts.signal?.removeEventListener('abort', onAbort);
    await stack.dispose();
  }
}
