/** The built-in suite, loaded and run the way the gateway suite tests do: through the public API. */
import { failureDetail, loadSuite, runSuite, type LoadedSuite, type RunSuiteOptions, type SuiteResult } from '../../src/index.js';
import { isFastcgi, isGrpc, isH2, isTls } from '../../src/harness/plan.js';
import type { Scenario } from '../../src/scenarios/scenario.js';

export type BuiltinScenarios = LoadedSuite;

/**
 * The built-in scenarios, every gateway's expectations known, loaded into a fresh
 * catalogue; with `only`, just the scenarios it names (in suite order).
 */
export function builtinScenarios(only?: readonly string[]): Promise<BuiltinScenarios> {
  return loadSuite({ only });
}

export type BuiltinRunOptions = Omit<RunSuiteOptions, 'gateways' | 'runtime' | 'suite' | 'loaded' | 'config'> & {
  /** A user's config: its text, and a file name for messages. */
  readonly userConfig?: { readonly file: string; readonly text: string };
};

/** The built-in suite (or the scenarios `only` names) through the given gateways, by id. */
export function runBuiltin(gatewayIds: readonly string[], runtime: 'process' | 'container', opts: BuiltinRunOptions = {}): Promise<SuiteResult> {
  const { userConfig, ...rest } = opts;
  return runSuite({ gateways: gatewayIds, runtime, config: userConfig, ...rest });
}

/**
 * Every case whose verdict failed: its scenario id (after its gateway's, with
 * `gateway`) and what went wrong, one block each; '' when none failed.
 */
export function failures(r: SuiteResult, opts: { readonly gateway?: boolean } = {}): string {
  return r.runs
    .flatMap((run) => run.cases.filter((c) => c.verdict && !c.verdict.pass).map((c) => `${opts.gateway ? `${run.gateway} ` : ''}${c.scenario.id}\n${failureDetail(c, false)}`))
    .join('\n\n');
}

/**
 * The skip reason a gateway without pools, without FastCGI and without badgateway's resolver must
 * give each scenario it skips (Varnish, the Node proxies): pools, FastCGI scenarios (fcgi-* and the
 * php-fpm backends), TLS, HTTP/2 and gRPC scenarios and DNS scenarios, each with its own reason; any
 * other skip is a regression.
 */
export function expectedSkipReason(gateway: string, s: Scenario): RegExp {
  if (s.pool) return new RegExp(`^${gateway} has no upstream pools in badgateway`);
  // In plan.ts skipReason's order: a gRPC call to a listener fault, FastCGI, TLS, then HTTP/2.
  if (s.request.grpc === true && !isH2(s)) return new RegExp(`^${gateway} has no gRPC upstream in badgateway`);
  if (isFastcgi(s)) return new RegExp(`^${gateway} has no FastCGI upstream in badgateway`);
  if (isTls(s)) return new RegExp(`^${gateway} has no TLS upstream in badgateway`);
  if (isH2(s)) return new RegExp(`^${gateway} has no ${isGrpc(s) ? 'gRPC' : 'HTTP/2'} upstream in badgateway`);
  if (s.id.startsWith('dns-') || s.id === 'healthy-by-dns-name') return /system resolver/;
  return /^(?!)/; // matches nothing: this scenario should not have been skipped
}
