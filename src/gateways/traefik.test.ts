import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { attribute } from '../harness/attribute.js';
import { traefik } from './traefik.js';
import { renderInput } from '../../test/helpers/render-input.js';

// No unix-socket route (Traefik cannot reach one); route c by a name the system resolver is asked for.
const input = renderInput({ drop: ['b'], replace: { c: { id: 'c', target: { kind: 'dns', name: 'ok.badgateway.test', port: 9000 } } } });

/* eslint-disable @typescript-eslint/no-explicit-any */
describe('traefik config rendering', () => {
  const out = traefik.render(input);
  const st = parse(out.files['traefik.yaml']!) as any;
  const dyn = parse(out.files['traefik-dynamic.yaml']!).http as any;

  test('a static and a dynamic file; the file provider reads the dynamic one from the prefix', () => {
    expect(out.main).toBe('traefik.yaml');
    expect(Object.keys(out.files).sort()).toEqual(['traefik-dynamic.yaml', 'traefik.yaml']);
    expect(st.providers).toEqual({ file: { filename: '/tmp/p/traefik-dynamic.yaml', watch: false } });
    expect(out.files['traefik-dynamic.yaml']).not.toMatch(/[&*]a\d/);
  });

  test('one entry point, on the given address only; no API, dashboard or metrics; ping only through our router', () => {
    expect(st.entryPoints).toEqual({ badgateway: { address: '127.0.0.1:8080' } });
    expect(st.api).toBeUndefined();
    expect(st.metrics).toBeUndefined();
    // Manual routing: Traefik opens no `traefik` entry point (:8080) for ping.
    expect(st.ping).toEqual({ manualRouting: true });
    expect(dyn.routers['badgateway-ready']).toEqual({ entryPoints: ['badgateway'], rule: 'Path(`/__badgateway/ready`)', service: 'ping@internal' });
    for (const r of Object.values(dyn.routers) as any[]) expect(r.entryPoints).toEqual(['badgateway']);
  });

  test('one router and service per scenario, by path prefix; DNS names go to the system resolver', () => {
    expect(dyn.routers['r-a']).toEqual({ entryPoints: ['badgateway'], rule: 'PathPrefix(`/s/a/`)', service: 's-a' });
    expect(dyn.services['s-a'].loadBalancer.servers).toEqual([{ url: 'http://127.0.0.1:9000' }]);
    expect(dyn.services['s-c'].loadBalancer.servers).toEqual([{ url: 'http://ok.badgateway.test:9000' }]);
    expect(Object.keys(dyn.services).sort()).toEqual(['s-a', 's-c', 's-d', 's-e']);
    expect(traefik.supportsResolver).toBe(false);
  });

  test('keepalive routes pool connections; others use one per request; timeouts from the input', () => {
    expect(dyn.services['s-d'].loadBalancer.serversTransport).toBe('pooled');
    expect(dyn.services['s-a'].loadBalancer.serversTransport).toBe('unpooled');
    expect(dyn.services['s-e'].loadBalancer.serversTransport).toBe('unpooled');
    expect(dyn.serversTransports.unpooled.maxIdleConnsPerHost).toBe(-1);
    expect(dyn.serversTransports.pooled.maxIdleConnsPerHost).toBeGreaterThan(0);
    for (const t of Object.values(dyn.serversTransports) as any[]) expect(t.forwardingTimeouts).toEqual({ dialTimeout: '1s', responseHeaderTimeout: '1500ms' });
  });

  test('logs: JSON access log and JSON debug log under the prefix', () => {
    expect(st.accessLog).toMatchObject({ format: 'json', filePath: '/tmp/p/logs/access.log' });
    expect(st.log).toEqual({ level: 'DEBUG', format: 'json', filePath: '/tmp/p/logs/traefik.log' });
    expect(traefik.logFiles).toEqual(['logs/access.log', 'logs/traefik.log']);
  });

  test('unix-socket upstreams cannot be rendered: Traefik dials TCP only, and says so', () => {
    expect(traefik.supportsUnixUpstream).toBe(false);
    expect(() => traefik.render({ ...input, routes: [{ id: 'u', target: { kind: 'unix', path: '/tmp/x.sock' } }] })).toThrow(/traefik cannot serve route u: .*unix sockets/);
  });

  test('args, image', () => {
    expect(traefik.args('/tmp/p', '/tmp/p/traefik.yaml')).toEqual(['--configFile=/tmp/p/traefik.yaml']);
    expect(traefik.defaultImage).toMatch(/^traefik:v3\.\d+$/);
  });
});

describe('traefik log parsing', () => {
  const json = (status: string, error: string) =>
    JSON.stringify({ level: 'debug', error, time: '2026-11-24T10:00:00Z', caller: 'github.com/traefik/traefik/v3/pkg/proxy/httputil/proxy.go:187', message: status });
  const cases: Array<[string, string | undefined]> = [
    [json('502 Bad Gateway', 'dial tcp 127.0.0.1:40001: connect: connection refused'), 'connect-refused'],
    [json('504 Gateway Timeout', 'dial tcp 127.0.0.1:40002: i/o timeout'), 'connect-timeout'],
    [json('504 Gateway Timeout', 'net/http: timeout awaiting response headers'), 'read-timeout'],
    [json('502 Bad Gateway', 'EOF'), 'upstream-closed-early'],
    [json('502 Bad Gateway', 'read tcp 127.0.0.1:53124->127.0.0.1:9000: read: connection reset by peer'), 'upstream-reset'],
    [json('502 Bad Gateway', 'net/http: HTTP/1.x transport connection broken: malformed MIME header line: X-Broken'), 'invalid-header'],
    [json('502 Bad Gateway', 'net/http: HTTP/1.x transport connection broken: malformed HTTP response "garbage"'), 'no-valid-http'],
    [json('502 Bad Gateway', 'net/http: server response headers exceeded 1048576 bytes; aborted'), 'header-too-big'],
    [json('502 Bad Gateway', 'http: message cannot contain multiple Content-Length headers; got ["2" "5"]'), 'duplicate-header'],
    [json('500 Internal Server Error', 'backend tried to switch protocol "" when "websocket" was requested'), 'invalid-upgrade'],
    [json('499 Client Closed Request', 'context canceled'), undefined],
    [JSON.stringify({ level: 'debug', time: '2026-11-24T10:00:00Z', message: 'httputil: ReverseProxy read error during body copy: unexpected EOF\n' }), 'upstream-truncated'],
    [JSON.stringify({ level: 'debug', time: '2026-11-24T10:00:00Z', message: 'httputil: ReverseProxy read error during body copy: malformed chunked encoding' }), 'invalid-chunked'],
    // Traefik v2 (logrus) and the bare message as people paste it.
    ['time="2024-01-01T10:00:00Z" level=debug msg="\'502 Bad Gateway\' caused by: EOF"', 'upstream-closed-early'],
    ["'502 Bad Gateway' caused by: dial tcp 10.0.0.7:80: connect: connection refused", 'connect-refused'],
    ['502 Bad Gateway caused by: EOF', 'upstream-closed-early'],
    // Traefik v3's common (console) format.
    ['2026-11-24T10:00:00Z DBG github.com/traefik/traefik/v3/pkg/proxy/httputil/proxy.go:187 > 502 Bad Gateway error=EOF', 'upstream-closed-early'],
    ['2026-11-24T10:00:00Z DBG github.com/traefik/traefik/v3/pkg/proxy/httputil/proxy.go:187 > 504 Gateway Timeout error="net/http: timeout awaiting response headers"', 'read-timeout'],
  ];
  test.each(cases)('%s', (line, reason) => {
    const e = traefik.parseLogLine(line)!;
    expect(e).toBeDefined();
    expect(e.reason).toBe(reason);
    expect(e.target).toBeUndefined();
  });

  test('access-log lines carry the request path (with ?bgp=<n>) and the server address', () => {
    const line = JSON.stringify({ ClientHost: '127.0.0.1', DownstreamStatus: 502, OriginStatus: 502, RequestMethod: 'GET', RequestPath: '/s/connect-refused/?bgp=8', RouterName: 'r-connect-refused@file', ServiceAddr: '127.0.0.1:40001', ServiceName: 's-connect-refused@file', level: 'info', msg: '', time: '2026-11-24T10:00:00Z' });
    expect(traefik.parseLogLine(line)).toMatchObject({ level: 'access', target: '/s/connect-refused/?bgp=8', connection: '127.0.0.1:40001' });
  });

  test('a dial error names the upstream address, so it is attributed to the request through that address', () => {
    const access = JSON.stringify({ DownstreamStatus: 502, RequestPath: '/s/connect-refused/?bgp=8', ServiceAddr: '127.0.0.1:40001' });
    const error = json('502 Bad Gateway', 'dial tcp 127.0.0.1:40001: connect: connection refused');
    expect(traefik.parseLogLine(error)!.connection).toBe('127.0.0.1:40001');
    const byProbe = attribute(traefik, `${error}\n${access}\n`);
    expect(byProbe.get(8)!.map((e) => e.reason)).toEqual([undefined, 'connect-refused']);
    // An EOF names nothing: it is not attributed to any request.
    expect(traefik.parseLogLine(json('502 Bad Gateway', 'EOF'))!.connection).toBeUndefined();
  });

  test('other lines are ignored; nginx, HAProxy and Envoy lines are not mistaken for Traefik ones', () => {
    expect(traefik.parseLogLine('{"level":"info","time":"2026-11-24T10:00:00Z","message":"Starting provider *file.Provider"}')).toBeUndefined();
    expect(traefik.parseLogLine('2026/11/24 15:50:00 [error] 1#1: *5 upstream prematurely closed connection while reading response header from upstream')).toBeUndefined();
    expect(traefik.parseLogLine('[2026-11-24T10:00:00.000Z] "GET / HTTP/1.1" 503 UF 0 91 0 - "-" "-" "r" "h" "10.0.0.2:80"')).toBeUndefined();
  });
});

describe('traefik user config', () => {
  const values = { listen: { host: '127.0.0.1', port: 8081 }, prefix: '/tmp/q', upstream: { host: '127.0.0.1', port: 9001 }, healthy: { host: '127.0.0.1', port: 9002 } };
  const conf = `entryPoints:
  web:
    address: "{{listen}}"
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app:
      loadBalancer:
        servers:
          - url: "http://{{upstream}}"
          - url: "http://{{healthy}}"
`;
  test('static keys stay in the static file, http: goes to the file provider; logs and ping are ours', () => {
    const out = traefik.fromUserConfig(conf, 'traefik.yaml', values);
    const st = parse(out.files['traefik.yaml']!);
    const dyn = parse(out.files['traefik-dynamic.yaml']!);
    expect(st.entryPoints.web.address).toBe('127.0.0.1:8081');
    expect(st.http).toBeUndefined();
    expect(st.providers.file.filename).toBe('/tmp/q/traefik-dynamic.yaml');
    expect(st.ping).toEqual({ manualRouting: true });
    expect(st.log.filePath).toBe('/tmp/q/logs/traefik.log');
    expect(dyn.http.services.app.loadBalancer.servers).toEqual([{ url: 'http://127.0.0.1:9001' }, { url: 'http://127.0.0.1:9002' }]);
  });
  test('missing placeholders and keys badgateway owns are errors that say what to do', () => {
    expect(() => traefik.fromUserConfig('entryPoints:\n  web:\n    address: "{{listen}}"\n', 'a.yaml', values)).toThrow(/a\.yaml has no \{\{upstream\}\} placeholder/);
    expect(() => traefik.fromUserConfig(`api:\n  dashboard: true\n${conf}`, 'b.yaml', values)).toThrow(/b\.yaml:1: remove the "api:" directive/);
  });
});
