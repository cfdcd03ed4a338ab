/**
 * badgateway's public API: the one entry the CLI, scripts/, bench/ and the test helpers use too.
 * Anything not exported here is internal and may change between versions.
 */
import { InputError } from './errors.js';
import { compileFault, type FaultDef } from './faults/fault.js';
import { StepError } from './faults/steps.js';
import { explainLine, type Explanation } from './gateways/explain.js';
import { gatewayById, GATEWAYS } from './gateways/index.js';

// The chaos upstream.
export { startUpstream, type StartUpstreamOptions, type Upstream, type UpstreamEvents, type ListenerAddress } from './api/upstream.js';
export type { Stamped as UpstreamEventStamped, UpstreamEvent } from './upstream/events.js';
export type { RouteSpec, MixSpec, RouterSpec } from './upstream/upstream.js';

// Suites and gateways.
export { loadCatalogue, loadSuite, runSuite, startGateway, type LoadSuiteOptions, type LoadedSuite, type RunSuiteOptions, type StartGatewayOptions, type StartedGateway } from './api/suite.js';
export type { SuiteResult, GatewayRun, ProgressListener, GatewayInstance } from './harness/run.js';
export { runVersions, type RunVersionsOptions } from './api/versions.js';
export { versionsReport, type VersionsReport, type VersionRow, type VersionColumn } from './report/versions.js';
export type { CaseResult } from './harness/judge.js';
export { faithfulExpectations, faithfulText, type Faithful } from './harness/faithful.js';
export { describeBackend, type BackendSpec, type GunicornSpec, type PhpFpmSpec } from './backends/backend.js';
export type { Observed, Verdict, Mismatch, StatusLabel } from './harness/evaluate.js';
export type { Outcome, OutcomeKind } from './probe/http-probe.js';
export type { Scenario, Expectation, BodyState, StatusExpectation, ScenarioRequest, Sequence } from './scenarios/scenario.js';
export { expectationFor } from './scenarios/scenario.js';
export { RUNTIMES, RUNTIME_CHOICES, type RuntimeChoice, type RuntimeKind } from './runtimes/index.js';
export type { ExternalOptions } from './harness/external.js';
export type { ExternalInfo } from './harness/execute.js';
export { READY_PATH, routePath } from './gateways/paths.js';
export type { GatewayAdapter, LogEntry, ReasonInfo, RouteTls } from './gateways/gateway.js';
export { createRunPki, type RunPki } from './tls/pki.js';
export { REASONS, isReason, type ExpectedReason, type Reason } from './gateways/reasons.js';

// Faults.
export { Catalogue, loadFaultFile, loadFaultText } from './faults/registry.js';
export { BUILTIN_FAULTS as faults } from './faults/builtin/index.js';
export type { FaultDef, ExchangeFaultDef, ListenerFaultDef, DnsFaultDef, FaultLayer, WireExpectation, WireBytes, WireBounds } from './faults/fault.js';
export type { StepDef } from './faults/steps.js';

// Reporters: each renders a SuiteResult to text; REPORTERS is the registry the CLI's --reporter reads.
export { REPORTERS, reporterById } from './report/index.js';
export type { Reporter } from './report/reporter.js';
export { consoleSummary, failureDetail } from './report/console.js';
export { toJson } from './report/json.js';
export { toJunit } from './report/junit.js';
export { toMarkdown } from './report/markdown.js';
export { toHtml } from './report/html.js';
// Sharded runs: the split, and the JSON reports of every shard merged back into one result.
export { mergeReports, readReport, type MergeOptions, type Merged, type ReadReport } from './report/merge.js';
export { parseShard, type Shard, type ShardCoverage, type SuiteIdentity } from './harness/shard.js';
export { REPORT_FORMAT, REPORT_FORMAT_VERSION } from './report/json.js';

// Errors: every error badgateway throws on purpose is a BadgatewayError with a stable `code`.
export { BadgatewayError, InputError, StartError, isBadgatewayError, ERROR_CODES, type ErrorCode } from './errors.js';

/** Every gateway adapter badgateway knows, in registry order. */
export const gateways = GATEWAYS;
export type { Explanation } from './gateways/explain.js';

/**
 * A custom fault, checked now: an exchange fault's steps compile with its default params, or this
 * throws an InputError (BG_INVALID_FAULT) that names the step. Pass it to `startUpstream({ faults })`
 * or `loadSuite({ faults })`.
 */
export function defineFault<T extends FaultDef>(def: T): T {
  if (def.layer === 'exchange') {
    try {
      compileFault(def);
    } catch (err) {
      if (err instanceof StepError) throw new InputError('BG_INVALID_FAULT', `fault ${def.id}: ${err.path.join('.')}: ${err.message}`);
      throw err;
    }
  }
  return def;
}

/**
 * What a gateway's log line means: the adapter that wrote it, its normalized reason, likely causes,
 * the scenarios that reproduce it and the directives that govern it. Undefined when no adapter (or
 * not the one named) recognises the line.
 */
export function explain(line: string, opts: { readonly gateway?: string } = {}): Explanation | undefined {
  return explainLine(line, opts.gateway === undefined ? GATEWAYS : [gatewayById(opts.gateway)]);
}
