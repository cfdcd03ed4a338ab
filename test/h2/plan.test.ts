/** How the plan treats HTTP/2 and gRPC scenarios: skip reasons by adapter capability, the upstream's h2 routes, the gateway's h2/grpc routes. */
import { describe, expect, test } from 'vitest';
import { gatewayById } from '../../src/gateways/index.js';
import type { GatewayAdapter } from '../../src/gateways/gateway.js';
import { Catalogue } from '../../src/faults/registry.js';
import { gatewayRoutes, isGrpc, isH2, planRun, skipReason } from '../../src/harness/plan.js';
import { scenarioFromYaml } from '../../src/scenarios/load.js';
import type { Scenario } from '../../src/scenarios/scenario.js';
import { parseYaml } from '../../src/yaml-source.js';

const load = (text: string, id: string): Scenario => ({ ...scenarioFromYaml(parseYaml(`description: d\n${text}expect: {}\n`, `${id}.yaml`), new Catalogue(), ['nginx']), id });
const h2 = load('fault: h2-healthy\n', 'h2-healthy');
// The loader leaves request.grpc to the gRPC probe's parsing; the plan reads only the field.
const grpcBase = load('fault: grpc-healthy\n', 'grpc-healthy');
const grpc: Scenario = { ...grpcBase, request: { ...grpcBase.request, grpc: true } };
const plain = load('fault: healthy\n', 'healthy');

const withFlags = (flags: Partial<GatewayAdapter>): GatewayAdapter => ({ ...gatewayById('haproxy'), supportsH2Upstream: undefined, supportsGrpc: undefined, supportsTlsUpstream: undefined, ...flags });

describe('HTTP/2 and gRPC in the plan', () => {
  test('isH2 and isGrpc read the fault and the request', () => {
    expect([isH2(h2), isGrpc(h2)]).toEqual([true, false]);
    expect([isH2(grpc), isGrpc(grpc)]).toEqual([true, true]);
    expect(isH2(plain)).toBe(false);
  });

  test('skips name the missing capability; an adapter may say more; a user config cannot reach the h2 listener', () => {
    const none = withFlags({});
    expect(skipReason(none, h2, { userConfig: false })).toBe('haproxy has no HTTP/2 upstream in badgateway');
    expect(skipReason(none, grpc, { userConfig: false })).toBe('haproxy has no gRPC upstream in badgateway');
    expect(skipReason(withFlags({ noH2UpstreamWhy: 'nginx speaks HTTP/2 upstream only in grpc_pass' }), h2, { userConfig: false })).toMatch(/only in grpc_pass/);
    expect(skipReason(withFlags({ supportsH2Upstream: true }), h2, { userConfig: false })).toBeUndefined();
    // gRPC needs its own flag: plain HTTP/2 proxying is not gRPC proxying (nginx has one and not the other).
    expect(skipReason(withFlags({ supportsH2Upstream: true }), grpc, { userConfig: false })).toMatch(/no gRPC upstream/);
    expect(skipReason(withFlags({ supportsGrpc: true }), grpc, { userConfig: false })).toBeUndefined();
    expect(skipReason(withFlags({ supportsH2Upstream: true }), h2, { userConfig: true })).toMatch(/HTTP\/2 upstream; your config/);
  });

  test('the upstream routes h2 scenarios with protocol h2; the gateway gets h2 or grpc routes to the h2c port', () => {
    const plan = planRun(withFlags({ supportsH2Upstream: true, supportsGrpc: true }), [h2, grpc, plain], { userConfig: false });
    expect(plan.skipped).toEqual([]);
    expect(plan.needsH2).toBe(true);
    expect(plan.upstreamRoutes.map((r) => [r.pathPrefix, r.protocol])).toEqual([
      ['/s/h2-healthy', 'h2'],
      ['/s/grpc-healthy', 'h2'],
      ['/s/healthy', undefined],
    ]);
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, h2Port: 9443, listenerPorts: new Map() });
    expect(routes.map((r) => [r.id, r.protocol, r.target])).toEqual([
      ['h2-healthy', 'h2', { kind: 'tcp', host: '127.0.0.1', port: 9443 }],
      ['grpc-healthy', 'grpc', { kind: 'tcp', host: '127.0.0.1', port: 9443 }],
      ['healthy', undefined, { kind: 'tcp', host: '127.0.0.1', port: 9000 }],
    ]);
    expect(planRun(withFlags({}), [plain], { userConfig: false }).needsH2).toBe(false);
  });

  test('the loader takes an h2 fault over tcp only', () => {
    expect(() => load('fault: h2-healthy\nupstream: unix\n', 'x')).toThrow(/speaks HTTP\/2.*over tcp/);
    expect(() => load('upstreams: [healthy, h2-healthy]\n', 'x')).toThrow(/speaks HTTP\/2/);
  });

  test('an h2 scenario with tls: true goes to the HTTP/2 TLS listener with its RouteTls; the h2c and HTTP/1 TLS listeners are not asked for', () => {
    const overTls = load('fault: h2-healthy\ntls: true\ntlsVerify: on\n', 'h2-healthy-tls');
    const plan = planRun(withFlags({ supportsH2Upstream: true, supportsTlsUpstream: true }), [overTls], { userConfig: false });
    expect(plan.skipped).toEqual([]);
    expect([plan.needsH2, plan.needsH2TlsPort, plan.needsTlsPort, plan.needsTls]).toEqual([false, true, false, true]);
    expect(plan.upstreamRoutes).toEqual([{ pathPrefix: '/s/h2-healthy-tls', fault: 'h2-healthy', params: {}, protocol: 'h2', tls: true }]);
    const tls = { caFile: '/run/ca.pem', serverName: 'upstream.badgateway.test', clientCertFile: '/run/c.pem', clientKeyFile: '/run/c.key' };
    const [route] = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, h2Port: 9443, h2TlsPort: 9444, listenerPorts: new Map(), tls });
    expect(route).toMatchObject({ protocol: 'h2', target: { kind: 'tcp', host: '127.0.0.1', port: 9444 }, tls: { verify: 'on', caFile: '/run/ca.pem', serverName: 'upstream.badgateway.test' } });
    // Without TLS upstreams in the adapter, the TLS skip comes first.
    expect(skipReason(withFlags({ supportsH2Upstream: true }), overTls, { userConfig: false })).toMatch(/no TLS upstream/);
  });
});
