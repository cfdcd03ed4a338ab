/**
 * Provenance: an expectation read in a gateway's documentation (`documented:`) is judged like a
 * measured one, but every reporter shows it apart, and one the gateway does not meet is reported
 * as contradicting its source, never silently. Cases are judged by judgeCase itself.
 */
import { describe, expect, test } from 'vitest';
import { judgeCase, type CaseResult } from '../../src/harness/judge.js';
import type { SuiteResult } from '../../src/harness/run.js';
import type { Outcome } from '../../src/probe/http-probe.js';
import { readReport } from '../../src/report/merge.js';
import { REPORTERS } from '../../src/report/index.js';
import { scenarioFixture } from '../helpers/scenario.js';

const SOURCE = 'AWS, Troubleshoot your Application Load Balancers: HTTP 502: Bad gateway https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-502-issues';

const outcome = (status: number): Outcome => ({ kind: 'response', status, body: 'complete', bodyBytes: 10, end: 'complete', durationMs: 20, bytes: 100, preview: `HTTP/1.1 ${status}` }) as Outcome;

function judged(id: string, gateway: string, version: string | undefined, expect_: Record<string, unknown>, status: number): CaseResult {
  const scenario = scenarioFixture(id, { expect: expect_ as never });
  return judgeCase({ scenario, numbers: [1], outcomes: [outcome(status)], durationMs: 20 }, new Map(), { gateway, version, runtime: gateway === 'alb' ? 'external' : 'process', userConfig: false });
}

const contradicted = judged('empty-reply', 'alb', undefined, { alb: { status: 502, documented: SOURCE } }, 504);
const upheld = judged('connect-refused', 'alb', undefined, { alb: { status: 502, documented: SOURCE } }, 502);
const measured = judged('healthy', 'nginx', '1.22.1', { nginx: { status: 200 } }, 200);

function suite(): SuiteResult {
  const runs = [
    { gateway: 'alb', version: undefined, runtime: 'external', cases: [contradicted, upheld], skipped: [], durationMs: 40 },
    { gateway: 'nginx', version: '1.22.1', runtime: 'process', cases: [measured], skipped: [], durationMs: 20 },
  ];
  const cells = ['alb:empty-reply', 'alb:connect-refused', 'nginx:healthy'].sort();
  return {
    runs,
    durationMs: 60,
    passed: 2,
    failed: 1,
    unchecked: 0,
    skipped: 0,
    shard: { count: 1, covered: [1], cells, total: 3 },
    suite: { digest: 'd', gateways: ['alb', 'nginx'], scenarios: [contradicted, upheld, measured].map((c) => ({ id: c.scenario.id, fault: c.scenario.fault, file: c.scenario.file, description: c.scenario.description })) },
  };
}

describe('judging a documented expectation', () => {
  test('the case carries its provenance: documented with the source, measured with the version judged', () => {
    expect(contradicted.provenance).toEqual({ kind: 'documented', source: SOURCE });
    expect(measured.provenance).toEqual({ kind: 'measured', version: '1.22.1' });
  });

  test('a documented expectation the gateway does not meet fails, and says it contradicts its source first', () => {
    expect(contradicted.verdict!.pass).toBe(false);
    expect(contradicted.verdict!.mismatches[0]!.message).toBe(`contradicts ${SOURCE}`);
    expect(contradicted.verdict!.mismatches.some((m) => m.field === 'status' && m.expected === '502' && m.observed === '504')).toBe(true);
    expect(upheld.verdict).toEqual({ pass: true, mismatches: [] });
  });
});

describe.each(REPORTERS.map((r) => [r.id, r] as const))('the %s reporter', (id, reporter) => {
  const text = reporter.render(suite(), { color: false });

  test('says a contradicted documented expectation contradicts its source', () => {
    expect(text).toContain(id === 'github' ? 'contradicts AWS, Troubleshoot your Application Load Balancers' : `contradicts ${id === 'junit' || id === 'html' ? 'AWS, Troubleshoot your Application Load Balancers: HTTP 502: Bad gateway' : SOURCE}`);
  });

  // GitHub annotations are for failures only: the documented one is marked as such there.
  test.skipIf(id === 'github')('shows a documented expectation apart from a measured one', () => {
    if (id === 'json') {
      const j = JSON.parse(text);
      const cases = j.runs.flatMap((r: { cases: unknown[] }) => r.cases);
      expect(cases.find((c: { scenario: string }) => c.scenario === 'connect-refused').provenance).toEqual({ kind: 'documented', source: SOURCE });
      expect(cases.find((c: { scenario: string }) => c.scenario === 'healthy').provenance).toEqual({ kind: 'measured', version: '1.22.1' });
      return;
    }
    if (id === 'console') {
      const row = (sid: string) => text.split('\n').find((l) => l.includes(` ${sid} `))!;
      expect(row('connect-refused')).toContain(`documented: ${SOURCE}`);
      expect(row('healthy')).not.toContain('documented');
      return;
    }
    if (id === 'markdown') {
      const row = (sid: string) => text.split('\n').find((l) => l.startsWith(`| ${sid} |`))!;
      expect(row('connect-refused')).toContain('📄 documented');
      expect(row('healthy')).not.toContain('documented');
      expect(text).toContain(`- connect-refused on alb: documented: ${SOURCE}`);
      return;
    }
    if (id === 'junit') {
      const tc = (sid: string) => [...text.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>[\s\S]*?<\/testcase>/g)].find((m) => m[1] === sid)![0];
      expect(tc('connect-refused')).toContain('<property name="provenance" value="documented"/>');
      expect(tc('healthy')).toContain('<property name="provenance" value="measured"/>');
      return;
    }
    if (id === 'html') {
      expect(text).toMatch(/data-provenance="documented">documented: AWS, Troubleshoot/);
      expect(text).toContain('data-provenance="measured">measured (judged on nginx 1.22.1)');
      return;
    }
    throw new Error(`no provenance check for reporter ${id}: add one`);
  });

  test('renders the same from a JSON report read back (merge-reports keeps provenance)', () => {
    const json = REPORTERS.find((r) => r.id === 'json')!.render(suite(), { color: false });
    const back = readReport('r.json', json).result;
    expect(reporter.render(back, { color: false })).toBe(text);
  });
});

test('github: the annotation of a contradicted documented expectation is titled as documented and names the source', () => {
  const text = REPORTERS.find((r) => r.id === 'github')!.render(suite(), { color: false });
  expect(text).toContain('title=empty-reply on alb (external) (documented expectation)');
  expect(text).toContain('expectation: documented: AWS');
  expect(text).not.toContain('healthy');
});
