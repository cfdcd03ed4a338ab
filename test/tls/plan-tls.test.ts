/** TLS scenarios: the keys as the loader reads them, and how the plan skips and routes them. Pure. */
import { describe, expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import { defineFault } from '../../src/faults/fault.js';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { gatewayRoutes, isTls, planRun, skipReason } from '../../src/harness/plan.js';
import { scenarioFromYaml } from '../../src/scenarios/load.js';
import { parseYaml } from '../../src/yaml-source.js';

const mtls = defineFault({ id: 'test-mtls', layer: 'listener', listener: 'tls', tls: { clientCert: 'required' }, summary: 's', explain: 'e' });
const catalogue = new Catalogue([...BUILTIN_FAULTS, mtls]);
const load = (text: string) => scenarioFromYaml(parseYaml(text, 'scenarios/x.yaml'), catalogue, GATEWAYS.map((g) => g.id));
const base = 'description: d\nexpect: {}\n';
const nginx = gatewayById('nginx');
const withTls = { ...nginx, supportsTlsUpstream: true };
const withoutTls = { ...nginx, supportsTlsUpstream: false };
const pki = { caFile: '/run/tls-ca.pem', serverName: 'upstream.badgateway.test', clientCertFile: '/run/tls-client.pem', clientKeyFile: '/run/tls-client-key.pem' };

describe('the tls and tlsVerify keys', () => {
  test('tls: true makes an exchange fault a TLS scenario, verification default unless said', () => {
    expect(load(`${base}fault: empty-reply\ntls: true\n`)).toMatchObject({ tls: true, tlsVerify: 'default' });
    expect(load(`${base}fault: empty-reply\ntls: true\ntlsVerify: off\n`)).toMatchObject({ tls: true, tlsVerify: 'off' });
    const plain = load(`${base}fault: empty-reply\n`);
    expect([plain.tls, plain.tlsVerify, isTls(plain)]).toEqual([undefined, undefined, false]);
  });

  test('a TLS listener fault is a TLS scenario without tls:', () => {
    const s = load(`${base}fault: test-mtls\ntlsVerify: on\n`);
    expect([s.tls, s.tlsVerify, isTls(s)]).toEqual([undefined, 'on', true]);
  });

  test.each([
    [`${base}fault: empty-reply\ntlsVerify: on\n`, /x\.yaml:\d+:\d+: tlsVerify: applies to TLS scenarios/],
    [`${base}fault: connect-refused\ntls: true\n`, /tls: true serves an exchange fault .* connect-refused is a listener fault/],
    [`${base}fault: test-mtls\ntls: true\n`, /TLS listener: its scenario speaks TLS already; drop tls:/],
    [`${base}fault: fcgi-healthy\ntls: true\n`, /speaks FastCGI, which badgateway serves without TLS/],
    [`${base}fault: empty-reply\nupstream: unix\ntls: true\n`, /upstream: unix with tls: true/],
    [`${base}fault: empty-reply\ntlsVerify: maybe\n`, /tlsVerify/],
  ])('refused with file:line: %s', (text, message) => {
    expect(() => load(text)).toThrow(message);
  });
});

describe('planning TLS scenarios', () => {
  const overTls = load(`id: over-tls\n${base}fault: empty-reply\ntls: true\ntlsVerify: on\n`);
  const listener = load(`id: mtls\n${base}fault: test-mtls\n`);
  const plain = load(`id: plain\n${base}fault: empty-reply\n`);

  test('an adapter without supportsTlsUpstream skips them with the reason; a user config too', () => {
    expect(skipReason(withoutTls, overTls, { userConfig: false })).toBe('nginx has no TLS upstream in badgateway');
    expect(skipReason(withoutTls, listener, { userConfig: false })).toBe('nginx has no TLS upstream in badgateway');
    expect(skipReason(withTls, overTls, { userConfig: true })).toMatch(/TLS upstream of its own; your config has one plain HTTP upstream/);
    expect(skipReason(withTls, overTls, { userConfig: false })).toBeUndefined();
    expect(planRun(withoutTls, [overTls, plain], { userConfig: false })).toMatchObject({ needsTls: false, needsTlsPort: false });
  });

  test('routes: tls: true to the TLS listener, a TLS listener fault to its port, each with the run PKI and its verification', () => {
    const plan = planRun(withTls, [overTls, listener, plain], { userConfig: false });
    expect([plan.needsTls, plan.needsTlsPort, plan.listenerFaults]).toEqual([true, true, ['test-mtls']]);
    expect(plan.upstreamRoutes).toEqual([
      { pathPrefix: '/s/over-tls', fault: 'empty-reply', params: {}, tls: true },
      { pathPrefix: '/s/plain', fault: 'empty-reply', params: {} },
    ]);
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, tlsPort: 9443, listenerPorts: new Map([['test-mtls', 9444]]), tls: pki });
    expect(routes).toEqual([
      { id: 'over-tls', keepalive: false, websocket: false, target: { kind: 'tcp', host: '127.0.0.1', port: 9443 }, tls: { verify: 'on', caFile: pki.caFile, serverName: pki.serverName } },
      {
        id: 'mtls',
        keepalive: false,
        websocket: false,
        target: { kind: 'tcp', host: '127.0.0.1', port: 9444 },
        tls: { verify: 'default', caFile: pki.caFile, serverName: pki.serverName, clientCert: { certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } },
      },
      { id: 'plain', keepalive: false, websocket: false, target: { kind: 'tcp', host: '127.0.0.1', port: 9000 } },
    ]);
  });
});
