/** The console summary's scenario × gateway matrix, from a suite result built by hand (pure). */
import { expect, test } from 'vitest';
import type { CaseResult, GatewayRun, SuiteResult } from '../../src/harness/run.js';
import { consoleSummary } from '../../src/report/console.js';
import { scenarioFixture } from '../helpers/scenario.js';


function caseOf(gateway: string, id: string, verdict: boolean | undefined): CaseResult {
  return {
    scenario: scenarioFixture(id),
    gateway,
    version: '1.0.0',
    runtime: 'process',
    outcomes: [{ kind: 'response', status: 502, body: 'complete', bodyBytes: 1, end: 'complete', durationMs: 3, bytes: 10, preview: '' } as CaseResult['outcomes'][number]],
    logs: [],
    observed: { status: 502, body: 'complete', reasons: [], durationMs: 3 },
    verdict: verdict === undefined ? undefined : { pass: verdict, mismatches: verdict ? [] : [{ field: 'status', expected: '504', observed: '502' }] },
    unjudged: verdict === undefined ? `no expectation measured for ${gateway}` : undefined,
  };
}

const run = (gateway: string, cases: CaseResult[], skipped: string[] = []): GatewayRun => ({
  gateway,
  version: '1.0.0',
  runtime: 'process',
  source: `/usr/sbin/${gateway}`,
  cases,
  skipped: skipped.map((id) => ({ scenario: scenarioFixture(id), why: 'cannot here' })),
  durationMs: 5,
});

test('several gateways: the summary ends with scenarios down and gateways across', () => {
  const result: SuiteResult = {
    runs: [
      run('nginx', [caseOf('nginx', 'empty-reply', false), caseOf('nginx', 'healthy', true), caseOf('nginx', 'dns-ok', true)]),
      run('envoy', [caseOf('envoy', 'empty-reply', undefined), caseOf('envoy', 'healthy', undefined)], ['dns-ok']),
    ],
    durationMs: 10,
    passed: 2,
    failed: 1,
    unchecked: 2,
    skipped: 1,
  };
  const text = consoleSummary(result, false);
  const tail = text.slice(text.indexOf('  scenario'));
  expect(tail.split('\n').slice(0, 4)).toEqual([
    '  scenario     nginx  envoy',
    '  dns-ok       pass   skip',
    '  empty-reply  FAIL   seen',
    '  healthy      pass   seen',
  ]);
  expect(text).toMatch(/^nginx 1\.0\.0 \(process\) · from \/usr\/sbin\/nginx$/m);
  expect(text.trimEnd().split('\n').at(-1)).toBe('2 passed, 1 failed, 2 observed, 1 skipped in 0.0 s');
});

test('one gateway: no matrix (its table already is one)', () => {
  const result: SuiteResult = { runs: [run('nginx', [caseOf('nginx', 'healthy', true)])], durationMs: 10, passed: 1, failed: 0, unchecked: 0, skipped: 0 };
  expect(consoleSummary(result, false)).not.toMatch(/^ {2}scenario/m);
});
