/**
 * TLS upstreams in each adapter's config: the directives each verify variant renders, and that
 * the gateway itself accepts the rendered config (nginx -t, haproxy -c, caddy validate,
 * apache2 -t) with real PEM files, where the binary is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderInput } from '../../test/helpers/render-input.js';
import { createRunPki } from '../tls/pki.js';
import { apache } from './apache.js';
import { caddy } from './caddy.js';
import type { GatewayAdapter, GatewayRoute, RouteTls } from './gateway.js';
import { haproxy } from './haproxy.js';
import { nginx } from './nginx.js';

const dir = mkdtempSync(join(tmpdir(), 'bg-tls-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CA = join(dir, 'tls-ca.pem');
const CLIENT = join(dir, 'tls-client.pem');
const CLIENT_KEY = join(dir, 'tls-client-key.pem');
const NAME = 'upstream.badgateway.test';

function tls(verify: RouteTls['verify'], client = false): RouteTls {
  return { verify, caFile: CA, serverName: NAME, ...(client ? { clientCert: { certFile: CLIENT, keyFile: CLIENT_KEY } } : {}) };
}

function route(id: string, t: RouteTls, extra: Partial<GatewayRoute> = {}): GatewayRoute {
  return { id, target: { kind: 'tcp', host: '127.0.0.1', port: 9443 }, tls: t, ...extra };
}

/** A gRPC route to an HTTP/2 TLS upstream (nginx: grpc_pass grpcs://). */
const GRPC_TLS: GatewayRoute = route('grpc-tls', tls('on'), { protocol: 'grpc' });

/** One route per variant, and one with a client certificate. */
const VARIANTS: readonly GatewayRoute[] = [route('tls-default', tls('default')), route('tls-on', tls('on')), route('tls-off', tls('off')), route('tls-mtls', tls('on', true))];

function render(g: GatewayAdapter, routes: readonly GatewayRoute[], prefix = '/tmp/p'): string {
  const input = { ...renderInput({ drop: ['a', 'b', 'c', 'd', 'e'], resolver: false, logSink: { host: '127.0.0.1', port: 5514 } }), prefix, routes };
  const out = g.render(input);
  return out.files[out.main]!;
}

/** The lines between `start` and the next line that closes it, for one route. */
function block(conf: string, start: string, end: string): string {
  const at = conf.indexOf(start);
  expect(at, `${start} in\n${conf}`).toBeGreaterThanOrEqual(0);
  return conf.slice(at, conf.indexOf(end, at + start.length) + end.length);
}

describe('nginx', () => {
  const conf = render(nginx, VARIANTS);
  test('default: proxy_pass https:// and nothing else (proxy_ssl_verify is off, no SNI: nginx\'s own defaults)', () => {
    const b = block(conf, 'location /s/tls-default/', '}');
    expect(b).toContain('proxy_pass https://127.0.0.1:9443;');
    expect(b).not.toMatch(/proxy_ssl/);
    // The handshake counts against the connect timeout: a TLS route gets more than a TCP connect's 1 s.
    expect(b).toContain('proxy_connect_timeout 3s;');
  });
  test('on: verify against the CA and the name, and send it as SNI', () => {
    const b = block(conf, 'location /s/tls-on/', '}');
    expect(b).toContain('proxy_ssl_verify on;');
    expect(b).toContain(`proxy_ssl_trusted_certificate ${CA};`);
    expect(b).toContain('proxy_ssl_server_name on;');
    expect(b).toContain(`proxy_ssl_name ${NAME};`);
  });
  test('off: proxy_ssl_verify off said out loud, SNI still sent', () => {
    const b = block(conf, 'location /s/tls-off/', '}');
    expect(b).toContain('proxy_ssl_verify off;');
    expect(b).not.toContain('proxy_ssl_trusted_certificate');
    expect(b).toContain(`proxy_ssl_name ${NAME};`);
  });
  test('a client certificate: proxy_ssl_certificate and its key', () => {
    const b = block(conf, 'location /s/tls-mtls/', '}');
    expect(b).toContain(`proxy_ssl_certificate ${CLIENT};`);
    expect(b).toContain(`proxy_ssl_certificate_key ${CLIENT_KEY};`);
  });
  test('a keepalive route and a DNS route go https:// too', () => {
    const c = render(nginx, [route('k', tls('default'), { keepalive: true }), route('n', tls('default'), { target: { kind: 'dns', name: 'up.badgateway.test', port: 9443 } })]);
    expect(c).toMatch(/proxy_pass https:\/\/badgateway_pool_0;/);
    expect(c).toContain('proxy_pass https://$badgateway_target;');
  });
  test('a plain route is left alone', () => {
    expect(render(nginx, [{ id: 'p', target: { kind: 'tcp', host: '127.0.0.1', port: 9000 } }])).not.toMatch(/https:|proxy_ssl/);
  });
  test('a gRPC route over TLS: grpc_pass grpcs:// with the grpc_ssl_* directives (proxy_ssl_* do not reach grpc_pass)', () => {
    const b = block(render(nginx, [GRPC_TLS]), 'location /s/grpc-tls/', '}');
    expect(b).toContain('grpc_pass grpcs://127.0.0.1:9443;');
    expect(b).toContain('grpc_connect_timeout 3s;');
    expect(b).toContain('grpc_ssl_verify on;');
    expect(b).toContain(`grpc_ssl_name ${NAME};`);
    expect(b).not.toMatch(/proxy_/);
  });
  test('the TLS connect timeout is 3 s at least, the run\'s own when longer', () => {
    const input = { ...renderInput({ drop: ['a', 'b', 'c', 'd', 'e'], resolver: false, logSink: { host: '127.0.0.1', port: 5514 } }), prefix: '/tmp/p', routes: [route('tls-on', tls('on'))] };
    const out = nginx.render({ ...input, timeouts: { ...input.timeouts, connectMs: 7000 } });
    expect(out.files[out.main]).toContain('proxy_connect_timeout 7s;');
  });
});

describe('HAProxy', () => {
  const conf = render(haproxy, VARIANTS);
  const server = (id: string) => block(conf, `backend be_${id}`, '\n\n').split('\n').find((l) => l.includes('server s '))!;
  test('default: ssl with the CA only, as HAProxy will not start without one under its default ssl-server-verify required', () => {
    const s = conf.split('\n').filter((l) => l.includes('server s 127.0.0.1:9443'));
    expect(s[0]).toMatch(/ ssl ca-file \S+tls-ca.pem$/);
    expect(block(conf, '\nbackend be_tls-default\n', '\n\n')).toContain('timeout connect 3s');
  });
  test('timeout connect and timeout server of a TLS backend are 3 s at least, the run\'s own when longer', () => {
    const input = { ...renderInput({ drop: ['a', 'b', 'c', 'd', 'e'], resolver: false, logSink: { host: '127.0.0.1', port: 5514 } }), prefix: '/tmp/p', routes: [route('tls-on', tls('on'))] };
    const out = haproxy.render({ ...input, timeouts: { ...input.timeouts, connectMs: 5000, readMs: 8000 } });
    const conf = out.files[out.main]!;
    const b = conf.slice(conf.indexOf('\nbackend be_tls-on\n'));
    expect(b).toContain('timeout connect 5s');
    expect(b).toContain('timeout server 8s');
  });
  test('on, off and mTLS: verify required ca-file + sni + verifyhost; verify none + sni; crt', () => {
    const s = conf.split('\n').filter((l) => l.includes('server s 127.0.0.1:9443'));
    expect(s[1]).toContain(`ssl verify required ca-file ${CA} sni str(${NAME}) verifyhost ${NAME}`);
    expect(s[2]).toContain(`ssl verify none sni str(${NAME})`);
    expect(s[3]).toContain(`crt ${CLIENT}`);
    expect(server).toBeDefined();
  });
});

describe('Caddy', () => {
  const conf = JSON.parse(render(caddy, VARIANTS)) as { apps: { http: { servers: Record<string, { routes: Array<{ match: Array<{ path: string[] }>; handle: Array<{ transport?: { tls?: Record<string, unknown> } }> }> }> } } };
  const routes = Object.values(conf.apps.http.servers)[0]!.routes;
  const tlsOf = (id: string) => routes.find((r) => r.match?.[0]?.path[0] === `/s/${id}/*`)!.handle[0]!.transport!.tls;
  test('default: an empty tls object (Caddy verifies against the system trust store)', () => expect(tlsOf('tls-default')).toEqual({}));
  test('on: the CA and the server name', () => expect(tlsOf('tls-on')).toEqual({ root_ca_pem_files: [CA], server_name: NAME }));
  test('off: insecure_skip_verify, the server name still sent', () => expect(tlsOf('tls-off')).toEqual({ insecure_skip_verify: true, server_name: NAME }));
  test('mTLS: the client certificate and key', () => expect(tlsOf('tls-mtls')).toMatchObject({ client_certificate_file: CLIENT, client_certificate_key_file: CLIENT_KEY }));
});

describe('Apache', () => {
  const conf = render(apache, VARIANTS);
  test('mod_ssl is loaded only with a TLS route', () => {
    expect(conf).toContain('LoadModule ssl_module');
    expect(render(apache, [{ id: 'p', target: { kind: 'tcp', host: '127.0.0.1', port: 9000 } }])).not.toContain('ssl_module');
  });
  test('default: https:// and SSLProxyEngine on, nothing else (SSLProxyVerify defaults to none)', () => {
    expect(conf).toContain('ProxyPass "/s/tls-default/" "https://127.0.0.1:9443/s/tls-default/"');
    expect(block(conf, '<Proxy "https://127.0.0.1:9443/s/tls-default/">', '</Proxy>')).toBe('<Proxy "https://127.0.0.1:9443/s/tls-default/">\n  SSLProxyEngine on\n</Proxy>');
  });
  test('on: SSLProxyVerify require with the CA, peer name and expiry checked', () => {
    const b = block(conf, '<Proxy "https://127.0.0.1:9443/s/tls-on/">', '</Proxy>');
    expect(b).toContain('SSLProxyVerify require');
    expect(b).toContain(`SSLProxyCACertificateFile "${CA}"`);
    expect(b).toContain('SSLProxyCheckPeerName on');
    expect(b).toContain('SSLProxyCheckPeerExpire on');
  });
  test('off: every check off', () => {
    const b = block(conf, '<Proxy "https://127.0.0.1:9443/s/tls-off/">', '</Proxy>');
    expect(b).toMatch(/SSLProxyVerify none\n\s+SSLProxyCheckPeerName off\n\s+SSLProxyCheckPeerCN off\n\s+SSLProxyCheckPeerExpire off/);
  });
  test('mTLS: SSLProxyMachineCertificateFile', () => {
    expect(block(conf, '<Proxy "https://127.0.0.1:9443/s/tls-mtls/">', '</Proxy>')).toContain(`SSLProxyMachineCertificateFile "${CLIENT}"`);
  });
});

/** The binary that checks a config, when installed here. */
function installed(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

describe('each gateway accepts the rendered TLS config', () => {
  // The run's own PKI (src/tls/pki.ts) writes tls-ca.pem, tls-client.pem (certificate + key) and
  // tls-client-key.pem under dir: the paths the routes above name.
  beforeAll(async () => {
    await createRunPki(dir);
  }, 60_000);
  const check = (g: GatewayAdapter, bin: string, routes: readonly GatewayRoute[] = VARIANTS) =>
    // CI installs every gateway (.ci/run): there a missing binary fails rather than skips.
    test.skipIf(!installed(bin) && !process.env.CI)(`${g.id}: ${bin} checks the rendered config (its testArgs)`, () => {
      const prefix = mkdtempSync(join(dir, `${g.id}-`));
      for (const d of ['logs', 'tmp', 'data']) mkdirSync(join(prefix, d), { recursive: true });
      const out = g.render({ ...renderInput({ drop: ['a', 'b', 'c', 'd', 'e'], resolver: false, logSink: { host: '127.0.0.1', port: 5514 } }), prefix, routes });
      for (const [file, text] of Object.entries(out.files)) {
        mkdirSync(dirname(join(prefix, file)), { recursive: true });
        writeFileSync(join(prefix, file), text);
      }
      const r = spawnSync(bin, g.testArgs(prefix, join(prefix, out.main)), { encoding: 'utf8', env: { ...process.env, ...g.env?.(prefix) }, timeout: 30_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    });
  check(nginx, nginx.binary, [...VARIANTS, GRPC_TLS]);
  check(haproxy, haproxy.binary);
  check(caddy, caddy.binary);
  check(apache, apache.binary);
});
