/**
 * Judge: what the probes saw and what the gateway logged, held against each scenario's
 * expectation. Pure: no I/O, so a finished run can be judged again from its data.
 */
import type { LogEntry } from '../gateways/gateway.js';
import type { Outcome } from '../probe/http-probe.js';
import { resolveExpectation, type Expectation, type Scenario } from '../scenarios/scenario.js';
import type { GatewayCrash } from './crash.js';
import { securityFinding, type SecurityFinding } from './security.js';
import { evaluate, observe, type Observed, type Verdict } from './evaluate.js';

/** One scenario's requests as probed: their numbers (the ?bgp= tags) and what each saw. */
/** Whether a backend case was answered as its counterpart's (src/harness/faithful.ts compares them). */
export interface Faithful {
  /** The counterpart scenario's id. */
  readonly counterpart: string;
  /** Undefined when there was nothing to compare with (the counterpart did not run here): `why` says so. */
  readonly same?: boolean;
  /** What differed, one phrase each: "status: 504 here, 502 with empty-reply". */
  readonly differs: readonly string[];
  readonly why?: string;
}

export interface ProbeRun {
  readonly scenario: Scenario;
  readonly numbers: readonly number[];
  readonly outcomes: readonly Outcome[];
  /** From the first request sent to the last answer (a sequence's whole duration). */
  readonly durationMs: number;
  /** The gateway died during these requests, and they are to blame (src/harness/crash-watch.ts). */
  readonly crash?: GatewayCrash;
  /** The X-Request-Id each request carried (external runtime), in the order of `numbers`. */
  readonly requestIds?: readonly string[];
}

export interface CaseResult {
  readonly scenario: Scenario;
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: string;
  readonly outcomes: readonly Outcome[];
  readonly logs: readonly LogEntry[];
  readonly observed: Observed;
  readonly expectation?: Expectation;
  /** Undefined when the scenario has no expectation for this gateway: the outcome is reported, not judged. */
  readonly verdict?: Verdict;
  /**
   * Why there is no verdict, e.g. "no expectation measured for envoy", or "not measured on
   * nginx 1.31.0: ..." with the measured version the nearest expectation comes from and whether
   * what was seen matches it: reported, neither a pass nor a failure.
   */
  readonly unjudged?: string;
  /** On a version outside every measured range: the nearest measured version, its expectation, and how what was seen compares (not a verdict). */
  readonly nearestMeasured?: { readonly version: string; readonly expectation: Expectation; readonly comparison: Verdict };
  /** With a user's config: what the gateway does with its default config, to show what the user's config changes. */
  readonly baseline?: Expectation;
  /** From the first request sent to the last answer: a sequence's whole duration (ProbeRun.durationMs). */
  readonly durationMs?: number;
  /** A backend scenario: whether the gateway answered it as it answered its counterpart in the same run. */
  readonly faithful?: Faithful;
  /** Where the expectation comes from: documentation (its source) or a measurement (on this version). */
  readonly provenance?: Provenance;
  /** The probe numbers (?bgp= tags) of its requests, and their request ids: what `judge` attributes log lines by later. */
  readonly probes?: readonly number[];
  readonly requestIds?: readonly string[];
  /** The upstream's response reached the client though the scenario says a safe gateway refuses it (mustRefuse). */
  readonly security?: SecurityFinding;
}

/** Where a judged expectation comes from. */
export type Provenance = { readonly kind: 'documented'; readonly source: string } | { readonly kind: 'measured'; readonly version?: string };

export interface JudgeContext {
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: string;
  /** A user's config is observed against the default config's expectation, not judged by it. */
  readonly userConfig: boolean;
  /** The versions the adapter's expectations were measured on: outside them nothing is judged. */
  readonly measuredOn?: readonly string[];
  /** False when the run had no gateway log (external runtime): an expected reason is not judged, neither passed nor failed. */
  readonly reasonsChecked?: boolean;
}

export function judgeCase(run: ProbeRun, byProbe: ReadonlyMap<number, readonly LogEntry[]>, ctx: JudgeContext): CaseResult {
  const { scenario, numbers, outcomes } = run;
  const logs = numbers.flatMap((n) => byProbe.get(n) ?? []);
  const observed = observe(outcomes, logs, run.crash);
  const resolved = resolveExpectation(scenario, ctx.gateway, ctx.version, ctx.measuredOn);
  const builtin = resolved.measured ? resolved.expectation : undefined;
  const expectation = ctx.userConfig ? undefined : builtin;
  const security = securityFinding(scenario, outcomes, ctx);
  const near = !resolved.measured && resolved.from ? { ...resolved.from, comparison: evaluate(observed, resolved.from.expectation) } : undefined;
  return {
    scenario,
    gateway: ctx.gateway,
    version: ctx.version,
    runtime: ctx.runtime,
    outcomes,
    logs,
    observed,
    expectation,
    verdict: expectation ? withSource(evaluate(observed, ctx.reasonsChecked === false ? { ...expectation, reason: undefined } : expectation), expectation) : undefined,
    ...(expectation ? { provenance: provenanceOf(expectation, ctx.version) } : {}),
    // With a user's config and a measured version the baseline says what the config changes.
    unjudged: resolved.measured ? undefined : near ? `${resolved.why}: ${nearText(ctx.gateway, near)}` : resolved.why,
    ...(near ? { nearestMeasured: near } : {}),
    baseline: ctx.userConfig ? builtin : undefined,
    durationMs: run.durationMs,
    probes: numbers,
    ...(run.requestIds ? { requestIds: run.requestIds } : {}),
    ...(security ? { security } : {}),
  };
}

/** How what was seen compares with the nearest measured version's expectation, in words. */
function nearText(gateway: string, near: { readonly version: string; readonly comparison: Verdict }): string {
  const on = `the expectation measured on ${gateway} ${near.version}`;
  if (near.comparison.pass) return `what was seen matches ${on}`;
  return `what was seen differs from ${on} (${near.comparison.mismatches.map((m) => m.message ?? `${m.field}: ${m.expected} there, ${m.observed} here`).join('; ')})`;
}

export function provenanceOf(e: Expectation, version: string | undefined): Provenance {
  return e.documented !== undefined ? { kind: 'documented', source: e.documented } : { kind: 'measured', ...(version !== undefined ? { version } : {}) };
}

/**
 * A documented expectation the gateway does not meet is a finding about the documentation (or
 * about this deployment): its first mismatch says so, so every reporter shows it.
 */
function withSource(v: Verdict, e: Expectation): Verdict {
  if (v.pass || e.documented === undefined) return v;
  return { pass: false, mismatches: [{ field: 'documented', expected: e.documented, observed: 'contradicted', message: `contradicts ${e.documented}` }, ...v.mismatches] };
}
