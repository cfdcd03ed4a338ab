/** The built-in suite, loaded and run the way the gateway suite tests do: through the public API. */
import { failureDetail, loadSuite, runSuite, type LoadedSuite, type RunSuiteOptions, type SuiteResult } from '../../src/index.js';

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
