/**
 * A gateway no expectation was measured on (Envoy and Traefik today): a run
 * reports what it saw with "no expectation measured for <gateway>", neither a
 * pass nor a failure; and a version outside every measured range is reported
 * "not measured on <version>" with the measured version its expectation came
 * from. The gateway here is a tiny Node proxy run by the process runtime (its
 * version is node's), so the test needs no gateway binary.
 */
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import type { GatewayAdapter, RenderInput } from '../../src/gateways/gateway.js';
import { GATEWAYS } from '../../src/gateways/index.js';
import { runSuite } from '../../src/harness/run.js';
import { consoleSummary } from '../../src/report/console.js';
import { toJson } from '../../src/report/json.js';
import { toJunit } from '../../src/report/junit.js';
import { builtinScenarioDir, loadSuite, selectScenarios } from '../../src/scenarios/load.js';
import { unmeasured, type Scenario } from '../../src/scenarios/scenario.js';

/** A reverse proxy in a few lines: /s/<id>/ to that route's TCP upstream, 502 when the upstream fails. */
function proxyScript(input: RenderInput): string {
  const routes = Object.fromEntries(input.routes.map((r) => [r.id, r.target.kind === 'tcp' ? { host: r.target.host, port: r.target.port } : undefined]));
  return `const http = require('node:http');
const routes = ${JSON.stringify(routes)};
http.createServer((req, res) => {
  if (req.url === '/__badgateway/ready') return res.end('ready');
  const id = /^\\/s\\/([^/]+)\\//.exec(req.url)?.[1];
  const to = routes[id];
  if (!to) { res.statusCode = 404; return res.end(); }
  const up = http.request({ ...to, method: req.method, path: req.url, headers: req.headers, agent: false }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  up.on('error', () => { if (!res.headersSent) { res.statusCode = 502; res.end('bad gateway'); } else res.destroy(); });
  req.pipe(up);
}).listen(${input.listen.port}, ${JSON.stringify(input.listen.host)});
`;
}

const fake: GatewayAdapter = {
  id: 'nodeproxy',
  binary: 'node',
  installHint: 'it is the node running the tests',
  defaultImage: 'none',
  localImage: 'none',
  versionArgs: ['--version'],
  parseVersion: (o) => /v(\d+\.\d+\.\d+)/.exec(o)?.[1],
  render: (input) => ({ files: { 'proxy.cjs': proxyScript(input) }, main: 'proxy.cjs' }),
  args: (_p, config) => [config],
  testArgs: (_p, config) => ['--check', config],
  logFiles: [],
  parseLogLine: () => undefined,
  reasons: [],
  fromUserConfig: () => {
    throw new Error('not used');
  },
};

describe('a gateway without measured expectations', () => {
  test('unmeasured() says whether the gateway was never measured or only on other versions', () => {
    const s = { expect: { nginx: { status: 502 }, 'haproxy@<2.7': { status: 503 } } } as unknown as Scenario;
    expect(unmeasured(s, 'envoy', '1.39.5')).toBe('no expectation measured for envoy');
    expect(unmeasured(s, 'traefik', undefined)).toBe('no expectation measured for traefik');
    expect(unmeasured(s, 'haproxy', '3.0.5')).toBe('no expectation measured for haproxy 3.0.5 (measured: haproxy@<2.7)');
  });

  test('no built-in scenario claims a measured expectation for Envoy or Traefik: none was measured, only documented ones are stated', async () => {
    const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));
    const claimed = scenarios.flatMap((s) => Object.keys(s.expect).filter((k) => /^(envoy|traefik)(@|$)/.test(k) && s.expect[k]!.documented === undefined).map((k) => `${s.id}: ${k}`));
    expect(claimed).toEqual([]);
  });

  test('a run reports each case as observed with the reason, never as passed or failed', { timeout: 30_000 }, async () => {
    const catalogue = new Catalogue();
    const all = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
    const scenarios = selectScenarios(all, ['healthy', 'empty-reply']);
    const r = await runSuite({ scenarios, gateways: [fake], catalogue, runtime: 'process' });
    expect(r.passed).toBe(0);
    expect(r.failed).toBe(0);
    expect(r.unchecked).toBe(2);
    const cases = r.runs[0]!.cases;
    expect(cases.map((c) => [c.scenario.id, c.verdict, c.expectation, c.unjudged])).toEqual([
      ['empty-reply', undefined, undefined, 'no expectation measured for nodeproxy'],
      ['healthy', undefined, undefined, 'no expectation measured for nodeproxy'],
    ]);
    // What the client saw is still reported.
    expect(cases.find((c) => c.scenario.id === 'healthy')!.observed.status).toBe(200);
    expect(cases.find((c) => c.scenario.id === 'empty-reply')!.observed.status).toBe(502);
    // Every reporter says why there is no verdict.
    const text = consoleSummary(r, false);
    expect(text).toMatch(/seen\s+healthy\s+200 .*\(no expectation measured for nodeproxy\)/);
    expect(text).toMatch(/0 passed, 0 failed, 2 observed/);
    expect(JSON.parse(toJson(r)).runs[0].cases[0]).toMatchObject({ state: 'observed', unjudged: 'no expectation measured for nodeproxy' });
    expect(toJunit(r)).toContain('<skipped message="no expectation measured for nodeproxy: observed');
  });
});

describe('a version outside every measured range', () => {
  // The test proxy's version is the node running it; these say what "measured" means for it.
  const nodeVersion = process.versions.node;
  const withExpectations = async () => {
    const catalogue = new Catalogue();
    const all = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
    const scenarios = selectScenarios(all, ['healthy', 'empty-reply']).map((s) => ({
      ...s,
      // healthy: what the proxy does; empty-reply: not what it does (it answers 502).
      expect: s.id === 'healthy' ? { nodeproxy: { status: 200, body: 'complete' as const } } : { nodeproxy: { status: 504 } },
    }));
    return { catalogue, scenarios };
  };

  test('is reported "not measured on <version>" with the version its expectation came from and what was seen, neither passed nor failed', { timeout: 30_000 }, async () => {
    const { catalogue, scenarios } = await withExpectations();
    const adapter: GatewayAdapter = { ...fake, measuredOn: [{ version: '1.0.0', image: 'none' }, { version: '2.0.0', image: 'none' }] };
    const r = await runSuite({ scenarios, gateways: [adapter], catalogue, runtime: 'process' });
    expect(r.runs[0]!.version).toBe(nodeVersion);
    expect([r.passed, r.failed, r.unchecked]).toEqual([0, 0, 2]);
    const byId = Object.fromEntries(r.runs[0]!.cases.map((c) => [c.scenario.id, c]));
    expect(byId['healthy']!.verdict).toBeUndefined();
    expect(byId['healthy']!.unjudged).toBe(`not measured on nodeproxy ${nodeVersion}: what was seen matches the expectation measured on nodeproxy 2.0.0`);
    expect(byId['empty-reply']!.unjudged).toBe(`not measured on nodeproxy ${nodeVersion}: what was seen differs from the expectation measured on nodeproxy 2.0.0 (status: 504 there, 502 here)`);
    expect(byId['empty-reply']!.nearestMeasured).toMatchObject({ version: '2.0.0', expectation: { status: 504 }, comparison: { pass: false } });
    // Every reporter carries the reason instead of a verdict.
    expect(consoleSummary(r, false)).toMatch(new RegExp(`seen\\s+empty-reply\\s+502 .*\\(not measured on nodeproxy ${nodeVersion.replace(/\./g, '\\.')}: what was seen differs`));
    expect(JSON.parse(toJson(r)).runs[0].cases.find((c: { scenario: string }) => c.scenario === 'healthy')).toMatchObject({ state: 'observed', unjudged: expect.stringContaining('not measured on nodeproxy') });
    expect(toJunit(r)).toContain(`<skipped message="not measured on nodeproxy ${nodeVersion}`);
  });

  test('inside the measured range the same cases are judged', { timeout: 30_000 }, async () => {
    const { catalogue, scenarios } = await withExpectations();
    const adapter: GatewayAdapter = { ...fake, measuredOn: [{ version: '1.0.0', image: 'none' }, { version: '999.0.0', image: 'none' }] };
    const r = await runSuite({ scenarios, gateways: [adapter], catalogue, runtime: 'process' });
    expect([r.passed, r.failed, r.unchecked]).toEqual([1, 1, 0]);
    expect(r.runs[0]!.cases.find((c) => c.scenario.id === 'empty-reply')!.verdict!.mismatches).toEqual([{ field: 'status', expected: '504', observed: '502' }]);
  });
});
