/**
 * Suites as a library: load scenarios, run them through gateways, or keep one gateway running
 * in front of its chaos side and check scenarios one at a time (what the vitest helper uses).
 * Everything here takes gateway ids and paths, as the CLI does, and checks them before any work.
 */
import { InputError } from '../errors.js';
import type { FaultDef } from '../faults/fault.js';
import { Catalogue, loadFaultFile } from '../faults/registry.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import { gatewayById, GATEWAYS } from '../gateways/index.js';
import { startSession, type GatewaySession, type Timeouts } from '../harness/execute.js';
import { CrashWatcher } from '../harness/crash-watch.js';
import { judgeCase, type CaseResult } from '../harness/judge.js';
import { planRun } from '../harness/plan.js';
import { checkShard, type Shard } from '../harness/shard.js';
import { runSuite as runHarness, type ProgressListener, type SuiteResult } from '../harness/run.js';
import type { RuntimeChoice } from '../runtimes/index.js';
import { checkExternalOptions, type ExternalOptions } from '../harness/external.js';
import { builtinScenarioDir, loadSuite as loadScenarioFiles, selectScenarios } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/scenario.js';
import { readInputText } from '../yaml-source.js';

export interface LoadSuiteOptions {
  /** A folder of scenario files, one file, or a list file. Default: the built-in catalogue. */
  readonly suite?: string;
  /** Only scenarios whose id matches one of these (`*` wildcards). */
  readonly only?: readonly string[];
  /** Custom faults the scenarios may use, as definitions or fault files (YAML). */
  readonly faults?: readonly FaultDef[];
  readonly faultsFiles?: readonly string[];
}

export interface LoadedSuite {
  readonly scenarios: readonly Scenario[];
  /** The built-in faults plus the custom ones the suite was loaded with. */
  readonly catalogue: Catalogue;
}

/**
 * The built-in faults plus custom ones, as definitions or fault files. An id already taken (a
 * built-in one, or another custom fault) is BG_DUPLICATE_FAULT, with the file position.
 */
export async function loadCatalogue(opts: { readonly faults?: readonly FaultDef[]; readonly faultsFiles?: readonly string[] } = {}): Promise<Catalogue> {
  const catalogue = new Catalogue();
  for (const f of opts.faults ?? []) catalogue.add(f);
  for (const file of opts.faultsFiles ?? []) for (const f of await loadFaultFile(file)) catalogue.add(f);
  return catalogue;
}

export async function loadSuite(opts: LoadSuiteOptions = {}): Promise<LoadedSuite> {
  const catalogue = await loadCatalogue(opts);
  const all = await loadScenarioFiles(opts.suite ?? builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  return { scenarios: selectScenarios(all, opts.only), catalogue };
}

export interface RunSuiteOptions extends LoadSuiteOptions {
  /** Gateway ids (`nginx`, `haproxy`, ...), run at once. */
  readonly gateways: readonly string[];
  /** Scenarios already loaded with `loadSuite()`: then `suite`, `only` and the fault options are not read again. */
  readonly loaded?: LoadedSuite;
  /** Where gateways run. Default `auto`: a container when a Docker engine answers, else the local binary. */
  readonly runtime?: RuntimeChoice;
  /** Your own gateway config, with placeholders: a path, or its text with a name for messages. One gateway only. */
  readonly config?: string | { readonly file: string; readonly text: string };
  /** Container image: one for a single gateway, or by gateway id. */
  readonly image?: string | Readonly<Record<string, string>>;
  /** Scenarios in flight at once per gateway. Default 64. */
  readonly concurrency?: number;
  readonly timeouts?: Partial<Timeouts>;
  /** Aborting stops every gateway and removes everything the run started; the promise then rejects. */
  readonly signal?: AbortSignal;
  readonly progress?: ProgressListener;
  /**
   * Run only shard `index` (1-based) of `count` of the scenario × gateway cells, as a CI job of
   * a sharded suite does; `mergeReports` puts the JSON reports of every shard back together.
   */
  readonly shard?: Shard;
  /** With runtime `external`: the running gateway's URL, its chaos upstream and its log (src/harness/external.ts). */
  readonly external?: ExternalOptions;
}

/** Reads a user's gateway config, with the error a person can act on. */
export async function readUserConfig(file: string): Promise<{ file: string; text: string }> {
  try {
    // Bounded like every input file: a config is hand-written, and a huge one would only exhaust the heap.
    return { file, text: await readInputText(file) };
  } catch (err) {
    if (err instanceof InputError) throw new InputError(err.code, `--config: ${err.message}`, { cause: err });
    throw err;
  }
}

function adapters(ids: readonly string[]): GatewayAdapter[] {
  if (ids.length === 0) throw new InputError('BG_BAD_OPTION', `name at least one gateway: ${GATEWAYS.map((g) => g.id).join(', ')}.`);
  const out = ids.map((id) => gatewayById(id.trim()));
  const twice = out.find((g, i) => out.indexOf(g) !== i);
  if (twice) throw new InputError('BG_BAD_OPTION', `gateway "${twice.id}" is named twice; each gateway runs once per suite.`);
  return out;
}

function checkConcurrency(n: number | undefined): void {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new InputError('BG_BAD_OPTION', `concurrency must be a whole number of at least 1 (scenarios in flight per gateway), got ${n}.`);
}

/**
 * Runs a suite (the built-in one by default) through the named gateways at once. Resolves to the
 * result every reporter renders; `toJson(result)` is what the JSON reporter writes.
 */
export async function runSuite(opts: RunSuiteOptions): Promise<SuiteResult> {
  const gateways = adapters(opts.gateways);
  checkConcurrency(opts.concurrency);
  const shard = opts.shard === undefined ? undefined : checkShard(opts.shard);
  if (opts.config !== undefined && gateways.length > 1) throw new InputError('BG_BAD_OPTION', 'a config is the config of one gateway; run one gateway with it.');
  if (opts.runtime === 'external') {
    // One gateway at one URL; nothing of ours renders or runs it.
    if (!opts.external) throw new InputError('BG_BAD_OPTION', 'the external runtime needs `external`: the URL of the running gateway and the chaos upstream it routes to (upstreamListen or upstreamControl).');
    if (gateways.length > 1) throw new InputError('BG_BAD_OPTION', `the external runtime drives one running gateway at one URL; name one gateway, not ${gateways.map((g) => g.id).join(', ')}.`);
    if (opts.config !== undefined || opts.image !== undefined) throw new InputError('BG_BAD_OPTION', 'the external runtime drives a gateway already running with its own config; a config or an image is for the gateways badgateway starts.');
    checkExternalOptions(opts.external);
  }
  const { scenarios, catalogue } = opts.loaded ?? (await loadSuite(opts));
  const userConfig = typeof opts.config === 'string' ? await readUserConfig(opts.config) : opts.config;
  return runHarness({ scenarios, gateways, catalogue, runtime: opts.runtime, image: opts.image, userConfig, concurrency: opts.concurrency, timeouts: opts.timeouts, signal: opts.signal, progress: opts.progress, shard, external: opts.external });
}

export interface StartGatewayOptions extends LoadSuiteOptions {
  /** One gateway id. */
  readonly gateway: string;
  readonly runtime?: RuntimeChoice;
  readonly image?: string;
  readonly config?: string | { readonly file: string; readonly text: string };
  readonly timeouts?: Partial<Timeouts>;
  readonly signal?: AbortSignal;
}

/** One gateway in front of its chaos side, routed for a suite's scenarios, checked one scenario at a time. */
export interface StartedGateway extends AsyncDisposable {
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: string;
  /** Where the gateway listens: `${url}/s/<scenario>/` reaches a scenario's fault through it. */
  readonly url: string;
  readonly scenarios: readonly Scenario[];
  /** Why scenarios of the suite cannot run through this gateway, by scenario id. */
  readonly skipped: ReadonlyMap<string, string>;
  /**
   * Sends the scenario's request(s) through the gateway, reads the gateway's log lines for them,
   * and judges the outcome against the scenario's expectation for this gateway and version.
   */
  check(scenarioId: string): Promise<CaseResult>;
  close(): Promise<void>;
  /** For an exit handler only: kills the gateway and removes its files synchronously, without waiting. */
  abandon(): void;
}

/** How long after the last answer a gateway's log lines for it may still be arriving. */
const LOG_SETTLE_MS = 100;

export async function startGateway(opts: StartGatewayOptions): Promise<StartedGateway> {
  const [adapter] = adapters([opts.gateway]);
  const { scenarios, catalogue } = await loadSuite(opts);
  const userConfig = typeof opts.config === 'string' ? await readUserConfig(opts.config) : opts.config;
  const plan = planRun(adapter!, scenarios, { userConfig: userConfig !== undefined });
  const session: GatewaySession = await startSession(plan, { catalogue, runtime: opts.runtime, image: opts.image, userConfig, timeouts: opts.timeouts, signal: opts.signal });
  const gw = session.gateway;
  const watcher = new CrashWatcher(session, opts.signal);
  // The session may skip more than the plan did (a backend scenario without its binary or on the container runtime).
  const skipped = new Map(session.plan.skipped.map((s) => [s.scenario.id, s.why]));
  const byId = new Map(session.plan.scenarios.map((s) => [s.id, s]));
  return {
    gateway: adapter!.id,
    version: gw.version,
    runtime: gw.runtime,
    url: `http://${gw.host}:${gw.port}`,
    scenarios: session.plan.scenarios,
    skipped,
    async check(scenarioId) {
      const s = byId.get(scenarioId);
      if (!s) {
        const why = skipped.get(scenarioId);
        throw new InputError('BG_NO_SCENARIOS', why ? `scenario "${scenarioId}" does not run through ${adapter!.id}: ${why}.` : `scenario "${scenarioId}" is not in this gateway's suite; it has ${[...byId.keys()].join(', ')}.`);
      }
      // A crash restarts the gateway, and the case says so (one scenario at a time: this one is to blame).
      const run = await watcher.alone(s);
      await new Promise((r) => setTimeout(r, LOG_SETTLE_MS));
      return judgeCase(run, await session.logsByProbe(), { gateway: adapter!.id, version: gw.version, runtime: gw.runtime, userConfig: userConfig !== undefined });
    },
    close: () => session.close(),
    [Symbol.asyncDispose]: () => session.close(),
    abandon: () => session.abandon(),
  };
}
