/** The plan is pure: which scenarios run where, and how the gateway reaches each fault. */
import { describe, expect, test } from 'vitest';
import { GATEWAYS, gatewayById } from '../gateways/index.js';
import { builtinScenarioDir, loadSuite } from '../scenarios/load.js';
import { Catalogue } from '../faults/registry.js';
import { InputError } from '../errors.js';
import { parseYaml } from '../yaml-source.js';
import { scenarioFromYaml } from '../scenarios/load.js';
import { gatewayRoutes, heldDnsBehavior, isFastcgi, listenerFaultPaths, MAX_SHARED_LISTENERS, planRun, probeRequest, scenarioDnsLabel, sharedListeners, skipReason } from './plan.js';

const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));
const byId = (id: string) => scenarios.find((s) => s.id === id)!;

describe('planRun', () => {
  test('nginx runs every built-in scenario; the upstream routes exchange faults and starts only the listener faults used', () => {
    const plan = planRun(gatewayById('nginx'), scenarios, { userConfig: false });
    // Only plain HTTP/2 upstreams: nginx speaks HTTP/2 to an upstream with grpc_pass alone.
    expect(plan.skipped.map((s) => s.scenario.id).filter((id) => !id.startsWith('h2-'))).toEqual([]);
    expect(plan.skipped.every((s) => /grpc_pass/.test(s.why))).toBe(true);
    expect(plan.upstreamRoutes.map((r) => r.pathPrefix)).toContain('/s/empty-reply');
    expect(plan.upstreamRoutes.some((r) => r.fault === 'connect-refused')).toBe(false);
    // The listener faults the suite uses, the TLS ones included (each tls-* scenario's listener).
    const tlsListeners = [...new Set(scenarios.filter((s) => s.faultDef.layer === 'listener' && s.fault.startsWith('tls-')).map((s) => s.fault))];
    expect(tlsListeners.length).toBeGreaterThanOrEqual(8);
    expect([...plan.listenerFaults].sort()).toEqual(['accept-queue-full', 'close-on-accept', 'connect-refused', 'fcgi-pool-full', 'reset-on-accept', ...tlsListeners].sort());
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

  test("routes to the shared listener are dealt out over its ports; FastCGI ones over the FastCGI ports", () => {
    const ids = ['empty-reply', 'healthy', 'dns-nxdomain', 'header-no-colon', 'fcgi-healthy', 'fcgi-stdout-cut-close', 'fcgi-stderr-flood'];
    const plan = planRun(gatewayById('nginx'), ids.map(byId), { userConfig: false });
    // One port per scenario, up to the default --concurrency: libuv accepts one connection per listening socket per loop turn.
    expect(plan.sharedListeners).toBe(ids.length);
    expect(sharedListeners(scenarios)).toBe(Math.min(MAX_SHARED_LISTENERS, scenarios.length));
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, httpPorts: [9000, 9002, 9004], fastcgiPort: 9100, fastcgiPorts: [9100, 9101], listenerPorts: new Map(), dnsName: (l) => `${l}.badgateway.test` });
    expect(routes.map((r) => (r.target.kind === 'unix' ? r.target.path : r.target.port))).toEqual([9000, 9002, 9004, 9000, 9100, 9101, 9100]);
  });

  test('HTTP/2 and gRPC routes are dealt out over the h2c ports: a burst of their connections is accepted as many at a time', () => {
    const ids = ['h2-healthy', 'grpc-unavailable', 'h2-rst-mid-data'];
    const plan = planRun(gatewayById('haproxy'), ids.map(byId), { userConfig: false });
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, httpPorts: [9000], h2Port: 9200, h2Ports: [9200, 9201], listenerPorts: new Map() });
    expect(routes.map((r) => [r.id, r.protocol, r.target.kind === 'tcp' ? r.target.port : undefined])).toEqual([
      ['h2-healthy', 'h2', 9200],
      ['grpc-unavailable', 'grpc', 9201],
      ['h2-rst-mid-data', 'h2', 9200],
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

  test('a FastCGI scenario goes to the FastCGI listener (tcp or unix), skipped where the adapter has no FastCGI client', () => {
    const fcgi = byId('fcgi-healthy');
    const fcgiUnix = { ...fcgi, id: 'fcgi-healthy-unix', upstream: 'unix' as const };
    expect(isFastcgi(fcgi)).toBe(true);
    expect(isFastcgi(byId('healthy'))).toBe(false);
    const plan = planRun(gatewayById('nginx'), [fcgi, fcgiUnix, byId('empty-reply')], { userConfig: false });
    expect(plan.needsFastcgi).toBe(true);
    expect(plan.needsFastcgiUnix).toBe(true);
    // The HTTP unix socket is for HTTP scenarios only.
    expect(plan.needsUnix).toBe(false);
    expect(plan.upstreamRoutes.find((r) => r.fault === 'fcgi-healthy')?.protocol).toBe('fastcgi');
    expect(plan.upstreamRoutes.find((r) => r.fault === 'empty-reply')?.protocol).toBeUndefined();
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, listenerPorts: new Map(), fastcgiPort: 9100, fastcgiUnixPath: '/tmp/f.sock' });
    expect(routes.map((r) => [r.protocol, r.target])).toEqual([
      ['fastcgi', { kind: 'tcp', host: '127.0.0.1', port: 9100 }],
      ['fastcgi', { kind: 'unix', path: '/tmp/f.sock' }],
      [undefined, { kind: 'tcp', host: '127.0.0.1', port: 9000 }],
    ]);
    const without = GATEWAYS.find((g) => g.supportsFastcgi !== true)!;
    expect(skipReason(without, fcgi, { userConfig: false })).toBe(`${without.id} has no FastCGI upstream in badgateway`);
    expect(skipReason(gatewayById('nginx'), fcgi, { userConfig: true })).toMatch(/FastCGI upstream/);
    expect(planRun(without, [fcgi], { userConfig: false })).toMatchObject({ needsFastcgi: false, needsFastcgiUnix: false, scenarios: [] });
  });

  test('fcgi-pool-full is a FastCGI route to a unix socket of its own in the run dir', () => {
    const full = byId('fcgi-pool-full');
    expect(isFastcgi(full)).toBe(true);
    const plan = planRun(gatewayById('nginx'), [full, byId('accept-queue-full')], { userConfig: false });
    expect(plan.listenerFaults).toEqual(['fcgi-pool-full', 'accept-queue-full']);
    // Its socket is not the upstream's FastCGI listener: no route there, no FastCGI listener started.
    expect([plan.upstreamRoutes, plan.needsFastcgi, plan.needsFastcgiUnix]).toEqual([[], false, false]);
    expect(listenerFaultPaths(plan, '/run/x')).toEqual({ 'fcgi-pool-full': '/run/x/fcgi-pool-full.sock' });
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, listenerPorts: new Map([['accept-queue-full', 9001]]), listenerPaths: new Map([['fcgi-pool-full', '/run/x/fcgi-pool-full.sock']]) });
    expect(routes.map((r) => [r.protocol, r.target])).toEqual([
      ['fastcgi', { kind: 'unix', path: '/run/x/fcgi-pool-full.sock' }],
      [undefined, { kind: 'tcp', host: '127.0.0.1', port: 9001 }],
    ]);
    const without = GATEWAYS.find((g) => g.supportsFastcgi !== true)!;
    expect(skipReason(without, full, { userConfig: false })).toBe(`${without.id} has no FastCGI upstream in badgateway`);
    expect(skipReason(gatewayById('nginx'), full, { userConfig: true })).toMatch(/FastCGI upstream/);
    // Neither an upstream: nor a pool member: it is one socket of its own, as a PHP-FPM pool's.
    expect(() => scenarioFromYaml(parseYaml('description: d\nfault: fcgi-pool-full\nupstream: unix\nexpect: {}\n', 'f.yaml'), new Catalogue(), ['nginx'])).toThrow(/its own unix socket/);
    expect(() => scenarioFromYaml(parseYaml('description: d\nupstreams: [healthy, fcgi-pool-full]\nexpect: {}\n', 'f.yaml'), new Catalogue(), ['nginx'])).toThrow(/speaks FastCGI/);
  });

  test('the loader takes FastCGI scenarios over tcp and unix, and refuses what FastCGI routes cannot do', () => {
    const load = (extra: string) => scenarioFromYaml(parseYaml(`description: d\nfault: fcgi-healthy\n${extra}expect: {}\n`, 'f.yaml'), new Catalogue(), ['nginx']);
    expect(load('upstream: unix\n').upstream).toBe('unix');
    for (const [extra, msg] of [
      ['upstream: dns\n', /tcp .* or unix/],
      ['keepalive: true\n', /without connection reuse/],
      ['request: {websocket: true}\n', /no WebSocket/],
    ] as const) {
      let err: unknown;
      try {
        load(extra);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(msg);
    }
  });
});
