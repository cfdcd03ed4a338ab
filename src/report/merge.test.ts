/**
 * JSON reports read back and merged, on results built by hand (test/cli/merge-reports.test.ts
 * does the same through real gateways): a read report renders exactly as the result it was
 * written from, and shards merged render exactly as the unsharded run.
 */
import { describe, expect, test } from 'vitest';
import { scenarioFixture } from '../../test/helpers/scenario.js';
import { InputError } from '../errors.js';
import { gatewayById } from '../gateways/index.js';
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import { skipReason } from '../harness/plan.js';
import { planShard, suiteIdentity, type ShardGateway } from '../harness/shard.js';
import type { Outcome } from '../probe/http-probe.js';
import type { Scenario } from '../scenarios/scenario.js';
import { REPORTERS } from './index.js';
import { toJson } from './json.js';
import { mergeReports, readReport, type ReadReport } from './merge.js';

const gateways: ShardGateway[] = [{ adapter: gatewayById('nginx') }, { adapter: gatewayById('apache') }];
const scenarios: Scenario[] = ['healthy', 'empty-reply', 'dns-nxdomain', 'slow-body', 'reset-on-accept', 'garbage-status-line'].map((id) => scenarioFixture(id));
const ctx = { userConfig: false };

const outcome = (status: number): Outcome => ({ kind: 'response', status, body: 'complete', bodyBytes: 2, end: 'complete', durationMs: 7, bytes: 90, preview: `HTTP/1.1 ${status} x\\r\\n` });

/** One case per scenario; empty-reply fails on apache, garbage-status-line is observed (no expectation) on nginx. */
function caseOf(s: Scenario, gateway: string): CaseResult {
  const observed = { status: 502, body: 'complete' as const, reasons: ['upstream-closed-early'], durationMs: 7 };
  const base = { scenario: s, gateway, version: gateway === 'nginx' ? '1.22.1' : '2.4.71', runtime: 'process', outcomes: [outcome(502)], observed, durationMs: 7 };
  const logs = [{ raw: `upstream prematurely closed connection /s/${s.id}/?bgp=1`, level: 'error', reason: 'upstream-closed-early' as const }];
  if (gateway === 'nginx' && s.id === 'garbage-status-line') return { ...base, logs, unjudged: 'no expectation measured for nginx' };
  const fail = gateway === 'apache' && s.id === 'empty-reply';
  return { ...base, logs, expectation: { status: fail ? 504 : 502 }, verdict: { pass: !fail, mismatches: fail ? [{ field: 'status', expected: '504', observed: '502' }] : [] } };
}

/** What `run --shard k/n` returns for these gateways and scenarios, with fixed timings. */
function shardResult(k: number, n: number, gws = gateways, version?: string): SuiteResult {
  const part = planShard(gws, scenarios, ctx, { index: k, count: n });
  const runs: GatewayRun[] = gws
    .map((g, i) => ({ g, mine: part.scenarios[i]! }))
    .filter(({ mine }) => mine.length > 0)
    .map(({ g, mine }) => {
      const id = g.adapter.id;
      const runnable = mine.filter((s) => skipReason(g.adapter, s, ctx) === undefined);
      const cases = runnable.map((s) => caseOf(s, id));
      return { gateway: id, version: version ?? cases[0]?.version ?? '2.4.71', runtime: 'process', source: `/usr/sbin/${id}`, cases: version ? cases.map((c) => ({ ...c, version })) : cases, skipped: mine.filter((s) => !runnable.includes(s)).map((s) => ({ scenario: s, why: skipReason(g.adapter, s, ctx)! })), durationMs: 1000 };
    });
  const all = runs.flatMap((r) => r.cases);
  return {
    runs,
    durationMs: 1200,
    passed: all.filter((c) => c.verdict?.pass === true).length,
    failed: all.filter((c) => c.verdict?.pass === false).length,
    unchecked: all.filter((c) => !c.verdict).length,
    skipped: runs.reduce((x, r) => x + r.skipped.length, 0),
    shard: part.coverage,
    suite: suiteIdentity(gws, scenarios),
  };
}

const read = (name: string, r: SuiteResult): ReadReport => readReport(name, toJson(r));

function refused(f: () => unknown): InputError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).not.toMatch(/\n/);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readReport', () => {
  test('a report read back renders, by every reporter, exactly as the result it was written from', () => {
    const whole = shardResult(1, 1);
    const back = read('whole.json', whole).result;
    for (const r of REPORTERS) expect(r.render(back, { color: false, baseDir: '/' }), r.id).toBe(r.render(whole, { color: false, baseDir: '/' }));
  });

  test.each([
    ['not JSON', 'junit?<xml>', /^r\.json is not JSON \(Unexpected token .*\); merge-reports reads the JSON reports `badgateway run --reporter json:FILE` writes\.$/],
    ['an array', '[1, 2]', /^r\.json is JSON but not a badgateway report \(it has no "format": "badgateway-report"\)/],
    ['another tool\'s JSON', '{"stats": {"tests": 3}}', /^r\.json is JSON but not a badgateway report/],
    ['a report from before the format version', '{"summary": {"passed": 1}, "runs": []}', /^r\.json is a badgateway JSON report from a version before reports carried a format version.*Run the suite again with this badgateway/],
    ['another format version', '{"format": "badgateway-report", "formatVersion": 2, "runs": []}', /^r\.json is a badgateway report of format version 2, and this badgateway reads version 1\. Merge it with the badgateway version that wrote it/],
  ])('%s is BG_BAD_REPORT, one paragraph that names the file', (_, text, message) => {
    const err = refused(() => readReport('r.json', text));
    expect(err.code).toBe('BG_BAD_REPORT');
    expect(err.message).toMatch(message);
  });

  test('an edited report says where it stopped making sense', () => {
    const json = JSON.parse(toJson(shardResult(1, 1)));
    json.runs[0].cases[1].state = 'flaky';
    const err = refused(() => readReport('r.json', JSON.stringify(json)));
    expect(err.code).toBe('BG_BAD_REPORT');
    expect(err.message).toMatch(/^r\.json is not a badgateway report as badgateway writes it: at runs\.0\.cases\.1\.state, invalid option/);
  });
});

describe('mergeReports', () => {
  const whole = shardResult(1, 1);
  const shards = [1, 2, 3].map((k) => read(`s${k}.json`, shardResult(k, 3)));

  test('three shards merged are the unsharded run: the same JSON, and every reporter renders the same text', () => {
    const { result, missing } = mergeReports(shards);
    expect(missing).toEqual([]);
    expect(toJson(result)).toBe(toJson(whole));
    for (const r of REPORTERS) expect(r.render(result, { color: false, baseDir: '/' }), r.id).toBe(r.render(whole, { color: false, baseDir: '/' }));
    expect(result.failed).toBe(1);
  });

  test('in any order', () => {
    expect(toJson(mergeReports([shards[2]!, shards[0]!, shards[1]!]).result)).toBe(toJson(whole));
  });

  test('a shard missing is BG_SHARDS_MISSING naming it and what was given', () => {
    const err = refused(() => mergeReports([shards[0]!, shards[2]!]));
    expect(err.code).toBe('BG_SHARDS_MISSING');
    expect(err.message).toMatch(/^shard 2\/3 is missing \(given: 1\/3 from s1\.json, 3\/3 from s3\.json; \d+ of 12 cells\)\. Pass every shard's JSON report, or --allow-partial to render what is there\.$/);
  });

  test('--allow-partial renders what is there, and the result says which shards it holds', () => {
    const { result, missing } = mergeReports([shards[0]!, shards[2]!], { allowPartial: true });
    expect(missing).toEqual([2]);
    expect(result.shard).toMatchObject({ count: 3, covered: [1, 3], total: 12 });
    expect(REPORTERS.find((r) => r.id === 'console')!.render(result, { color: false })).toMatch(/^shards 1\/3, 3\/3 of 3: \d+ of 12 cells \(missing: 2\/3\)$/m);
    // A partial merge merges on with the shard that was missing.
    const rest = mergeReports([readReport('partial.json', toJson(result)), shards[1]!]);
    expect(toJson(rest.result)).toBe(toJson(whole));
  });

  test('a shard twice, another shard count, another suite, one gateway in two builds: BG_REPORTS_MISMATCH naming the files', () => {
    const twice = refused(() => mergeReports([shards[0]!, shards[1]!, { ...shards[0]!, name: 'copy.json' }]));
    expect(twice.message).toMatch(/^shard 1\/3 is in both s1\.json and copy\.json; each shard's report is merged once\./);
    const fourWays = refused(() => mergeReports([shards[0]!, read('q2.json', shardResult(2, 4))]));
    expect(fourWays.message).toMatch(/^q2\.json is 2\/4 and s1\.json 1\/3: the suite was split 4 ways in one and 3 in the other/);
    const nginxOnly = refused(() => mergeReports([shards[0]!, read('n2.json', shardResult(2, 3, gateways.slice(0, 1)))]));
    expect(nginxOnly.message).toMatch(/^n2\.json and s1\.json come from different runs: n2\.json has gateways nginx where s1\.json has nginx,apache\./);
    const newer = refused(() => mergeReports([shards[0]!, read('v2.json', shardResult(2, 3, gateways, '1.26.3')), shards[2]!]));
    expect(newer.message).toMatch(/^nginx ran as 1\.22\.1 \(process, \/usr\/sbin\/nginx\) in s1\.json but as 1\.26\.3 \(process, \/usr\/sbin\/nginx\) in v2\.json: a merged report would judge one gateway by two builds\./);
    for (const e of [twice, fourWays, nginxOnly, newer]) expect(e.code).toBe('BG_REPORTS_MISMATCH');
  });

  test('a cell claimed by two shards is refused, even when their shard numbers differ', () => {
    const forged = JSON.parse(toJson(shardResult(2, 3)));
    forged.shard.cells.push(shards[0]!.result.shard.cells[0]);
    const err = refused(() => mergeReports([shards[0]!, readReport('forged.json', JSON.stringify(forged)), shards[2]!]));
    expect(err.message).toMatch(/^cell \S+ is in both s1\.json and forged\.json; a cell belongs to one shard/);
  });

  test('a report merged alone renders again as it was (re-render a saved report with another reporter)', () => {
    expect(toJson(mergeReports([read('whole.json', whole)]).result)).toBe(toJson(whole));
  });
});
