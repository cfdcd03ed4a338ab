/**
 * "Faithful": does a gateway answer a real application server's failure (a backend scenario) as
 * it answers the chaos upstream's fault that plays the same situation (its counterpart)? Pure:
 * from two cases of one run, or from two measured expectations (the field guide's column).
 *
 * What is compared is what the client and the operator see: the statuses (of a sequence, those
 * of the requests that failed, since a pool that serves one request and refuses the rest plays a
 * single failure), whether a body was cut short, and the reasons the gateway logged.
 */
import type { BodyState, Expectation } from '../scenarios/scenario.js';
import type { Observed } from './evaluate.js';
import type { CaseResult, Faithful } from './judge.js';

export type { Faithful } from './judge.js';


interface View {
  readonly statuses: readonly string[];
  readonly body: readonly BodyState[];
  readonly reasons: readonly string[];
}

const isOk = (status: string) => /^[23]\d\d$/.test(status);

/** The statuses that tell the failure: a sequence's non-2xx/3xx ones when it has any, else all. */
function failing(statuses: readonly string[]): string[] {
  const bad = statuses.filter((s) => !isOk(s));
  return [...new Set(bad.length ? bad : statuses)].sort();
}

function observedView(o: Observed): View {
  const statuses = o.counts ? Object.keys(o.counts) : [String(o.status)];
  return { statuses: failing(statuses), body: [o.body], reasons: [...new Set(o.reasons)].sort() };
}

const list = <T>(x: T | readonly T[] | undefined): readonly T[] => (x === undefined ? [] : Array.isArray(x) ? (x as readonly T[]) : [x as T]);

function expectationView(e: Expectation): View {
  const statuses = e.counts ? Object.entries(e.counts).filter(([, n]) => !/^(=)?0$/.test(n)).map(([k]) => k) : list(e.status).map(String);
  return { statuses: failing(statuses), body: [...list(e.body)].sort(), reasons: list(e.reason).filter((r) => r !== 'none').sort() };
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const text = (xs: readonly string[], none: string) => (xs.length ? xs.join(' or ') : none);

function compare(here: View, there: View, counterpart: string): Faithful {
  const differs: string[] = [];
  if (!same(here.statuses, there.statuses)) differs.push(`status: ${text(here.statuses, 'none')} here, ${text(there.statuses, 'none')} with ${counterpart}`);
  // A body state neither side states (an expectation without body:) is not a difference.
  if (here.body.length && there.body.length && !same(here.body, there.body)) differs.push(`body: ${here.body.join(' or ')} here, ${there.body.join(' or ')} with ${counterpart}`);
  if (!same(here.reasons, there.reasons)) differs.push(`log: ${text(here.reasons, 'no reason')} here, ${text(there.reasons, 'no reason')} with ${counterpart}`);
  return { counterpart, same: differs.length === 0, differs };
}

/** A backend scenario's case against its counterpart's case in the same run. */
export function faithfulCase(c: CaseResult, counterpart: CaseResult | undefined): Faithful | undefined {
  const id = c.scenario.counterpart;
  if (id === undefined) return undefined;
  if (!counterpart) return { counterpart: id, differs: [], why: `${id} did not run through ${c.gateway} in this run` };
  return compare(observedView(c.observed), observedView(counterpart.observed), id);
}

/** Each backend scenario's case compared with its counterpart's in the same gateway's run. */
export function withFaithful(cases: readonly CaseResult[]): CaseResult[] {
  const byId = new Map(cases.map((c) => [c.scenario.id, c]));
  return cases.map((c) => {
    const f = faithfulCase(c, c.scenario.counterpart === undefined ? undefined : byId.get(c.scenario.counterpart));
    return f ? { ...c, faithful: f } : c;
  });
}

/** Two measured expectations for one gateway: the field guide's "faithful" column. */
export function faithfulExpectations(backend: Expectation, counterpart: Expectation, counterpartId: string): Faithful {
  return compare(expectationView(backend), expectationView(counterpart), counterpartId);
}

/** In words, for reports: "faithful to empty-reply" or "not faithful to empty-reply: status: 504 here, 502 with empty-reply". */
export function faithfulText(f: Faithful): string {
  if (f.same === undefined) return `faithful: not compared (${f.why})`;
  return f.same ? `faithful to ${f.counterpart}: yes` : `faithful to ${f.counterpart}: no (${f.differs.join('; ')})`;
}
