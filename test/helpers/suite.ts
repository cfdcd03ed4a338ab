/** The built-in suite, loaded and run the way the gateway suite tests do. */
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { runSuite, type RunOptions, type SuiteResult } from '../../src/harness/run.js';
import { failureDetail } from '../../src/report/console.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';
import type { Scenario } from '../../src/scenarios/scenario.js';

export interface BuiltinScenarios {
  readonly catalogue: Catalogue;
  readonly scenarios: Scenario[];
}

/**
 * The built-in scenarios, every gateway's expectations known, loaded into a fresh
 * catalogue; with `only`, just the scenarios it names (in suite order).
 */
export async function builtinScenarios(only?: readonly string[]): Promise<BuiltinScenarios> {
  const catalogue = new Catalogue();
  const all = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  return { catalogue, scenarios: only ? all.filter((s) => only.includes(s.id)) : all };
}

export type BuiltinRunOptions = Omit<RunOptions, 'scenarios' | 'gateways' | 'catalogue' | 'runtime'> & {
  /** Run only these scenarios, by id. */
  readonly only?: readonly string[];
};

/** The built-in suite (or the scenarios `only` names) through the given gateways, by id. */
export async function runBuiltin(gatewayIds: readonly string[], runtime: 'process' | 'container', opts: BuiltinRunOptions = {}): Promise<SuiteResult> {
  const { only, ...rest } = opts;
  const { catalogue, scenarios } = await builtinScenarios(only);
  return runSuite({ scenarios, gateways: gatewayIds.map((id) => gatewayById(id)), catalogue, runtime, ...rest });
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
