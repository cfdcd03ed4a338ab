/**
 * Judge later: a finished run's JSON report judged again with gateway log lines that arrived
 * since (ALB writes its access logs to S3 minutes after the fact). Pure: the report's outcomes
 * and probe numbers, the suite's scenarios and the log text in, a suite result out, with the
 * verdicts a run that had the log all along would have given.
 */
import { InputError } from '../errors.js';
import type { LogEntry } from '../gateways/gateway.js';
import { gatewayById } from '../gateways/index.js';
import type { Scenario } from '../scenarios/scenario.js';
import { attribute } from './attribute.js';
import { withFaithful } from './faithful.js';
import { judgeCase, type CaseResult } from './judge.js';
import type { GatewayRun, SuiteResult } from './run.js';

export function rejudge(result: SuiteResult, scenarios: ReadonlyMap<string, Scenario>, logText: string, logSource: string): SuiteResult {
  const runs = result.runs.map((run): GatewayRun => {
    const adapter = gatewayById(run.gateway);
    const runId = run.external?.runId;
    // The lines the report holds, then the ones that came since: attributed together, so a
    // line that names only a connection still follows the line that named its request.
    const recorded = run.cases.flatMap((c) => c.logs.map((l) => l.raw));
    const byProbe = attribute(adapter, `${recorded.join('\n')}\n${logText}`, runId);
    const unique = new Map<number, LogEntry[]>();
    for (const [n, entries] of byProbe) {
      const seen = new Set<string>();
      unique.set(n, entries.filter((e) => !seen.has(e.raw) && seen.add(e.raw)));
    }
    const ctx = { gateway: run.gateway, version: run.version, runtime: run.runtime, userConfig: run.userConfig !== undefined, measuredOn: adapter.measuredOn?.map((m) => m.version), reasonsChecked: true };
    const cases = run.cases.map((c): CaseResult => {
      const scenario = scenarios.get(c.scenario.id);
      if (!scenario) {
        throw new InputError('BG_NO_SCENARIOS', `the report's scenario ${c.scenario.id} (${c.scenario.file}) is not in the suite judge loaded; give the suite the run used with --suite DIR (and --faults-file for its custom faults).`);
      }
      if (!c.probes) {
        throw new InputError('BG_BAD_REPORT', `the report records no probe numbers for ${c.scenario.id} (${run.gateway}): judge reads the reports of --runtime external runs (a run that starts its gateway reads the whole log itself), written by this badgateway or a later one. Run it again with --runtime external --reporter json:FILE.`);
      }
      return judgeCase({ scenario, numbers: c.probes, outcomes: c.outcomes, durationMs: c.durationMs ?? c.observed.durationMs, ...(c.observed.crash ? { crash: c.observed.crash } : {}), ...(c.requestIds ? { requestIds: c.requestIds } : {}) }, unique, ctx);
    });
    return { ...run, cases: withFaithful(cases), ...(run.external ? { external: { ...run.external, log: logSource } } : {}) };
  });
  const all = runs.flatMap((r) => r.cases);
  return {
    ...result,
    runs,
    passed: all.filter((c) => c.verdict?.pass === true).length,
    failed: all.filter((c) => c.verdict?.pass === false).length,
    unchecked: all.filter((c) => c.verdict === undefined).length,
  };
}
