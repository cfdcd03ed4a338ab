/**
 * "gateway crashed" in every reporter: a case the gateway died of shows the outcome, its signal
 * and the gateway's last log lines, whether the crash was expected (a pass) or not (a failure);
 * a JSON report with crashes merges back, and the versions report tells a crash apart.
 */
import { describe, expect, test } from 'vitest';
import { scenarioFixture } from '../../test/helpers/scenario.js';
import { gatewayById } from '../gateways/index.js';
import type { GatewayCrash } from '../harness/crash.js';
import { NOT_CRASHED } from '../harness/evaluate.js';
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import { suiteIdentity } from '../harness/shard.js';
import type { Outcome } from '../probe/http-probe.js';
import { REPORTERS } from './index.js';
import { toJson } from './json.js';
import { readReport } from './merge.js';
import { cellFields, versionsReport } from './versions.js';
import { versionsConsole, versionsJson } from './versions-matrix.js';

const FATAL = 'FATAL: bug condition "c_empty(ic)" matched at src/stconn.c:1479';
const segv: GatewayCrash = { signal: 'SIGSEGV', code: null, lastLogLines: [FATAL, '  call trace(12):', '  | 0x5555f84baf51 [41 09 c4 45 85 e4 74 b1]: sc_conn_io_cb+0x71/0x9b'] };
const reset = { kind: 'reset', body: 'none', bodyBytes: 0, end: 'reset', durationMs: 40, bytes: 0, preview: '' } as Outcome;
const ok = { kind: 'response', status: 200, body: 'complete', bodyBytes: 5, end: 'complete', durationMs: 3, bytes: 80, preview: 'HTTP/1.1 200 OK' } as Outcome;

const base = { gateway: 'haproxy', version: '2.6.12', runtime: 'process', logs: [], durationMs: 40 };
/** Expected to crash it, and it did: a pass, still a finding. */
const expected: CaseResult = {
  ...base,
  scenario: scenarioFixture('healthy', { id: 'fcgi-huge-header' }),
  outcomes: [reset],
  observed: { status: 'no-response', body: 'none', reasons: [], durationMs: 40, crash: segv },
  expectation: { gateway: 'crashes' },
  verdict: { pass: true, mismatches: [] },
};
/** Not expected to: the crash is the failure. */
const unexpected: CaseResult = {
  ...expected,
  scenario: scenarioFixture('empty-reply'),
  observed: { ...expected.observed, crash: { ...segv, signal: 'SIGABRT' } },
  expectation: { status: 502 },
  verdict: { pass: false, mismatches: [{ field: 'gateway', expected: 'running', observed: 'crashed (signal SIGABRT)', message: 'the gateway crashed (signal SIGABRT) during this scenario' }] },
};
/** Expected to crash, and did not: an upgrade may have fixed it. */
const fixed: CaseResult = {
  ...base,
  scenario: scenarioFixture('healthy'),
  outcomes: [ok],
  observed: { status: 200, body: 'complete', reasons: [], durationMs: 3 },
  expectation: { gateway: 'crashes' },
  verdict: { pass: false, mismatches: [{ field: 'gateway', expected: 'crashes', observed: 'running', message: NOT_CRASHED }] },
};

const cases = [expected, unexpected, fixed];
const run: GatewayRun = { gateway: 'haproxy', version: '2.6.12', runtime: 'process', source: '/usr/sbin/haproxy', cases, skipped: [], durationMs: 900 };
const result: SuiteResult = {
  runs: [run],
  durationMs: 1000,
  passed: 1,
  failed: 2,
  unchecked: 0,
  skipped: 0,
  shard: { count: 1, covered: [1], cells: [], total: 3 },
  suite: suiteIdentity([{ adapter: gatewayById('haproxy') }], cases.map((c) => c.scenario)),
};

describe('gateway crashed, in every reporter', () => {
  for (const reporter of REPORTERS) {
    test(`${reporter.id}: the outcome, its signal, the FATAL line, and the fix that may have come`, () => {
      const text = reporter.render(result, { color: false });
      // github annotates failures only; the expected crash passes.
      if (reporter.id !== 'github') {
        expect(text).toMatch(/gateway crashed/);
        expect(text).toContain('SIGSEGV');
      }
      expect(text).toContain('SIGABRT');
      // Escaped per format; the recognisable part of the gateway's last words is there.
      expect(text).toMatch(/bug condition .{1,12}c_empty\(ic\).{1,12} matched at src\/stconn\.c:1479/);
      expect(text).toContain('an upgrade may have fixed it');
    });
  }

  test('console: the summary says how many scenarios crashed the gateway, and the matrix marks them', () => {
    const text = REPORTERS.find((r) => r.id === 'console')!.render({ ...result, runs: [run, { ...run, gateway: 'nginx', cases: [fixed] }] }, { color: false });
    expect(text).toMatch(/1 passed, 2 failed, 2 crashed the gateway in/);
    expect(text).toMatch(/pass crash/);
  });

  test('junit: an unexpected crash is a failure of type gateway-crashed', () => {
    const text = REPORTERS.find((r) => r.id === 'junit')!.render(result, { color: false });
    expect(text).toMatch(/<failure message="the gateway crashed \(signal SIGABRT\) during this scenario" type="gateway-crashed">/);
    expect(text).toMatch(/<failure message="expected the gateway to crash; it did not — an upgrade may have fixed it" type="expectation">/);
  });

  test('json: the crash is in what was observed, counted in the summary, and merge-reports reads it back', () => {
    const json = toJson(result);
    const data = JSON.parse(json) as { summary: { crashed: number }; runs: Array<{ cases: Array<{ observed: { crash?: GatewayCrash } }> }> };
    expect(data.summary.crashed).toBe(2);
    expect(data.runs[0]!.cases[0]!.observed.crash).toEqual(segv);
    const back = readReport('crash.json', json).result;
    expect(back.runs[0]!.cases[0]!.observed.crash).toEqual(segv);
    for (const reporter of REPORTERS) expect(reporter.render(back, { color: false })).toBe(reporter.render(result, { color: false }));
  });

  test('versions: a version that crashes differs from one that does not, whatever the client saw', () => {
    const other: GatewayRun = { ...run, version: '3.0.11', cases: [{ ...expected, version: '3.0.11', observed: { status: 'no-response', body: 'none', reasons: [], durationMs: 40 }, verdict: { pass: false, mismatches: fixed.verdict!.mismatches } }] };
    const report = versionsReport({ ...result, runs: [{ ...run, cases: [expected] }, other] });
    const row = report.rows.find((r) => r.scenario.id === 'fcgi-huge-header')!;
    expect(row.cells.map((c) => cellFields(c).ran)).toEqual(['gateway crashed', 'ran']);
    expect(row.differs).toContain('ran');
    expect(versionsConsole(report, { color: false, all: false })).toContain('an upgrade may have fixed it');
    expect(versionsJson(report, { all: false })).toContain('"signal": "SIGSEGV"');
  });
});
