/**
 * The versions report, pure: which fields differ between versions' cells, which rows show, and
 * the four renderings (versions as columns). The cells here are shaped like what nginx 1.22.1
 * (bookworm) and 1.30.6 (sid) gave in a real run (test/harness/versions.test.ts runs that).
 */
import { describe, expect, test } from 'vitest';
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import type { Observed } from '../harness/evaluate.js';
import type { Expectation } from '../scenarios/scenario.js';
import type { Outcome } from '../probe/http-probe.js';
import { scenarioFixture } from '../../test/helpers/scenario.js';
import { cellFields, columnLabel, differingFields, headline, hiddenFailures, shownRows, verdictText, versionsReport } from './versions.js';
import { versionsConsole, versionsHtml, versionsJson, versionsMarkdown } from './versions-matrix.js';

const outcome = (status: number | undefined, durationMs: number): Outcome =>
  ({ kind: status === undefined ? 'no-response' : 'response', status, body: status === undefined ? 'none' : 'complete', bodyBytes: 0, end: 'complete', durationMs, bytes: 100, preview: '' }) as Outcome;

function kase(id: string, version: string, observed: Partial<Observed>, expectation?: Expectation, extra: Partial<CaseResult> = {}): CaseResult {
  const obs: Observed = { status: 200, body: 'complete', reasons: [], durationMs: 10, ...observed };
  const pass = extra.verdict?.pass ?? true;
  return {
    scenario: scenarioFixture(id),
    gateway: 'nginx',
    version,
    runtime: 'container',
    outcomes: [outcome(typeof obs.status === 'number' ? obs.status : undefined, obs.durationMs)],
    logs: obs.reasons.map((r) => ({ raw: `[error] a line for ${r}`, level: 'error', reason: r as never })),
    observed: obs,
    expectation,
    verdict: expectation ? { pass, mismatches: pass ? [] : [{ field: 'status', expected: '200', observed: String(obs.status) }] } : undefined,
    ...extra,
  };
}

const run = (version: string, image: string, cases: CaseResult[], skipped: GatewayRun['skipped'] = []): GatewayRun => ({ gateway: 'nginx', version, runtime: 'container', source: image, cases, skipped, durationMs: 5000 });

const old = '1.22.1';
const neu = '1.30.6';
const healthy = { status: 200, body: 'complete', reason: 'none' } as const;

function nginxResult(): SuiteResult {
  const runs = [
    run(old, 'badgateway/nginx:bookworm', [
      kase('healthy', old, {}, healthy),
      kase('duplicate-content-length', old, { body: 'truncated', reasons: ['upstream-truncated'] }, { status: 200, body: 'truncated', reason: 'upstream-truncated' }),
      kase('interim-100', old, {}, healthy),
    ]),
    run(neu, 'badgateway/nginx:sid', [
      kase('healthy', neu, { durationMs: 25 }, healthy),
      kase('duplicate-content-length', neu, { status: 502, reasons: ['duplicate-header'] }, { status: 502, body: 'complete', reason: 'duplicate-header' }),
      kase('interim-100', neu, { status: 'no-response', body: 'none', reasons: ['read-timeout'], durationMs: 1013 }, { status: 'no-response', body: 'none', reason: 'read-timeout' }),
    ]),
  ];
  return { runs, durationMs: 6000, passed: 6, failed: 0, unchecked: 0, skipped: 0 };
}

describe('which fields differ between versions', () => {
  test('status, body and reason differ; time alone is no difference', () => {
    const r = versionsReport(nginxResult());
    expect(r.rows.map((x) => [x.scenario.id, x.differs])).toEqual([
      ['duplicate-content-length', ['status', 'body', 'reason']],
      ['healthy', []],
      ['interim-100', ['status', 'body', 'reason']],
    ]);
    expect(shownRows(r, false).map((x) => x.scenario.id)).toEqual(['duplicate-content-length', 'interim-100']);
    expect(shownRows(r, true)).toHaveLength(3);
  });

  test('a sequence compares which statuses occurred, not how many of each', () => {
    const seq = (counts: Record<string, number>) => ({ case: kase('dns-flapping', old, { status: 200, counts }) });
    expect(differingFields([seq({ '200': 9, '502': 1 }), seq({ '200': 7, '502': 3 })])).toEqual([]);
    expect(differingFields([seq({ '200': 9, '502': 1 }), seq({ '200': 10 })])).toEqual(['statuses']);
    expect(cellFields(seq({ '502': 1, '200': 9 })).statuses).toBe('200, 502');
  });

  test('reasons compare as a set, in any order', () => {
    const a = { case: kase('healthy', old, { reasons: ['read-timeout', 'upstream-reset'] }) };
    const b = { case: kase('healthy', neu, { reasons: ['upstream-reset', 'read-timeout'] }) };
    const c = { case: kase('healthy', neu, { reasons: ['upstream-reset'] }) };
    expect(differingFields([a, b])).toEqual([]);
    expect(differingFields([a, c])).toEqual(['reason']);
  });

  test('a race both versions\' one measured expectation lists is no difference; with different expectations, or a failed verdict, it is', () => {
    const race: Expectation = { status: 200, body: ['none', 'complete'] };
    const none = kase('body-cut-fin-chunked', '2.6.2', { body: 'none' }, race);
    const complete = kase('body-cut-fin-chunked', '2.6.2', { body: 'complete' }, race);
    expect(differingFields([{ case: none }, { case: complete }])).toEqual([]);
    const other = kase('body-cut-fin-chunked', '2.11.2', { body: 'complete' }, { status: 200, body: 'complete' });
    expect(differingFields([{ case: none }, { case: other }])).toEqual(['body']);
    const failed = kase('body-cut-fin-chunked', '2.6.2', { body: 'complete', status: 502 }, race, { verdict: { pass: false, mismatches: [] } });
    expect(differingFields([{ case: none }, { case: failed }])).toEqual(['status', 'body']);
  });

  test('skipped in one version and run in another differs; skipped in every version does not', () => {
    const ran = { case: kase('dns-ok', old, {}) };
    expect(differingFields([ran, { skipped: 'no resolver' }])).toEqual(['ran', 'status', 'body', 'reason']);
    expect(differingFields([{ skipped: 'no resolver' }, { skipped: 'no resolver' }])).toEqual([]);
  });

  test('columns name the version and what ran it; two builds of one version stay apart', () => {
    expect(columnLabel({ gateway: 'nginx', version: '1.22.1', runtime: 'container', source: 'badgateway/nginx:bookworm' })).toBe('nginx 1.22.1 (badgateway/nginx:bookworm)');
    expect(columnLabel({ gateway: 'nginx', version: '1.22.1', runtime: 'process', source: '/usr/sbin/nginx' })).toBe('nginx 1.22.1 (process: /usr/sbin/nginx)');
    const caddy = versionsReport({ ...nginxResult(), runs: [run('2.6.2', 'badgateway/caddy:bookworm', []), run('2.6.2', 'badgateway/caddy:trixie', [])] });
    expect(caddy.columns.map((c) => c.short)).toEqual(['2.6.2 caddy:bookworm', '2.6.2 caddy:trixie']);
  });

  test('the headline says how many differ, or that none does', () => {
    expect(headline(versionsReport(nginxResult()))).toBe('2 of 3 scenarios differ between nginx 1.22.1 and 1.30.6.');
    const same = nginxResult();
    const r = versionsReport({ ...same, runs: same.runs.map((x) => ({ ...x, cases: x.cases.filter((c) => c.scenario.id === 'healthy') })) });
    expect(headline(r)).toBe('No scenario differs between nginx 1.22.1 and 1.30.6: all 1 gave the same status, body and log reasons in every version.');
  });

  test('a verdict in words: holds, the failed fields, or why it was not judged (short)', () => {
    expect(verdictText(kase('healthy', old, {}, healthy))).toBe('holds');
    expect(verdictText(kase('healthy', old, { status: 502 }, healthy, { verdict: { pass: false, mismatches: [{ field: 'status', expected: '200', observed: '502' }] } }))).toBe('FAIL: status expected 200, observed 502');
    expect(verdictText(kase('healthy', '1.31.0', {}, undefined, { unjudged: 'not measured on nginx 1.31.0: what was seen matches the expectation measured on nginx 1.30.6' }))).toBe('not measured on nginx 1.31.0');
  });
});

describe('the versions matrix, versions as columns', () => {
  const report = versionsReport(nginxResult());

  test('console: one column per version, only the differing rows, and what each version did', () => {
    const text = versionsConsole(report, { all: false, color: false });
    expect(text).toContain('nginx 1.22.1 (badgateway/nginx:bookworm): 3 passed, 0 failed in 5.0 s');
    const head = text.split('\n').find((l) => l.trim().startsWith('scenario'))!;
    expect(head).toMatch(/scenario\s+1\.22\.1\s+1\.30\.6$/);
    expect(text).toMatch(/interim-100\s+pass 200 · complete · no log reason · 10 ms\s+pass no-response · read-timeout · 1013 ms/);
    expect(text).not.toMatch(/^\s+healthy/m);
    expect(text).toContain('2 of 3 scenarios differ');
    expect(versionsConsole(report, { all: true, color: false })).toMatch(/^\s+healthy\s+pass 200/m);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\x1b\[/);
  });

  test('markdown: a header cell per version with its image, a row per difference', () => {
    const md = versionsMarkdown(report, { all: false });
    expect(md).toContain('| scenario | differs in | nginx 1.22.1 (badgateway/nginx:bookworm) | nginx 1.30.6 (badgateway/nginx:sid) |');
    expect(md).toContain('| duplicate-content-length | status, body, reason | ✅ 200 · truncated · upstream-truncated · 10 ms | ✅ 502 · complete · duplicate-header · 10 ms |');
    expect(md).not.toContain('| healthy |');
    expect(versionsMarkdown(report, { all: true })).toContain('| healthy | same |');
  });

  test('html: versions as columns, each cell with its state, rows marked as differing', () => {
    const html = versionsHtml(report, { all: true });
    expect(html).toContain('<th>nginx 1.22.1<small>nginx 1.22.1 (badgateway/nginx:bookworm)</small>');
    expect(html).toMatch(/<tr class="differs" data-scenario="interim-100">.*<td class="pass" data-state="pass"><div class="status">no-response · read-timeout · 1013 ms<\/div>/);
    expect(html).toContain('<tr class="same" data-scenario="healthy">');
    expect(versionsHtml(report, { all: false })).not.toContain('data-scenario="healthy"');
  });

  test('json: the columns, the differing ids, and per cell what was observed and expected', () => {
    const j = JSON.parse(versionsJson(report, { all: false })) as { differing: string[]; columns: Array<{ label: string }>; rows: Array<{ scenario: string; differs: string[]; cells: Array<{ state: string; observed: { status: unknown } }> }> };
    expect(j.differing).toEqual(['duplicate-content-length', 'interim-100']);
    expect(j.columns.map((c) => c.label)).toEqual(['nginx 1.22.1 (badgateway/nginx:bookworm)', 'nginx 1.30.6 (badgateway/nginx:sid)']);
    expect(j.rows[1]!.cells.map((c) => c.observed.status)).toEqual([200, 'no-response']);
  });

  test('a failed verdict shows in the cell, with what was expected', () => {
    const r = nginxResult();
    const bad = kase('interim-100', neu, { status: 200 }, { status: 'no-response' }, { verdict: { pass: false, mismatches: [{ field: 'status', expected: 'no-response', observed: '200' }] } });
    const failed = versionsReport({ ...r, runs: [r.runs[0]!, { ...r.runs[1]!, cases: [bad] }] });
    expect(versionsMarkdown(failed, { all: true })).toContain('❌ 200 · complete · no log reason · 10 ms<br>FAIL: status expected no-response, observed 200');
    expect(versionsConsole(failed, { all: true, color: false })).toContain('interim-100 on 1.30.6: FAIL: status expected no-response, observed 200');
  });
});

describe('failures where the versions answered alike', () => {
  test('are named under the matrix (the totals count them), and not when every row shows', () => {
    const r = nginxResult();
    const bad = kase('healthy', neu, { durationMs: 25 }, { status: 200, maxMs: 10 }, { verdict: { pass: false, mismatches: [{ field: 'time', expected: '<= 10 ms', observed: '25 ms' }] } });
    const report = versionsReport({ ...r, runs: [r.runs[0]!, { ...r.runs[1]!, cases: [bad, ...r.runs[1]!.cases.slice(1)] }] });
    expect(hiddenFailures(report, false)).toEqual([{ scenario: 'healthy', columns: ['1.30.6'] }]);
    expect(hiddenFailures(report, true)).toEqual([]);
    expect(versionsConsole(report, { all: false, color: false })).toContain('Failed where the versions answered alike (not shown; --all shows them): healthy on 1.30.6');
    expect(versionsMarkdown(report, { all: false })).toContain('Failed where the versions answered alike (not shown): healthy on 1.30.6.');
    expect(JSON.parse(versionsJson(report, { all: false })).failed).toEqual([{ scenario: 'healthy', column: 'nginx 1.30.6 (badgateway/nginx:sid)' }]);
  });
});
