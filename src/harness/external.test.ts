import { describe, expect, test } from 'vitest';
import { loadSuite } from '../api/suite.js';
import { nginx } from '../gateways/nginx.js';
import { externalSkipReason, planExternal, servedSuite, suiteDifferences, suiteRoutes, versionFromServer } from './external.js';

describe('what the external topology expresses', async () => {
  const { scenarios } = await loadSuite();
  const byId = new Map(scenarios.map((s) => [s.id, s]));

  test('exchange faults over HTTP by path run; everything else is skipped with its reason', () => {
    const plan = planExternal(nginx, scenarios);
    const running = new Set(plan.scenarios.map((s) => s.id));
    for (const s of plan.scenarios) {
      expect(s.faultDef.layer, s.id).toBe('exchange');
      expect(s.upstream, s.id).toBe('tcp');
      expect(s.pool ?? s.backend ?? s.tls, s.id).toBeUndefined();
    }
    for (const id of ['healthy', 'empty-reply', 'never-respond']) expect(running.has(id), id).toBe(true);
    expect(plan.skipped.length + plan.scenarios.length).toBe(scenarios.length);
    const why = new Map(plan.skipped.map((k) => [k.scenario.id, k.why]));
    expect(why.get('connect-refused')).toMatch(/--listener-url connect-refused=URL/);
    expect(why.get('healthy-by-dns-name')).toMatch(/reaches the upstream by dns/);
    expect(plan.listenerFaults).toEqual([]);
    expect(plan.needsDns || plan.needsUnix || plan.needsFastcgi || plan.needsTls || plan.needsH2).toBe(false);
    for (const s of scenarios.filter((x) => x.tls === true || (x.faultDef.layer === 'exchange' && x.faultDef.protocol === 'h2'))) expect(why.has(s.id), s.id).toBe(true);
  });

  test('a listener fault mapped with --listener-url runs', () => {
    expect(externalSkipReason(byId.get('connect-refused')!, new Map([['connect-refused', 'http://127.0.0.1:1/r/']]))).toBeUndefined();
    expect(planExternal(nginx, [byId.get('connect-refused')!], new Map([['connect-refused', 'http://127.0.0.1:1/r/']])).scenarios).toHaveLength(1);
  });

  test('the upstream serves the routes of what runs, and its health check first', () => {
    const routes = suiteRoutes(scenarios, '/ready');
    expect(routes[0]).toEqual({ pathPrefix: '/ready', fault: 'healthy' });
    expect(routes.map((r) => r.pathPrefix)).toContain('/s/empty-reply');
    expect(routes.map((r) => r.pathPrefix)).not.toContain('/s/connect-refused');
  });

  test('a deployed suite is compared scenario by scenario', () => {
    const served = servedSuite(scenarios);
    expect(suiteDifferences(scenarios, served)).toEqual([]);
    const other = servedSuite([{ ...byId.get('empty-reply')!, fault: 'healthy' }]);
    expect(suiteDifferences([byId.get('empty-reply')!, byId.get('healthy')!], other)).toEqual(['empty-reply plays healthy there, empty-reply here', 'healthy is not served there']);
  });

  test("the version comes from the Server header", () => {
    expect(versionFromServer(nginx, 'nginx/1.22.1')).toBe('1.22.1');
    expect(versionFromServer(nginx, 'awselb/2.0')).toBe('2.0');
    expect(versionFromServer(nginx, 'nginx')).toBeUndefined();
    expect(versionFromServer(nginx, undefined)).toBeUndefined();
  });
});
