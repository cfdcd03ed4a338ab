/**
 * From a production log to a reproduction (`badgateway reproduce`): count a real log's lines by
 * reason with the gateway's own parser, turn each reason into the built-in scenario behind it
 * (ReasonInfo.scenarios), weighted by its count, and, after a load run with that mix, set the
 * two histograms side by side with a test of whether each share was reproduced. Pure: the run
 * itself is `runLoad`.
 */
import type { GatewayAdapter } from '../gateways/gateway.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { LoadMixEntry } from './mix.js';
import { reasonCounts, type LoadResult } from './run.js';

/** z for a two-sided 99.9 % bound: a reproduction is called off only when the difference is unlikely to be chance. */
export const Z999 = 3.290526731491926;

export interface ProductionLog {
  /** Non-empty lines read. */
  readonly lines: number;
  /** Lines with a reason, counted by reason, with the first of each as its example. */
  readonly reasons: LoadResult['logReasons'];
}

export function readProductionLog(adapter: GatewayAdapter, text: string): ProductionLog {
  const lines = text.split('\n').filter((l) => l.trim() !== '').length;
  return { lines, reasons: reasonCounts(adapter, text) };
}

export interface ReasonPlan {
  readonly reason: string;
  readonly count: number;
  /** The scenario that reproduces it, and the mix entry it became; absent when none can. */
  readonly scenario?: string;
  readonly fault?: string;
  /** Its index in the plan's mix. */
  readonly entry?: number;
  /** Why it cannot be reproduced, when it cannot. */
  readonly why?: string;
}

export interface ReproductionPlan {
  readonly mix: LoadMixEntry[];
  readonly reasons: readonly ReasonPlan[];
}

/** Why a scenario cannot be one entry of a load mix, or undefined when it can. */
export function whyNotMixable(s: Scenario): string | undefined {
  if (s.backend) return `${s.id} runs a real ${s.backend.kind}, not a fault of the chaos upstream`;
  if (s.pool) return `${s.id} needs a pool of upstream servers, and a load run has one`;
  const def = s.faultDef;
  if (def.layer === 'listener') return `${s.id} is a listener fault: it acts on a port of its own before any request, so it cannot be drawn per request`;
  if (def.layer === 'dns') return `${s.id} is a DNS fault: it acts on the upstream's name, before any request`;
  if (def.layer === 'process') return `${s.id} is a process fault: a supervised backend process of its own plays it, not the chaos upstream`;
  if (def.protocol === 'fastcgi') return `${s.id} speaks FastCGI, and load's upstream speaks HTTP`;
  if (def.protocol !== undefined && def.protocol !== 'http') return `${s.id} speaks ${def.protocol}, and load's upstream route speaks HTTP/1.1`;
  if (s.upstream !== 'tcp') return `${s.id} reaches its upstream by ${s.upstream === 'unix' ? 'a unix socket' : 'a DNS name'}, and load's route is TCP`;
  if (s.request.websocket) return `${s.id} is a WebSocket upgrade, and load sends plain requests`;
  return undefined;
}

function expects(s: Scenario, gateway: string, reason: string): boolean {
  for (const [key, e] of Object.entries(s.expect)) {
    if (key !== gateway && !key.startsWith(`${gateway}@`)) continue;
    const r = e.reason;
    if (r === reason || (Array.isArray(r) && r.includes(reason))) return true;
  }
  return false;
}

/**
 * The mix that reproduces a log: each reason's count goes to the first of its scenarios that a
 * load mix can draw, preferring one whose expectation for this gateway names the reason (that
 * is measured; the adapter's list is what can cause it anywhere).
 */
export function planReproduction(adapter: GatewayAdapter, log: ProductionLog, scenarios: readonly Scenario[]): ReproductionPlan {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const weights = new Map<string, { entry: LoadMixEntry; weight: number }>();
  const reasons: ReasonPlan[] = [];
  for (const { reason, count } of log.reasons) {
    const info = adapter.reasons.find((r) => r.reason === reason);
    const candidates = (info?.scenarios ?? []).map((id) => byId.get(id)).filter((s): s is Scenario => s !== undefined);
    if (candidates.length === 0) {
      reasons.push({ reason, count, why: info && info.scenarios.length ? `none of its scenarios (${info.scenarios.join(', ')}) is in the suite` : `no built-in scenario makes ${adapter.id} log it` });
      continue;
    }
    const usable = candidates.filter((s) => whyNotMixable(s) === undefined);
    const chosen = usable.find((s) => expects(s, adapter.id, reason)) ?? usable[0];
    if (!chosen) {
      reasons.push({ reason, count, why: candidates.map((s) => whyNotMixable(s)!).join('; ') });
      continue;
    }
    const key = chosen.id;
    const w = weights.get(key);
    if (w) w.weight += count;
    else weights.set(key, { entry: { fault: chosen.fault, weight: 0, ...(Object.keys(chosen.params).length ? { params: chosen.params } : {}) }, weight: count });
    reasons.push({ reason, count, scenario: chosen.id, fault: chosen.fault, entry: [...weights.keys()].indexOf(key) });
  }
  return { mix: [...weights.values()].map((w) => ({ ...w.entry, weight: w.weight })), reasons };
}

/** An entry is calibrated only from at least this many requests and reason lines; otherwise it keeps its weight. */
export const MIN_CALIBRATION_SENT = 20;
export const MIN_CALIBRATION_LINES = 10;

export interface Calibration {
  /** Reason lines per request each mix entry gave in the calibration run; undefined when too few to tell (it then keeps its weight). */
  readonly yields: ReadonlyArray<{ readonly fault: string; readonly sent: number; readonly lines: number; readonly linesPerRequest: number | undefined }>;
  readonly mix: LoadMixEntry[];
}

/**
 * A gateway does not log one line per failed request: nginx logs each retry on a reused upstream
 * connection, HAProxy logs nothing for a request whose client connection it just closes. So the
 * weights that reproduce the log's line shares are its line counts divided by the lines each
 * scenario yields per request, measured by a first, shorter run of the same mix through the
 * same gateway. An entry with too few requests or lines to tell keeps its weight.
 */
export function calibrate(plan: ReproductionPlan, first: LoadResult): Calibration {
  const entryOf = new Map<string, number>();
  for (const r of plan.reasons) if (r.entry !== undefined) entryOf.set(r.reason, r.entry);
  const lines = plan.mix.map(() => 0);
  for (const x of first.logReasons) {
    const i = entryOf.get(x.reason);
    if (i !== undefined) lines[i]! += x.count;
  }
  const yields = plan.mix.map((e, i) => {
    const sent = first.byFault[i]?.sent ?? 0;
    // Too few to measure: a few lines over a few requests would scale a weight by chance (a
    // read-timeout line or two of a busy machine made one never-respond request weigh like ten).
    return { fault: e.fault, sent, lines: lines[i]!, linesPerRequest: sent >= MIN_CALIBRATION_SENT && lines[i]! >= MIN_CALIBRATION_LINES ? lines[i]! / sent : undefined };
  });
  const mix = plan.mix.map((e, i) => {
    const y = yields[i]!.linesPerRequest;
    return y === undefined ? e : { ...e, weight: Math.max(0.01, Math.round((e.weight / y) * 100) / 100) };
  });
  return { yields, mix };
}

export interface ReasonComparison {
  readonly reason: string;
  readonly production: { readonly count: number; readonly share: number };
  readonly reproduced: { readonly count: number; readonly share: number };
  /** |share difference| within the two-proportion 99.9 % bound (production shares of the reproducible lines); undefined when a side has no lines or the reason cannot be reproduced. */
  readonly withinBound: boolean | undefined;
  readonly scenario?: string;
  readonly why?: string;
}

export interface ReproduceResult {
  readonly format: 'badgateway-reproduce/1';
  readonly log: { readonly file: string; readonly lines: number; readonly withReason: number };
  readonly plan: ReproductionPlan;
  /** The first, shorter run's lines per request, and the mix it gave the run compared here; absent with --no-calibrate. */
  readonly calibration?: Calibration;
  readonly comparison: readonly ReasonComparison[];
  /** Every reproducible reason's share within its bound, and no reason the log lacks. */
  readonly reproduced: boolean;
  readonly load: LoadResult;
}

/**
 * The two histograms side by side. Shares are of the lines with a reason on each side; a
 * reason's shares differ by chance within z·√(p(1-p)(1/n₁+1/n₂)) (p pooled), the two-proportion test.
 */
export function compareReasons(file: string, log: ProductionLog, plan: ReproductionPlan, load: LoadResult, calibration?: Calibration): ReproduceResult {
  const n1 = log.reasons.reduce((a, r) => a + r.count, 0);
  const n2 = load.logReasons.reduce((a, r) => a + r.count, 0);
  // The reproduction cannot hold the reasons it could not reproduce: each share is tested against
  // the production lines it could (else one unreproducible reason would shift every other share).
  const unreproducible = new Set(plan.reasons.filter((r) => r.why !== undefined).map((r) => r.reason));
  const n1r = log.reasons.reduce((a, r) => a + (unreproducible.has(r.reason) ? 0 : r.count), 0);
  const names = [...new Set([...log.reasons.map((r) => r.reason), ...load.logReasons.map((r) => r.reason)])];
  const comparison = names.map((reason): ReasonComparison => {
    const k1 = log.reasons.find((r) => r.reason === reason)?.count ?? 0;
    const k2 = load.logReasons.find((r) => r.reason === reason)?.count ?? 0;
    const p = plan.reasons.find((r) => r.reason === reason);
    let withinBound: boolean | undefined;
    if (n1r > 0 && n2 > 0 && !unreproducible.has(reason)) {
      const pooled = (k1 + k2) / (n1r + n2);
      const bound = Z999 * Math.sqrt(pooled * (1 - pooled) * (1 / n1r + 1 / n2));
      withinBound = Math.abs(k1 / n1r - k2 / n2) <= bound + 1e-12;
    }
    return {
      reason,
      production: { count: k1, share: n1 ? k1 / n1 : 0 },
      reproduced: { count: k2, share: n2 ? k2 / n2 : 0 },
      withinBound,
      ...(p?.scenario ? { scenario: p.scenario } : {}),
      ...(p?.why ? { why: p.why } : k1 === 0 ? { why: 'not in the production log: a side effect of the scenarios the mix drew' } : {}),
    };
  });
  comparison.sort((a, b) => b.production.count - a.production.count || b.reproduced.count - a.reproduced.count || a.reason.localeCompare(b.reason));
  const reproduced = comparison.every((c) => unreproducible.has(c.reason) || c.withinBound === true);
  return { format: 'badgateway-reproduce/1', log: { file, lines: log.lines, withReason: n1 }, plan, ...(calibration ? { calibration } : {}), comparison, reproduced, load };
}
