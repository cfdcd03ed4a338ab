/**
 * Judge: what the probes saw and what the gateway logged, held against each scenario's
 * expectation. Pure: no I/O, so a finished run can be judged again from its data.
 */
import type { LogEntry } from '../gateways/gateway.js';
import type { Outcome } from '../probe/http-probe.js';
import { expectationFor, unmeasured, type Expectation, type Scenario } from '../scenarios/scenario.js';
import { evaluate, observe, type Observed, type Verdict } from './evaluate.js';

/** One scenario's requests as probed: their numbers (the ?bgp= tags) and what each saw. */
export interface ProbeRun {
  readonly scenario: Scenario;
  readonly numbers: readonly number[];
  readonly outcomes: readonly Outcome[];
  /** From the first request sent to the last answer (a sequence's whole duration). */
  readonly durationMs: number;
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
  /** Why there is no verdict, e.g. "no expectation measured for envoy": reported, neither a pass nor a failure. */
  readonly unjudged?: string;
  /** With a user's config: what the gateway does with its default config, to show what the user's config changes. */
  readonly baseline?: Expectation;
  /** From the first request sent to the last answer: a sequence's whole duration (ProbeRun.durationMs). */
  readonly durationMs?: number;
}

export interface JudgeContext {
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: string;
  /** A user's config is observed against the default config's expectation, not judged by it. */
  readonly userConfig: boolean;
}

export function judgeCase(run: ProbeRun, byProbe: ReadonlyMap<number, readonly LogEntry[]>, ctx: JudgeContext): CaseResult {
  const { scenario, numbers, outcomes } = run;
  const logs = numbers.flatMap((n) => byProbe.get(n) ?? []);
  const observed = observe(outcomes, logs);
  const builtin = expectationFor(scenario, ctx.gateway, ctx.version);
  const expectation = ctx.userConfig ? undefined : builtin;
  return {
    scenario,
    gateway: ctx.gateway,
    version: ctx.version,
    runtime: ctx.runtime,
    outcomes,
    logs,
    observed,
    expectation,
    verdict: expectation ? evaluate(observed, expectation) : undefined,
    unjudged: ctx.userConfig || expectation ? undefined : unmeasured(scenario, ctx.gateway, ctx.version),
    baseline: ctx.userConfig ? builtin : undefined,
    durationMs: run.durationMs,
  };
}
