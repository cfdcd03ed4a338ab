/**
 * Run a suite through one or more gateways at once. For each gateway: plan (pure, plan.ts),
 * start the chaos side and the gateway and probe every scenario concurrently (execute.ts), then
 * judge the outcomes and attributed log lines against expectations (pure, judge.ts). A gateway
 * that fails stops the others; everything started is unwound on success, failure or abort.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '../errors.js';
import type { Catalogue } from '../faults/registry.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import type { Outcome } from '../probe/http-probe.js';
import type { RuntimeChoice } from '../runtimes/index.js';
import { expectationFor, type Scenario } from '../scenarios/scenario.js';
import { startSession, untilOr, type GatewaySession, type Timeouts } from './execute.js';
import { withFaithful } from './faithful.js';
import { judgeCase, type CaseResult } from './judge.js';
import { CrashWatcher, FIRST_WAVE_SPACING_MS } from './crash-watch.js';
import { planRun } from './plan.js';
import type { ExternalOptions } from './external.js';
import type { ExternalInfo } from './execute.js';
import { planShard, suiteIdentity, type Shard, type ShardCoverage, type SuiteIdentity } from './shard.js';

export type { CaseResult } from './judge.js';
export { DEFAULT_TIMEOUTS, freePort, type Timeouts } from './execute.js';

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
  /**
   * Instead of one run per adapter with `runtime` and `image`: one run per instance, each with
   * its own image or runtime. The same gateway may appear several times (one per version).
   */
  readonly instances?: readonly GatewayInstance[];
  /** Run only this shard's part of the scenario × gateway cells (src/harness/shard.ts). */
  readonly shard?: Shard;
  /** The external runtime's gateway and upstream (src/harness/external.ts): with runtime `external`. */
  readonly external?: ExternalOptions;
}

/** One gateway to run: an adapter with the image or runtime of this instance. */
export interface GatewayInstance {
  readonly adapter: GatewayAdapter;
  readonly runtime?: RuntimeChoice;
  readonly image?: string;
}

export interface GatewayRun {
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: string;
  /** The binary or image that ran (RunningGateway.source). */
  readonly source?: string;
  /** The image asked for, when one was: part of the run's cell keys. */
  readonly image?: string;
  readonly userConfig?: string;
  readonly cases: readonly CaseResult[];
  readonly skipped: ReadonlyArray<{ readonly scenario: Scenario; readonly why: string }>;
  readonly durationMs: number;
  /** The external runtime: what it drove, and where the log came from (none: reasons not checked). */
  readonly external?: ExternalInfo;
}

export interface SuiteResult {
  readonly runs: readonly GatewayRun[];
  readonly durationMs: number;
  readonly passed: number;
  readonly failed: number;
  readonly unchecked: number;
  readonly skipped: number;
  /** Which shard(s) of the suite's cells this result holds, and their keys. */
  readonly shard?: ShardCoverage;
  /** The suite and gateways the cells come from: what shards of one run share. */
  readonly suite?: SuiteIdentity;
}

export interface ProgressListener {
  onGatewayReady?(info: { gateway: string; version: string | undefined; runtime: string; source: string; scenarios: number }): void;
  /** Live: a scenario's requests are done (its verdict comes once the gateway's log is read); durationMs from first request to last answer. */
  onProbed?(info: { gateway: string; scenario: Scenario; outcomes: readonly Outcome[]; durationMs: number }): void;
  onCase?(result: CaseResult): void;
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
  const instances = opts.instances ?? opts.gateways.map((adapter) => ({ adapter, runtime: opts.runtime, image: typeof opts.image === 'string' ? opts.image : opts.image?.[adapter.id] }));
  const part = planShard(instances, opts.scenarios, { userConfig: opts.userConfig !== undefined }, opts.shard);
  // A gateway with no cell in this shard does not start.
  const active = instances.map((instance, i) => ({ instance, scenarios: part.scenarios[i]! })).filter((g) => g.scenarios.length > 0);
  const barrier = startBarrier(active.length, fail);
  const settled = await Promise.allSettled(active.map((g) => runGateway(g.instance, g.scenarios, inner, barrier, active.length)));
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
    shard: part.coverage,
    suite: suiteIdentity(instances, opts.scenarios, opts.userConfig),
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

function startBarrier(n: number, fail: (err: unknown) => void): StartBarrier {
  let left = n;
  let release!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  if (left <= 0) release();
  return { arrive: () => void (--left <= 0 && release()), fail, open };
}

/** `together`: the gateways probed at once, on this one event loop (their first waves are spaced out in proportion). */
async function runGateway(instance: GatewayInstance, scenarios: readonly Scenario[], opts: RunOptions, barrier: StartBarrier, together: number): Promise<GatewayRun> {
  const { adapter, image } = instance;
  let arrived = false;
  const arrive = () => {
    if (!arrived) barrier.arrive();
    arrived = true;
  };
  const started = performance.now();
  let session: GatewaySession | undefined;
  try {
    if (instance.runtime === 'external') {
      const ext = await import('./external.js');
      if (!opts.external) throw new InputError('BG_BAD_OPTION', 'the external runtime needs `external` options: the gateway\'s URL and its chaos upstream.');
      session = await ext.startExternalSession(ext.planExternal(adapter, scenarios, opts.external.listenerUrls), { catalogue: opts.catalogue, external: opts.external, signal: opts.signal });
    } else session = await startSession(planRun(adapter, scenarios, { userConfig: opts.userConfig !== undefined }), {
      catalogue: opts.catalogue,
      runtime: instance.runtime,
      image,
      userConfig: opts.userConfig,
      timeouts: opts.timeouts,
      signal: opts.signal,
    });
    const gw = session.gateway;
    opts.progress?.onGatewayReady?.({ gateway: adapter.id, version: gw.version, runtime: gw.runtime, source: gw.source, scenarios: session.plan.scenarios.length });
    arrive();
    await untilOr(barrier.open, opts.signal);
    opts.signal?.throwIfAborted();

    // A gateway that dies is restarted, and its crash put on the scenario to blame (crash-watch.ts).
    const crashes = (s: Scenario) => expectationFor(s, adapter.id, gw.version)?.gateway === 'crashes';
    const probeRuns = await new CrashWatcher(session, opts.signal, crashes).probeAll(session.plan.scenarios, opts.concurrency ?? 64, together * FIRST_WAVE_SPACING_MS, (run) => {
      // An aborted run's probes end early: what they saw is no result.
      if (!opts.signal?.aborted) opts.progress?.onProbed?.({ gateway: adapter.id, scenario: run.scenario, outcomes: run.outcomes, durationMs: run.durationMs });
    });
    // An abort tears the gateway down under the probes: their outcomes mean nothing then.
    opts.signal?.throwIfAborted();
    // Lines written as the gateway closes a connection can trail the client's view by a moment.
    await sleep(100, undefined, { signal: opts.signal });
    const byProbe = await session.logsByProbe();
    const ext = session.external;
    const ctx = { gateway: adapter.id, version: gw.version, runtime: gw.runtime, userConfig: opts.userConfig !== undefined, measuredOn: adapter.measuredOn?.map((m) => m.version), ...(ext ? { reasonsChecked: ext.log !== undefined } : {}) };
    // A backend scenario is compared with its counterpart once both are judged.
    const cases = withFaithful(probeRuns.map((run) => judgeCase(run, byProbe, ctx)));
    for (const result of cases) opts.progress?.onCase?.(result);
    return { gateway: adapter.id, version: gw.version, runtime: gw.runtime, source: gw.source, ...(image !== undefined ? { image } : {}), userConfig: opts.userConfig?.file, cases, skipped: session.plan.skipped, durationMs: Math.round(performance.now() - started), ...(ext ? { external: ext } : {}) };
  } catch (err) {
    barrier.fail(err);
    throw err;
  } finally {
    arrive();
    await session?.close();
  }
}
