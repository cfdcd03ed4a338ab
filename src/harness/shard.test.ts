/** The split of a run into shards is pure: checked here on the built-in suite through the four measured gateways. */
import { describe, expect, test } from 'vitest';
import { runSuite } from '../api/suite.js';
import { InputError } from '../errors.js';
import { Catalogue } from '../faults/registry.js';
import { GATEWAYS, gatewayById } from '../gateways/index.js';
import { builtinScenarioDir, loadSuite } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/scenario.js';
import { assignShards, cellsOf, estimateCostMs, parseShard, planShard, suiteIdentity, type ShardGateway } from './shard.js';

const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));
const byId = (id: string) => scenarios.find((s) => s.id === id)!;
const four: ShardGateway[] = ['nginx', 'haproxy', 'caddy', 'apache'].map((id) => ({ adapter: gatewayById(id) }));
const ctx = { userConfig: false };

/** A fixed permutation (no randomness in a test): reversed, then every other element first. */
function shuffled<T>(xs: readonly T[]): T[] {
  const r = [...xs].reverse();
  return [...r.filter((_, i) => i % 2 === 0), ...r.filter((_, i) => i % 2 === 1)];
}

describe('parseShard', () => {
  test('k/n with 1 <= k <= n, spaces allowed around the numbers', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
  });

  test.each([
    ['3/2', /^--shard 3\/2: the shard must be from 1 to 2 \(shards count from 1, e\.g\. --shard 1\/2 to --shard 2\/2\)\.$/],
    ['0/4', /^--shard 0\/4: the shard must be from 1 to 4 /],
    ['1/0', /^--shard 1\/0: the number of shards must be a whole number from 1 to 10000/],
    ['a/b', /^--shard "a\/b" is not k\/n: write two whole numbers, e\.g\. --shard 2\/4 runs the second of four parts/],
    ['2', /^--shard "2" is not k\/n/],
    ['-1/3', /^--shard "-1\/3" is not k\/n/],
    ['1.5/3', /^--shard "1\.5\/3" is not k\/n/],
  ])('%s is refused with what to write', (text, message) => {
    let err: unknown;
    try {
      parseShard(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('BG_BAD_FLAG');
    expect((err as InputError).message).toMatch(message);
  });
});

test('the API checks a shard before anything starts: BG_BAD_OPTION', async () => {
  await expect(runSuite({ gateways: ['nginx'], shard: { index: 3, count: 2 } })).rejects.toMatchObject({ code: 'BG_BAD_OPTION', message: expect.stringMatching(/^shard 3\/2: the shard must be from 1 to 2/) });
  await expect(runSuite({ gateways: ['nginx'], shard: { index: 1, count: 0.5 } })).rejects.toMatchObject({ code: 'BG_BAD_OPTION' });
});

const PINNED = { 'nginx/never-respond': 2, 'apache/keepalive-stale-get': 1, 'caddy/healthy': 2 };
describe('the split', () => {
  const cells = cellsOf(four, scenarios, ctx);

  test('the built-in suite through four gateways has a cell per scenario and gateway, keyed gateway/scenario', () => {
    expect(cells).toHaveLength(scenarios.length * 4);
    expect(cells.map((c) => c.key)).toContain('nginx/empty-reply');
    expect(new Set(cells.map((c) => c.key)).size).toBe(cells.length);
  });

  test('an image given for a gateway is part of its cells\' keys (several images of one gateway are several cells)', () => {
    const twoImages = cellsOf([{ adapter: gatewayById('nginx'), image: 'badgateway/nginx:bookworm' }, { adapter: gatewayById('nginx'), image: 'badgateway/nginx:sid' }], [byId('healthy')], ctx);
    expect(twoImages.map((c) => c.key)).toEqual(['nginx=badgateway/nginx:bookworm/healthy', 'nginx=badgateway/nginx:sid/healthy']);
  });

  test.each([1, 2, 3, 4, 7])('into %i shards: every cell lands in exactly one, and runnable cells are balanced in count (within one)', (n) => {
    const parts = Array.from({ length: n }, (_, i) => planShard(four, scenarios, ctx, { index: i + 1, count: n }));
    const all = parts.flatMap((p) => p.coverage.cells);
    expect(all).toHaveLength(cells.length);
    expect(new Set(all)).toEqual(new Set(cells.map((c) => c.key)));
    const skipped = new Set(cells.filter((c) => c.skipped).map((c) => c.key));
    const runnable = parts.map((p) => p.coverage.cells.filter((k) => !skipped.has(k)).length);
    expect(Math.max(...runnable) - Math.min(...runnable)).toBeLessThanOrEqual(1);
    for (const p of parts) expect(p.coverage).toMatchObject({ count: n, total: cells.length });
  });

  test('the same on every machine: independent of the order scenarios are found and gateways named', () => {
    const a = assignShards(cellsOf(four, scenarios, ctx), 4);
    const b = assignShards(cellsOf(shuffled(four), shuffled(scenarios), ctx), 4);
    expect([...b].sort()).toEqual([...a].sort());
    // And stable from one run to the next: a few cells of a fixed handful of scenarios pinned, so a
    // change to the split is a visible decision (the whole suite's split moves whenever a
    // scenario's timing does, which is no change to the split).
    const handful = scenarios.filter((s) => ['healthy', 'empty-reply', 'never-respond', 'keepalive-stale-get', 'slow-response', 'connect-refused'].includes(s.id));
    const pinned = assignShards(cellsOf(four, handful, ctx), 4);
    expect(Object.fromEntries(['nginx/never-respond', 'apache/keepalive-stale-get', 'caddy/healthy'].map((k) => [k, pinned.get(k)]))).toEqual(PINNED);
  });

  test('balanced by estimated cost: the heaviest shard is within one cell of the lightest (greedy, heaviest first)', () => {
    const shardOf = assignShards(cells, 4);
    const load = [0, 0, 0, 0];
    for (const c of cells) load[shardOf.get(c.key)! - 1]! += c.costMs;
    const heaviestCell = Math.max(...cells.map((c) => c.costMs));
    expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(heaviestCell);
    // Not the count alone: cutting the sorted keys into four runs of equal length is further off.
    const sorted = [...cells].sort((x, y) => (x.key < y.key ? -1 : 1));
    const naive = [0, 1, 2, 3].map((i) => sorted.filter((_, j) => Math.floor((j * 4) / sorted.length) === i).reduce((n, c) => n + c.costMs, 0));
    expect(Math.max(...load) - Math.min(...load)).toBeLessThan(Math.max(...naive) - Math.min(...naive));
  });

  test('a scenario that waits (minMs) or sends a sequence weighs more than a quick one; only the gateway\'s own keys count', () => {
    const quick = estimateCostMs(byId('healthy'), 'nginx');
    expect(estimateCostMs(byId('never-respond'), 'nginx')).toBeGreaterThan(quick);
    expect(estimateCostMs(byId('keepalive-stale-get'), 'nginx')).toBeGreaterThan(quick);
    // healthy budgets maxMs 1500 for nginx: a tenth of it, plus 10 ms.
    expect(quick).toBe(160);
    expect(estimateCostMs(byId('healthy'), 'envoy')).toBe(10);
  });

  test('skipped cells are reported by the shard that starts their gateway anyway', () => {
    const shardOf = assignShards(cells, 4);
    const apacheRunnable = cells.filter((c) => c.key.startsWith('apache/') && !c.skipped).sort((x, y) => (x.key < y.key ? -1 : 1));
    const apacheSkips = cells.filter((c) => c.key.startsWith('apache/') && c.skipped);
    expect(apacheSkips.length).toBeGreaterThan(0);
    for (const c of apacheSkips) expect(shardOf.get(c.key)).toBe(shardOf.get(apacheRunnable[0]!.key));
  });

  test('more shards than cells: the extra shards are empty, and no gateway starts there', () => {
    const one = [byId('healthy')];
    const gw = [{ adapter: gatewayById('nginx') }];
    const parts = [1, 2, 3].map((k) => planShard(gw, one, ctx, { index: k, count: 3 }));
    expect(parts.map((p) => p.coverage.cells)).toEqual([['nginx/healthy'], [], []]);
    expect(parts[2]!.scenarios).toEqual([[]]);
  });

  test('without a shard, every cell, as shard 1 of 1', () => {
    const p = planShard(four, scenarios, ctx);
    expect(p.scenarios.map((s) => s.length)).toEqual([scenarios.length, scenarios.length, scenarios.length, scenarios.length]);
    expect(p.coverage).toMatchObject({ count: 1, covered: [1], total: cells.length });
  });
});

describe('suiteIdentity', () => {
  const digest = (gws: readonly ShardGateway[], ss: readonly Scenario[], config?: string) => suiteIdentity(gws, ss, config === undefined ? undefined : { text: config }).digest;
  const base = digest(four, scenarios);

  test('the same for the same suite and gateways, whatever their order or where the files are', () => {
    expect(digest(shuffled(four), shuffled(scenarios))).toBe(base);
    expect(digest(four, scenarios.map((s) => ({ ...s, file: `/elsewhere/${s.id}.yaml` })))).toBe(base);
  });

  test('another when a gateway, an image, an expectation, --only or a user config differs', () => {
    expect(digest(four.slice(0, 3), scenarios)).not.toBe(base);
    expect(digest([...four.slice(0, 3), { adapter: gatewayById('apache'), image: 'badgateway/apache:sid' }], scenarios)).not.toBe(base);
    expect(digest(four, scenarios.map((s) => (s.id === 'healthy' ? { ...s, expect: { ...s.expect, nginx: { status: 503 } } } : s)))).not.toBe(base);
    expect(digest(four, scenarios.slice(1))).not.toBe(base);
    expect(digest(four, scenarios, 'listen {{listen}};')).not.toBe(base);
  });

  test('lists the gateway keys in run order and every scenario in suite order, with what reporters show', () => {
    const id = suiteIdentity(four, [byId('healthy')]);
    expect(id.gateways).toEqual(['nginx', 'haproxy', 'caddy', 'apache']);
    expect(id.scenarios).toEqual([{ id: 'healthy', fault: 'healthy', file: byId('healthy').file, description: byId('healthy').description }]);
  });
});
