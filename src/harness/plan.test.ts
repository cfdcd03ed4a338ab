/** The plan is pure: which scenarios run where, and how the gateway reaches each fault. */
import { describe, expect, test } from 'vitest';
import { GATEWAYS, gatewayById } from '../gateways/index.js';
import { builtinScenarioDir, loadSuite } from '../scenarios/load.js';
import { Catalogue } from '../faults/registry.js';
import { gatewayRoutes, heldDnsBehavior, planRun, probeRequest, scenarioDnsLabel, skipReason } from './plan.js';

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
      // A DNS scenario resolves a name of its own, under its fault's: its own record and flap clock.
      { kind: 'dns', name: 'dns-nxdomain.nxdomain.badgateway.test', port: 9000 },
      { kind: 'unix', path: '/tmp/u.sock' },
    ]);
  });

  test("a DNS scenario's name is its own, a valid label however long its id", () => {
    expect(scenarioDnsLabel(byId('dns-flapping'))).toBe('dns-flapping.flapping');
    expect(scenarioDnsLabel(byId('empty-reply'))).toBeUndefined();
    const long = (id: string) => scenarioDnsLabel({ ...byId('dns-flapping'), id })!;
    const a = long(`dns-flapping-${'x'.repeat(60)}-a`);
    const b = long(`dns-flapping-${'x'.repeat(60)}-b`);
    expect(a.split('.')[0]!.length).toBe(63);
    expect(a).toMatch(/\.flapping$/);
    // Cut to 63 bytes, two ids that differ only at the end still get names of their own.
    expect(a).not.toBe(b);
  });

  test('until its first request a flapping name holds its first phase', () => {
    const def = byId('dns-flapping').faultDef;
    if (def.layer !== 'dns' || def.dns.kind !== 'flap') throw new Error('dns-flapping is a flap');
    expect(heldDnsBehavior(def.dns)).toEqual(def.dns.phases[0]!.answer);
    expect(heldDnsBehavior({ kind: 'nxdomain' })).toEqual({ kind: 'nxdomain' });
  });

  test('a probe request is tagged under the scenario route', () => {
    const r = probeRequest(byId('empty-reply'), 7, { host: '127.0.0.1', port: 8080 });
    expect(r.target).toBe('/s/empty-reply/?bgp=7');
  });
});
