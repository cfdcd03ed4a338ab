/**
 * Sharding: which scenario × gateway cells of a run one CI job runs (`run --shard k/n`). Pure.
 *
 * A cell is one scenario through one gateway (and one image of it, when an image was given: a
 * run through several images of one gateway has a cell per image). Every job of a sharded
 * suite computes the whole split from the same inputs and keeps its own part, so the split must
 * not depend on anything but the cells: cells are identified by a key (`nginx/empty-reply`,
 * `nginx=badgateway/nginx:sid/empty-reply`), sorted by it, never by discovery order.
 *
 * The split, for n shards:
 * - Cells the plan runs are balanced by count and by estimated cost: shard i takes
 *   floor(N/n) cells, or one more for the first N mod n shards, so counts differ by at most one;
 *   within those counts, the heaviest cell first goes to the shard with the least estimated
 *   time so far (ties: fewer cells, then the lower shard), a greedy longest-first balance.
 * - Cells the plan skips (a capability the gateway lacks, a user config) cost nothing but are
 *   still reported once, as in an unsharded run: they go with the shard that runs the
 *   gateway's first runnable cell (by key), which starts that gateway anyway; a gateway with no
 *   runnable cell puts all its skips in one shard (its position in the run, modulo n).
 *
 * The cost of a cell estimates its wall time in milliseconds (see estimateCostMs): a scenario
 * known to wait (`minMs`) or one that sends a `sequence` of requests is heavier.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import type { Scenario } from '../scenarios/scenario.js';
import { skipReason, type PlanContext } from './plan.js';

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** One gateway as the run names it: its adapter, and the image asked for (part of its key). */
export interface ShardGateway {
  readonly adapter: GatewayAdapter;
  readonly image?: string;
}

/** What a run (or a merge of runs) covered of its suite: recorded in the JSON report so a merge can check completeness. */
export interface ShardCoverage {
  /** How many shards the suite was split into (1: not sharded). */
  readonly count: number;
  /** Which of them (1-based, ascending) this result holds. */
  readonly covered: readonly number[];
  /** The cell keys this result holds, sorted. */
  readonly cells: readonly string[];
  /** How many cells the whole suite has, over every shard. */
  readonly total: number;
}

/** What every shard of one suite shares: a merge refuses reports whose identity differs. */
export interface SuiteIdentity {
  /** sha256 over the gateway keys, the scenario definitions (not their file paths) and a user config. */
  readonly digest: string;
  /** The gateway keys, in the run's order. */
  readonly gateways: readonly string[];
  /** Every scenario of the suite, in suite order: what reporters show of one. */
  readonly scenarios: ReadonlyArray<{ readonly id: string; readonly fault: string; readonly file: string; readonly description: string }>;
}

export function gatewayKey(gateway: string, image?: string): string {
  return image === undefined ? gateway : `${gateway}=${image}`;
}

/** Scenario ids are kebab-case, so the last `/` always separates the gateway key from the scenario. */
export function cellKey(gateway: string, scenario: string): string {
  return `${gateway}/${scenario}`;
}

const SHARD = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/**
 * `k/n` from the command line. Anything but two whole numbers with 1 <= k <= n is an InputError
 * that says what to write. `flag` names the option in the message (`--shard`, or `shard` for the API).
 */
export function parseShard(text: string, flag = '--shard'): Shard {
  const m = SHARD.exec(text);
  const example = `${flag} 2/4 runs the second of four parts; give each CI job its own k from 1 to n and the same n`;
  if (!m) throw new InputError('BG_BAD_FLAG', `${flag} ${JSON.stringify(text.slice(0, 40))} is not k/n: write two whole numbers, e.g. ${example}.`);
  return checkShard({ index: Number(m[1]), count: Number(m[2]) }, flag, 'BG_BAD_FLAG');
}

export function checkShard(shard: Shard, flag = 'shard', code: 'BG_BAD_FLAG' | 'BG_BAD_OPTION' = 'BG_BAD_OPTION'): Shard {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1 || count > 10_000) {
    throw new InputError(code, `${flag} ${index}/${count}: the number of shards must be a whole number from 1 to 10000; e.g. ${flag} 1/4 with four CI jobs.`);
  }
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new InputError(code, `${flag} ${index}/${count}: the shard must be from 1 to ${count} (shards count from 1, e.g. ${flag} 1/${count} to ${flag} ${count}/${count}).`);
  }
  return { index, count };
}

/** A scenario is known to take `minMs` per request when it says so; `maxMs` is a budget, not a duration. */
const BUDGET_SHARE = 0.1;
/** Sending a request and reading its log lines, for a scenario that waits for nothing. */
const BASE_MS = 10;

/**
 * Estimated wall time of one cell, in ms. Per request: the expectation's `minMs` for that
 * gateway when it sets one (the scenario waits at least that long); else a tenth of its `maxMs`
 * (a budget, mostly far above what a quick answer takes, but a scenario budgeted 30 s is likely
 * slower than one budgeted 1.5 s); plus 10 ms for the request and its log lines. A sequence
 * takes that once per wave of `concurrency` requests, plus its spacing between requests. The
 * largest over every key of the gateway counts (`nginx` and `nginx@<1.23`): the version is not
 * known until the gateway starts, and the split is computed before.
 */
export function estimateCostMs(s: Scenario, gateway: string): number {
  let perRequest = 0;
  for (const [key, e] of Object.entries(s.expect)) {
    if (key !== gateway && !key.startsWith(`${gateway}@`)) continue;
    const ms = e.minMs ?? (e.maxMs !== undefined ? e.maxMs * BUDGET_SHARE : 0);
    perRequest = Math.max(perRequest, ms);
  }
  perRequest += BASE_MS;
  const seq = s.sequence;
  if (!seq) return perRequest;
  const waves = Math.ceil(seq.count / Math.max(1, seq.concurrency));
  return waves * perRequest + Math.max(0, seq.count - 1) * seq.spacingMs;
}

export interface Cell {
  readonly key: string;
  /** Index into the run's gateways. */
  readonly gateway: number;
  readonly scenario: Scenario;
  readonly costMs: number;
  /** The plan skips it for this gateway (and why): reported, not run. */
  readonly skipped: boolean;
}

/** Every cell of a run: each scenario through each gateway. */
export function cellsOf(gateways: readonly ShardGateway[], scenarios: readonly Scenario[], ctx: PlanContext): Cell[] {
  return gateways.flatMap((g, gi) => {
    const gk = gatewayKey(g.adapter.id, g.image);
    return scenarios.map((s) => {
      const skipped = skipReason(g.adapter, s, ctx) !== undefined;
      return { key: cellKey(gk, s.id), gateway: gi, scenario: s, costMs: skipped ? 0 : estimateCostMs(s, g.adapter.id), skipped };
    });
  });
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The shard (1-based) of every cell, by key. Deterministic in the set of cells alone. */
export function assignShards(cells: readonly Cell[], count: number): Map<string, number> {
  const out = new Map<string, number>();
  const runnable = cells.filter((c) => !c.skipped);
  const n = runnable.length;
  const capacity = Array.from({ length: count }, (_, i) => Math.floor(n / count) + (i < n % count ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const taken = new Array<number>(count).fill(0);
  const heaviestFirst = [...runnable].sort((a, b) => b.costMs - a.costMs || byKey(a, b));
  for (const c of heaviestFirst) {
    let best = -1;
    for (let i = 0; i < count; i++) {
      if (taken[i]! >= capacity[i]!) continue;
      if (best === -1 || load[i]! < load[best]! || (load[i] === load[best] && taken[i]! < taken[best]!)) best = i;
    }
    load[best]! += c.costMs;
    taken[best]! += 1;
    out.set(c.key, best + 1);
  }
  // Skips ride with the shard that starts their gateway anyway.
  const firstRunnable = new Map<number, number>();
  for (const c of [...runnable].sort(byKey)) if (!firstRunnable.has(c.gateway)) firstRunnable.set(c.gateway, out.get(c.key)!);
  for (const c of cells) if (c.skipped) out.set(c.key, firstRunnable.get(c.gateway) ?? (c.gateway % count) + 1);
  return out;
}

export interface ShardPlan {
  /** The scenarios each gateway runs (or skips) in this shard, in suite order; empty: the gateway does not start. */
  readonly scenarios: ReadonlyArray<readonly Scenario[]>;
  readonly coverage: ShardCoverage;
}

/** This shard's part of the run. Without a shard, every cell (coverage 1/1). */
export function planShard(gateways: readonly ShardGateway[], scenarios: readonly Scenario[], ctx: PlanContext, shard: Shard = { index: 1, count: 1 }): ShardPlan {
  const cells = cellsOf(gateways, scenarios, ctx);
  const shardOf = shard.count === 1 ? undefined : assignShards(cells, shard.count);
  const mine = cells.filter((c) => shardOf === undefined || shardOf.get(c.key) === shard.index);
  const keys = new Set(mine.map((c) => c.key));
  return {
    scenarios: gateways.map((g) => {
      const gk = gatewayKey(g.adapter.id, g.image);
      return scenarios.filter((s) => keys.has(cellKey(gk, s.id)));
    }),
    coverage: { count: shard.count, covered: [shard.index], cells: [...keys].sort(), total: cells.length },
  };
}

/** Object keys sorted at every level, so equal data always serialises to the same text. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/**
 * What every shard of a suite must share. The digest covers what decides the split and the
 * verdicts: the gateway keys, each scenario's definition (fault id, params, how it reaches the
 * upstream, request, sequence, expectations) and a user config's text. Not file paths (CI jobs
 * may check out in different places) nor descriptions; nor a custom fault's steps, only its id.
 */
export function suiteIdentity(gateways: readonly ShardGateway[], scenarios: readonly Scenario[], userConfig?: { readonly text: string }): SuiteIdentity {
  const keys = gateways.map((g) => gatewayKey(g.adapter.id, g.image));
  // Sorted: the split does not depend on the order gateways are named or files are found in.
  const defs = [...scenarios].sort((a, b) => (a.id < b.id ? -1 : 1)).map((s) => ({ id: s.id, fault: s.fault, params: s.params, upstream: s.upstream, keepalive: s.keepalive, request: s.request, sequence: s.sequence ?? null, expect: s.expect, tags: s.tags, ...(s.pool ? { pool: s.pool.map((m) => ({ fault: m.fault, params: m.params, weight: m.weight, backup: m.backup })) } : {}) }));
  const digest = createHash('sha256')
    .update(JSON.stringify(canonical({ gateways: [...keys].sort(), scenarios: defs, userConfig: userConfig?.text ?? null })))
    .digest('hex');
  return { digest, gateways: keys, scenarios: scenarios.map((s) => ({ id: s.id, fault: s.fault, file: s.file, description: s.description })) };
}
