/** The plan is pure: which scenarios run where, and how the gateway reaches each fault. */
import { describe, expect, test } from 'vitest';
import { GATEWAYS, gatewayById } from '../gateways/index.js';
import { builtinScenarioDir, loadSuite } from '../scenarios/load.js';
import { Catalogue } from '../faults/registry.js';
import { gatewayRoutes, planRun, probeRequest, skipReason } from './plan.js';

const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));
const byId = (id: string) => scenarios.find((s) => s.id === id)!;

describe('planRun', () => {
  test('nginx runs every built-in scenario; the upstream routes exchange faults and starts only the listener faults used', () => {
    const plan = planRun(gatewayById('nginx'), scenarios, { userConfig: false });
    expect(plan.skipped).toEqual([]);
    expect(plan.upstreamRoutes.map((r) => r.pathPrefix)).toContain('/s/empty-reply');
    expect(plan.upstreamRoutes.some((r) => r.fault === 'connect-refused')).toBe(false);
    expect([...plan.listenerFaults].sort()).toEqual(['accept-queue-full', 'close-on-accept', 'connect-refused', 'reset-on-accept']);
    expect(plan.needsDns).toBe(true);
    expect(plan.needsUnix).toBe(true);
  });

  test('skips come from the adapter capabilities and the user config, each with its reason', () => {
    const apache = gatewayById('apache');
    expect(skipReason(apache, byId('dns-nxdomain'), { userConfig: false })).toMatch(/system resolver only/);
    expect(skipReason(gatewayById('traefik'), byId('healthy-unix-socket'), { userConfig: false })).toMatch(/unix socket/);
    expect(skipReason(gatewayById('nginx'), byId('connect-refused'), { userConfig: true })).toMatch(/listener fault needs its own address/);
    expect(skipReason(gatewayById('nginx'), byId('empty-reply'), { userConfig: true })).toBeUndefined();
    const plan = planRun(apache, [byId('empty-reply'), byId('dns-nxdomain')], { userConfig: false });
    expect(plan.scenarios.map((s) => s.id)).toEqual(['empty-reply']);
    expect(plan.needsDns).toBe(false);
  });

  test('gateway routes point each scenario at the address that plays its fault', () => {
    const plan = planRun(gatewayById('nginx'), [byId('empty-reply'), byId('connect-refused'), byId('dns-nxdomain'), byId('healthy-unix-socket')], { userConfig: false });
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, unixPath: '/tmp/u.sock', listenerPorts: new Map([['connect-refused', 9001]]), dnsName: (l) => `${l}.badgateway.test` });
    expect(routes.map((r) => r.target)).toEqual([
      { kind: 'tcp', host: '127.0.0.1', port: 9000 },
      { kind: 'tcp', host: '127.0.0.1', port: 9001 },
      { kind: 'dns', name: 'nxdomain.badgateway.test', port: 9000 },
      { kind: 'unix', path: '/tmp/u.sock' },
    ]);
  });

  test('a probe request is tagged under the scenario route', () => {
    const r = probeRequest(byId('empty-reply'), 7, { host: '127.0.0.1', port: 8080 });
    expect(r.target).toBe('/s/empty-reply/?bgp=7');
  });
});
