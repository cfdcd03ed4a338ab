/**
 * The security verdict: the judge gives a case a finding only when a mustRefuse scenario's
 * upstream response reached the client under the gateway's default (or verifying, or the user's)
 * config; every reporter shows it in its own section; the exit status is 1 over 3 over 0.
 */
import { describe, expect, test } from 'vitest';
import { scenarioFixture } from '../../test/helpers/scenario.js';
import { gatewayById } from '../gateways/index.js';
import { judgeCase } from '../harness/judge.js';
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import { securityFinding, upstreamReachedClient } from '../harness/security.js';
import { suiteIdentity } from '../harness/shard.js';
import type { Outcome } from '../probe/http-probe.js';
import { REPORTERS } from './index.js';
import { toJson } from './json.js';
import { readReport } from './merge.js';
import { exitStatus, securityCases } from './model.js';
import { versionsReport } from './versions.js';
import { versionsConsole } from './versions-matrix.js';

const ok = { kind: 'response', status: 200, body: 'complete', bodyBytes: 3, end: 'complete', durationMs: 3, bytes: 80, preview: 'HTTP/1.1 200 OK' } as Outcome;
const badGateway = { kind: 'response', status: 502, body: 'complete', bodyBytes: 150, end: 'complete', durationMs: 3, bytes: 300, preview: 'HTTP/1.1 502 Bad Gateway' } as Outcome;
const reset = { kind: 'reset', body: 'none', bodyBytes: 0, end: 'reset', durationMs: 4, bytes: 0, preview: '' } as Outcome;
const EXPIRED = 'an expired upstream certificate';

describe('the security judge', () => {
  const expired = { mustRefuse: EXPIRED };
  const nginx = { gateway: 'nginx', userConfig: false };

  test('only a 2xx is the upstream reaching the client: a gateway error page or nothing is a refusal', () => {
    expect(upstreamReachedClient([ok])).toBe(true);
    expect(upstreamReachedClient([badGateway])).toBe(false);
    expect(upstreamReachedClient([reset])).toBe(false);
    expect(upstreamReachedClient([badGateway, ok])).toBe(true);
  });

  test('the default config that lets it through: named, with what governs it and how to refuse it', () => {
    const f = securityFinding(expired, [ok], nginx)!;
    expect(f.message).toBe("nginx's default config accepts an expired upstream certificate (proxy_ssl_verify is off by default)");
    expect(f.directive).toMatch(/^proxy_ssl_verify on; proxy_ssl_trusted_certificate/);
    expect(securityFinding({ ...expired, tlsVerify: 'default' }, [ok], nginx)).toEqual(f);
  });

  test('refused: no finding; no mustRefuse: no finding', () => {
    expect(securityFinding(expired, [badGateway], nginx)).toBeUndefined();
    expect(securityFinding(expired, [reset], nginx)).toBeUndefined();
    expect(securityFinding({}, [ok], nginx)).toBeUndefined();
  });

  test('tlsVerify off is the scenario\'s subject, not a finding; on and still through is one', () => {
    expect(securityFinding({ ...expired, tlsVerify: 'off' }, [ok], nginx)).toBeUndefined();
    expect(securityFinding({ ...expired, tlsVerify: 'on' }, [ok], { gateway: 'apache', userConfig: false })!.message).toBe('apache accepts an expired upstream certificate even with verification on (SSLProxyVerify require)');
  });

  test("a user's config decides verification itself: whatever tlsVerify says, through is a finding about that config", () => {
    const f = securityFinding({ ...expired, tlsVerify: 'off' }, [ok], { gateway: 'haproxy', userConfig: true })!;
    expect(f.message).toBe("your haproxy config accepts an expired upstream certificate: the upstream's response reached the client");
    expect(f.directive).toContain('verify required ca-file');
  });

  test('a gateway without a known switch still gets the finding, without a directive', () => {
    expect(securityFinding(expired, [ok], { gateway: 'varnish', userConfig: false })).toEqual({ message: "varnish's default config accepts an expired upstream certificate" });
  });

  test('judgeCase puts the finding on the case, beside a verdict that passes', () => {
    const scenario = scenarioFixture('healthy', { id: 'tls-expired', mustRefuse: EXPIRED, expect: { nginx: { status: 200 } } });
    const c = judgeCase({ scenario, numbers: [1], outcomes: [ok], durationMs: 3 }, new Map(), { gateway: 'nginx', version: '1.22.1', runtime: 'process', userConfig: false });
    expect(c.verdict?.pass).toBe(true);
    expect(c.security?.message).toContain('accepts an expired upstream certificate');
    const refused = judgeCase({ scenario, numbers: [1], outcomes: [badGateway], durationMs: 3 }, new Map(), { gateway: 'nginx', version: '1.22.1', runtime: 'process', userConfig: false });
    expect(refused.security).toBeUndefined();
  });
});

const base = { gateway: 'nginx', version: '1.22.1', runtime: 'process', logs: [], durationMs: 3 };
/** Expected to get through (the default measured), and did: a pass with a finding. */
const insecure: CaseResult = {
  ...base,
  scenario: scenarioFixture('healthy', { id: 'tls-expired', mustRefuse: EXPIRED }),
  outcomes: [ok],
  observed: { status: 200, body: 'complete', reasons: [], durationMs: 3 },
  expectation: { status: 200 },
  verdict: { pass: true, mismatches: [] },
  security: securityFinding({ mustRefuse: EXPIRED }, [ok], { gateway: 'nginx', userConfig: false }),
};
/** Refused, as verification on should. */
const refused: CaseResult = {
  ...base,
  scenario: scenarioFixture('healthy', { id: 'tls-expired-verify-on', mustRefuse: EXPIRED }),
  outcomes: [badGateway],
  observed: { status: 502, body: 'complete', reasons: ['tls-cert-expired'], durationMs: 3 },
  expectation: { status: 502 },
  verdict: { pass: true, mismatches: [] },
};
const failed: CaseResult = {
  ...refused,
  scenario: scenarioFixture('empty-reply'),
  verdict: { pass: false, mismatches: [{ field: 'status', expected: '504', observed: '502' }] },
};
const run: GatewayRun = { gateway: 'nginx', version: '1.22.1', runtime: 'process', source: '/usr/sbin/nginx', cases: [insecure, refused], skipped: [], durationMs: 900 };
const result: SuiteResult = {
  runs: [run],
  durationMs: 1000,
  passed: 2,
  failed: 0,
  unchecked: 0,
  skipped: 0,
  shard: { count: 1, covered: [1], cells: [], total: 2 },
  suite: suiteIdentity([{ adapter: gatewayById('nginx') }], run.cases.map((c) => c.scenario)),
};

describe('a security finding, in every reporter', () => {
  for (const reporter of REPORTERS) {
    test(`${reporter.id}: the finding, what governs it, only on the case that let it through`, () => {
      const text = reporter.render(result, { color: false });
      expect(text).toContain("accepts an expired upstream certificate (proxy_ssl_verify is off by default)");
      expect(text).toContain('proxy_ssl_verify on; proxy_ssl_trusted_certificate');
      // The refused case carries none: the finding is said once per reporter section, never for tls-expired-verify-on.
      expect(text).not.toMatch(/tls-expired-verify-on[^\n]*accepts/);
    });
  }

  test('console: its own colour (magenta), its own section, the matrix and totals mark it', () => {
    const text = REPORTERS.find((r) => r.id === 'console')!.render({ ...result, runs: [run, { ...run, gateway: 'haproxy', cases: [refused] }] }, { color: true });
    expect(text).toContain("\x1b[35mnginx's default config accepts an expired upstream certificate");
    expect(text).toMatch(/SECURITY.*tls-expired:/);
    expect(text).toMatch(/2 passed, 0 failed, 1 security finding in/);
    expect(text).toContain('security finding (below each gateway)');
  });

  test('junit: an error of type security, counted apart from the failures', () => {
    const text = REPORTERS.find((r) => r.id === 'junit')!.render(result, { color: false });
    expect(text).toMatch(/<testcase classname="badgateway.nginx" name="tls-expired"[^>]*><error message="nginx's default config accepts an expired upstream certificate \(proxy_ssl_verify is off by default\)" type="security">/);
    expect(text).toMatch(/failures="0" errors="1"/);
  });

  test('markdown and html: a section of its own', () => {
    expect(REPORTERS.find((r) => r.id === 'markdown')!.render(result, { color: false })).toMatch(/### Security findings\n\n- 🔓 \*\*tls-expired\*\* on nginx/);
    const html = REPORTERS.find((r) => r.id === 'html')!.render(result, { color: false });
    expect(html).toContain('<section class="security"><h2>Security findings</h2>');
    expect(html).toContain('class="cell pass insecure"');
  });

  test('github: an annotation titled as a security finding, though the verdict passed', () => {
    const text = REPORTERS.find((r) => r.id === 'github')!.render(result, { color: false, baseDir: process.cwd() });
    expect(text).toMatch(/^::error file=scenarios\/healthy.yaml,title=security finding%3A tls-expired on nginx/m);
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
  });

  test('json: on the case and counted; merge-reports reads it back and renders the same', () => {
    const json = toJson(result);
    const data = JSON.parse(json) as { summary: { security?: number }; runs: Array<{ cases: Array<{ security?: unknown }> }> };
    expect(data.summary.security).toBe(1);
    expect(data.runs[0]!.cases[0]!.security).toEqual(insecure.security);
    expect(data.runs[0]!.cases[1]!.security).toBeUndefined();
    const back = readReport('security.json', json).result;
    expect(securityCases(back).map((c) => c.scenario.id)).toEqual(['tls-expired']);
    for (const reporter of REPORTERS) expect(reporter.render(back, { color: false })).toBe(reporter.render(result, { color: false }));
  });

  test('versions: the version that lets it through says so', () => {
    const other: GatewayRun = { ...run, version: '1.26.3', cases: [{ ...refused, scenario: insecure.scenario, version: '1.26.3' }] };
    const text = versionsConsole(versionsReport({ ...result, runs: [{ ...run, cases: [insecure] }, other] }), { color: false, all: true });
    expect(text).toContain('security finding: nginx\'s default config accepts an expired upstream certificate');
  });

  test('exit status: 1 when an expectation failed, else 3 with a finding, else 0', () => {
    expect(exitStatus(result)).toBe(3);
    expect(exitStatus({ runs: [{ ...run, cases: [insecure, failed] }], failed: 1 })).toBe(1);
    expect(exitStatus({ runs: [{ ...run, cases: [refused] }], failed: 0 })).toBe(0);
  });
});
