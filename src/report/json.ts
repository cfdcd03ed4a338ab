/** The whole result as JSON: every outcome, every attributed log line, every verdict. */
import type { SuiteResult } from '../harness/run.js';
import { caseState, changeFromBaseline, crashedCases, securityCases } from './model.js';
import type { Reporter } from './reporter.js';

/** What `merge-reports` checks before it reads a report: a report of another format version is refused, never half-read. */
export const REPORT_FORMAT = 'badgateway-report';
/** Raised when a field changes meaning or goes away; new optional fields keep it. */
export const REPORT_FORMAT_VERSION = 1;

export function toJson(result: SuiteResult): string {
  return JSON.stringify(
    {
      format: REPORT_FORMAT,
      formatVersion: REPORT_FORMAT_VERSION,
      // observed.crash of a case holds a gateway crash, security a security finding; the summary counts them when there are any.
      summary: {
        passed: result.passed,
        failed: result.failed,
        observed: result.unchecked,
        skipped: result.skipped,
        ...(crashedCases(result).length ? { crashed: crashedCases(result).length } : {}),
        ...(securityCases(result).length ? { security: securityCases(result).length } : {}),
        durationMs: result.durationMs,
      },
      runs: result.runs.map((r) => ({
        gateway: r.gateway,
        version: r.version,
        runtime: r.runtime,
        source: r.source,
        ...(r.image !== undefined ? { image: r.image } : {}),
        userConfig: r.userConfig,
        durationMs: r.durationMs,
        // The external runtime: what it drove, its run id (in every probe's X-Request-Id) and where the log came from.
        ...(r.external ? { external: { ...r.external, reasonsChecked: r.external.log !== undefined } } : {}),
        skipped: r.skipped.map((s) => ({ scenario: s.scenario.id, why: s.why })),
        cases: r.cases.map((c) => ({
          scenario: c.scenario.id,
          fault: c.scenario.fault,
          file: c.scenario.file,
          state: caseState(c),
          ...(c.unjudged ? { unjudged: c.unjudged } : {}),
          observed: c.observed,
          expected: c.expectation,
          // documented (with its source) or measured: what the expectation rests on.
          ...(c.provenance ? { provenance: c.provenance } : {}),
          // A backend scenario: the gateway's answer compared with its counterpart's in this run.
          ...(c.faithful ? { faithful: c.faithful } : {}),
          ...(c.security ? { security: c.security } : {}),
          ...(c.baseline ? { defaultConfig: { expected: c.baseline, ...changeFromBaseline(c) } } : {}),
          mismatches: c.verdict?.mismatches ?? [],
          // First request sent to last answer; observed.durationMs is the longest single request.
          durationMs: c.durationMs ?? c.observed.durationMs,
          outcomes: c.outcomes,
          // What `judge` attributes log lines that arrive later by: the ?bgp= numbers and request ids.
          // An external run's (the ones with request ids): a run that started its gateway had its log all along.
          ...(c.probes && c.requestIds ? { probes: c.probes } : {}),
          ...(c.requestIds ? { requestIds: c.requestIds } : {}),
          log: c.logs.map((l) => ({ level: l.level, reason: l.reason, line: l.raw })),
        })),
      })),
      // What a merge of sharded reports checks: the same suite, every cell once, no shard missing.
      ...(result.shard ? { shard: result.shard } : {}),
      ...(result.suite ? { suite: result.suite } : {}),
    },
    null,
    2,
  );
}

const jsonReporter: Reporter = {
  id: 'json',
  describe: 'everything: every outcome, every attributed log line, every verdict, for your own tools',
  extension: '.json',
  render: (result) => toJson(result),
};
export default jsonReporter;
