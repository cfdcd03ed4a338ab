/** Plain data views of a suite result that every reporter shares. Pure. */
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import type { Scenario } from '../scenarios/scenario.js';
import { crashCause, crashText, type GatewayCrash } from '../harness/crash.js';
export { mismatchText } from '../harness/evaluate.js';

export type CaseState = 'pass' | 'fail' | 'observed';

/**
 * Where a judged case's expectation comes from, in words: "documented: <source>" (read in the
 * gateway's documentation, not measured) or "measured" (with the version this run judged).
 */
export function provenanceText(c: Pick<CaseResult, 'provenance' | 'gateway'>): string | undefined {
  const p = c.provenance;
  if (!p) return undefined;
  return p.kind === 'documented' ? `documented: ${p.source}` : `measured${p.version ? ` (judged on ${c.gateway} ${p.version})` : ''}`;
}

/** True when the case's expectation was read in documentation, not measured. */
export function isDocumented(c: Pick<CaseResult, 'provenance'>): boolean {
  return c.provenance?.kind === 'documented';
}

export function caseState(c: CaseResult): CaseState {
  return c.verdict === undefined ? 'observed' : c.verdict.pass ? 'pass' : 'fail';
}

export function gatewayLabel(r: Pick<GatewayRun, 'gateway' | 'version' | 'runtime'>): string {
  return `${r.gateway}${r.version ? ` ${r.version}` : ''} (${r.runtime})`;
}

/** What ran, for a header: "from /usr/sbin/nginx" or "from image nginx:stable"; empty when unknown. */
export function sourceLabel(r: Pick<GatewayRun, 'runtime' | 'source'>): string {
  if (!r.source) return '';
  return r.runtime === 'container' ? `from image ${r.source}` : `from ${r.source}`;
}

/**
 * How long a scenario took as a person counts it: for a sequence, from its first request
 * sent to its last answer (not its longest request, which is what a `maxMs` expectation holds).
 */
export function caseDurationMs(c: Pick<CaseResult, 'outcomes' | 'observed' | 'durationMs'>): number {
  return c.outcomes.length > 1 && c.durationMs !== undefined ? c.durationMs : c.observed.durationMs;
}

/** The time part of a line: "12 ms", or for a sequence "12 requests in 4510 ms". */
export function durationText(c: Pick<CaseResult, 'outcomes' | 'observed' | 'durationMs'>): string {
  const n = c.outcomes.length;
  return n > 1 ? `${n} requests in ${caseDurationMs(c)} ms` : `${caseDurationMs(c)} ms`;
}

/** One-line summary of what was observed: "502 · complete · upstream-closed-early · 12 ms". */
export function observedLine(c: CaseResult): string {
  const o = c.observed;
  const parts = [String(o.status)];
  // The gateway died: that is the outcome; what the client saw of it follows.
  if (o.crash) parts.unshift(crashText(o.crash));
  if (o.counts) parts.push(Object.entries(o.counts).map(([k, n]) => `${n}×${k}`).join(' '));
  if (o.body !== 'none') parts.push(o.body);
  parts.push(o.reasons.length ? o.reasons.join(',') : 'no log reason');
  if (o.websocket) parts.push(`ws ${o.websocket.upgraded ? 'upgraded' : 'not upgraded'}${o.websocket.closeCode ? ` close ${o.websocket.closeCode}` : ''}`);
  parts.push(durationText(c));
  return parts.join(' · ');
}

/** Log lines worth showing for a case: the ones with a reason first, then warnings and errors. */
export function evidenceLines(c: CaseResult, max = 5): string[] {
  const withReason = c.logs.filter((l) => l.reason);
  const others = c.logs.filter((l) => !l.reason && ['warn', 'error', 'crit', 'alert', 'emerg'].includes(l.level));
  return [...withReason, ...others].slice(0, max).map((l) => l.raw);
}

export function totals(result: SuiteResult): string {
  const parts = [`${result.passed} passed`, `${result.failed} failed`];
  if (result.unchecked) parts.push(`${result.unchecked} observed`);
  if (result.skipped) parts.push(`${result.skipped} skipped`);
  const crashed = crashedCases(result).length;
  if (crashed) parts.push(`${crashed} crashed the gateway`);
  const insecure = securityCases(result).length;
  if (insecure) parts.push(`${insecure} security finding${insecure === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** Every case with a security finding (src/harness/security.ts), in run order: its own section in every reporter. */
export function securityCases(result: Pick<SuiteResult, 'runs'>): CaseResult[] {
  return result.runs.flatMap((r) => r.cases.filter((c) => c.security !== undefined));
}

/** A finding in one line: "SECURITY: nginx's default config accepts ... — fix: proxy_ssl_verify on; ...". */
export function securityLine(c: Pick<CaseResult, 'security'>): string | undefined {
  const s = c.security;
  return s ? `SECURITY: ${s.message}${s.directive ? ` — to refuse it: ${s.directive}` : ''}` : undefined;
}

/**
 * The exit status of a run: 1 when an expectation failed (the suite itself is wrong for this
 * gateway), else 3 when a case has a security finding, else 0.
 */
export function exitStatus(result: Pick<SuiteResult, 'runs' | 'failed'>): 0 | 1 | 3 {
  return result.failed > 0 ? 1 : securityCases(result).length > 0 ? 3 : 0;
}

/**
 * Which part of a sharded suite a result holds, for a header: "shard 2/4: 5 of 17 cells", or
 * for a partial merge "shards 1/4, 3/4 of 4: 9 of 17 cells (missing: 2/4, 4/4)". Undefined
 * for a whole suite (unsharded, or every shard merged).
 */
export function shardText(result: SuiteResult): string | undefined {
  const s = result.shard;
  if (!s || s.count <= 1) return undefined;
  const list = (ks: readonly number[]) => ks.map((k) => `${k}/${s.count}`).join(', ');
  const missing = Array.from({ length: s.count }, (_, i) => i + 1).filter((k) => !s.covered.includes(k));
  const which = s.covered.length === 1 ? `shard ${list(s.covered)}` : `shards ${list(s.covered)} of ${s.count}`;
  if (s.cells.length === 0) return `${which}: none of the suite's ${s.total} cells fall in this shard (fewer cells than shards); nothing to run, nothing failed`;
  // One shard's own run lacks the others by design; only a partial merge names what it lacks.
  return `${which}: ${s.cells.length} of ${s.total} cells${s.covered.length > 1 && missing.length ? ` (missing: ${list(missing)})` : ''}`;
}

/** The crash a case is blamed for, if the gateway died of it. */
export function caseCrash(c: Pick<CaseResult, 'observed'>): GatewayCrash | undefined {
  return c.observed.crash;
}

/** Every case the gateway died of, in run order. */
export function crashedCases(result: Pick<SuiteResult, 'runs'>): CaseResult[] {
  return result.runs.flatMap((r) => r.cases.filter((c) => c.observed.crash !== undefined));
}

/** A crashed case's lines for a report: what it died of, then its last log lines (at most `max`). */
export function crashLines(c: Pick<CaseResult, 'observed'>, max = 20): string[] {
  const crash = c.observed.crash;
  if (!crash) return [];
  const cause = crashCause(crash);
  const last = crash.lastLogLines.filter((l) => l.trim() !== '').slice(-max);
  return [`${crashText(crash)}${cause ? `: ${cause}` : ''}`, 'its last log lines:', ...last.map((l) => `  ${l}`)];
}

export type Change = 'hidden' | 'exposed' | 'changed' | 'same';

function isFailure(status: unknown, body: string | undefined): boolean {
  return typeof status !== 'number' || status >= 500 || body === 'truncated';
}

/**
 * With a user's config: what it changes against the gateway's default config.
 * `hidden`: the default fails the client and this config answers cleanly (a retry or fallback hid the fault).
 */
export function changeFromBaseline(c: CaseResult): { change: Change; baseline: string } | undefined {
  const b = c.baseline;
  if (!b || (b.status === undefined && b.counts === undefined)) return undefined;
  if (b.counts) {
    const base = Object.entries(b.counts).map(([k, v]) => `${k}:${v}`).join(' ');
    const badBase = Object.keys(b.counts).some((k) => !/^2/.test(k));
    const badNow = Object.keys(c.observed.counts ?? {}).some((k) => !/^2/.test(k));
    return { change: badBase && !badNow ? 'hidden' : !badBase && badNow ? 'exposed' : 'same', baseline: base };
  }
  const baseStatus = Array.isArray(b.status) ? b.status[0] : b.status;
  const baseBodies = b.body === undefined ? undefined : Array.isArray(b.body) ? b.body : [b.body];
  const baseBody = baseBodies?.[0];
  const baseBad = isFailure(baseStatus, baseBody);
  const nowBad = isFailure(c.observed.status, c.observed.body);
  const baseline = `${String(baseStatus)}${baseBody === 'truncated' ? ' truncated' : ''}`;
  if (baseBad && !nowBad) return { change: 'hidden', baseline };
  if (!baseBad && nowBad) return { change: 'exposed', baseline };
  return { change: baseStatus === c.observed.status && (baseBodies === undefined || baseBodies.includes(c.observed.body)) ? 'same' : 'changed', baseline };
}

/** Why a gateway's run skipped a scenario, by scenario id (the matrix shows it instead of an empty cell). */
export function skipReasons(run: GatewayRun): Map<string, string> {
  return new Map(run.skipped.map((s) => [s.scenario.id, s.why]));
}

export interface MatrixRow {
  readonly scenario: Scenario;
  /** One cell per run, in the order of the runs: its case, or why it was skipped, or neither (not run). */
  readonly cells: ReadonlyArray<{ readonly case?: CaseResult; readonly skipped?: string }>;
}

/**
 * The scenario × gateway matrix every matrix reporter draws: one row per scenario any gateway
 * ran or skipped (one every gateway skipped still shows why), sorted by id.
 */
export function matrix(result: SuiteResult): MatrixRow[] {
  const scenarios = new Map<string, Scenario>();
  for (const run of result.runs) {
    for (const s of [...run.cases.map((c) => c.scenario), ...run.skipped.map((k) => k.scenario)]) if (!scenarios.has(s.id)) scenarios.set(s.id, s);
  }
  const index = result.runs.map((r) => new Map(r.cases.map((c) => [c.scenario.id, c])));
  const skips = result.runs.map(skipReasons);
  return [...scenarios.keys()].sort().map((id) => ({
    scenario: scenarios.get(id)!,
    cells: result.runs.map((_, i) => ({ case: index[i]!.get(id), skipped: skips[i]!.get(id) })),
  }));
}

/**
 * An external run's note for a header: where the upstream and the log were, or that reasons were
 * not checked (no log) and how to check them later. Undefined for a gateway badgateway started.
 */
export function externalNote(run: Pick<GatewayRun, 'external'>): string | undefined {
  const e = run.external;
  if (!e) return undefined;
  const log = e.log !== undefined ? `log: ${e.log}` : 'reasons were not checked (no gateway log); an expected reason is neither passed nor failed. Check them later: badgateway judge REPORT.json --gateway-log FILE';
  return `upstream ${e.upstream}; run id ${e.runId}; ${log}`;
}
