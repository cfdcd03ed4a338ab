import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { envoy, ENVOY_LOG_FORMAT } from './envoy.js';
import { renderInput } from '../../test/helpers/render-input.js';

const input = renderInput();

/* eslint-disable @typescript-eslint/no-explicit-any */
describe('envoy config rendering', () => {
  const out = envoy.render(input);
  const text = out.files['envoy.yaml']!;
  const boot = parse(text) as any;
  const listeners = boot.static_resources.listeners as any[];
  const hcm = listeners[0].filter_chains[0].filters[0].typed_config;
  const routes = hcm.route_config.virtual_hosts[0].routes as any[];
  const clusters = boot.static_resources.clusters as any[];
  const cluster = (id: string) => clusters.find((c) => c.name === `c_${id}`);
  const routeFor = (id: string) => routes.find((r) => r.match.prefix === `/s/${id}/`);
  const endpoint = (id: string) => cluster(id).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address;

  test('one YAML bootstrap; no admin interface; the only listener is the given address', () => {
    expect(out.main).toBe('envoy.yaml');
    expect(boot.admin).toBeUndefined();
    expect(text).not.toMatch(/^\s*admin:/m);
    expect(listeners).toHaveLength(1);
    expect(listeners[0].address).toEqual({ socket_address: { address: '127.0.0.1', port_value: 8080 } });
    // No other socket address than the listener, the upstreams and the resolver.
    const ports = [...text.matchAll(/port_value: (\d+)/g)].map((m) => Number(m[1]));
    expect(new Set(ports)).toEqual(new Set([8080, 9000, 5353]));
  });

  test('readiness is answered by Envoy itself (direct_response 200)', () => {
    expect(routes[0]).toEqual({ match: { path: '/__badgateway/ready' }, direct_response: { status: 200, body: { inline_string: 'ready\n' } } });
  });

  test('one route and one cluster per scenario, by path prefix: address, unix pipe, DNS name', () => {
    expect(routes.slice(1).map((r) => r.match.prefix)).toEqual(['/s/a/', '/s/b/', '/s/c/', '/s/d/', '/s/e/']);
    expect(routes.slice(1).map((r) => r.route.cluster)).toEqual(['c_a', 'c_b', 'c_c', 'c_d', 'c_e']);
    expect(cluster('a').type).toBe('STATIC');
    expect(endpoint('a')).toEqual({ socket_address: { address: '127.0.0.1', port_value: 9000 } });
    expect(endpoint('b')).toEqual({ pipe: { path: '/tmp/run/up.sock' } });
    expect(cluster('c').type).toBe('STRICT_DNS');
    expect(endpoint('c')).toEqual({ socket_address: { address: 'nxdomain.badgateway.test', port_value: 9000 } });
  });

  test('DNS clusters resolve through the given resolver (c-ares), IPv4 only; others carry no resolver', () => {
    const dns = cluster('c').typed_dns_resolver_config;
    expect(dns.name).toBe('envoy.network.dns_resolver.cares');
    expect(dns.typed_config['@type']).toBe('type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig');
    expect(dns.typed_config.resolvers).toEqual([{ socket_address: { address: '127.0.0.1', port_value: 5353 } }]);
    expect(cluster('c').dns_lookup_family).toBe('V4_ONLY');
    expect(cluster('a').typed_dns_resolver_config).toBeUndefined();
  });

  test('timeouts: connect_timeout per cluster, an idle timeout per attempt instead of a whole-response deadline, no retries', () => {
    for (const c of clusters) expect(c.connect_timeout).toBe('1s');
    for (const r of routes.slice(1)) {
      expect(r.route.timeout).toBe('0s');
      expect(r.route.retry_policy).toEqual({ num_retries: 0, per_try_idle_timeout: '1.5s' });
    }
  });

  test('keepalive routes pool upstream connections; others use one connection per request', () => {
    const opts = (id: string) => cluster(id).typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(opts('a').common_http_protocol_options).toEqual({ max_requests_per_connection: 1 });
    expect(opts('d').common_http_protocol_options).toBeUndefined();
    expect(opts('d').explicit_http_config).toEqual({ http_protocol_options: {} });
  });

  test('WebSocket upgrades only on websocket routes', () => {
    expect(hcm.upgrade_configs).toEqual([{ upgrade_type: 'websocket', enabled: false }]);
    expect(routeFor('e').route.upgrade_configs).toEqual([{ upgrade_type: 'websocket', enabled: true }]);
    expect(routeFor('a').route.upgrade_configs).toBeUndefined();
  });

  test('the access log goes to a file under the prefix, with flags, details, transport failure reason and the path', () => {
    const log = hcm.access_log[0].typed_config;
    expect(log.path).toBe('/tmp/p/logs/access.log');
    expect(envoy.logFiles).toEqual(['logs/access.log']);
    const format = log.log_format.text_format_source.inline_string as string;
    expect(format).toBe(ENVOY_LOG_FORMAT);
    for (const op of ['%RESPONSE_FLAGS%', '%RESPONSE_CODE_DETAILS%', '%UPSTREAM_TRANSPORT_FAILURE_REASON%', '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%']) expect(format).toContain(op);
    expect(format.endsWith('\n')).toBe(true);
  });

  test('no resolver given: DNS clusters fall back to the system resolver', () => {
    const b = parse(envoy.render({ ...input, resolver: undefined, routes: input.routes.slice(2, 3) }).files['envoy.yaml']!) as any;
    expect(b.static_resources.clusters[0].typed_dns_resolver_config).toBeUndefined();
  });

  test('args: one worker, no hot restart; validate mode', () => {
    expect(envoy.args('/tmp/p', '/tmp/p/envoy.yaml')).toEqual(['-c', '/tmp/p/envoy.yaml', '--concurrency', '1', '--disable-hot-restart', '--log-level', 'info', '--file-flush-interval-msec', '10']);
    expect(envoy.testArgs('/tmp/p', '/tmp/p/envoy.yaml')).toEqual(['--mode', 'validate', '-c', '/tmp/p/envoy.yaml', '--disable-hot-restart']);
    expect(envoy.defaultImage).toMatch(/^envoyproxy\/envoy:v1\.\d+-latest$/);
    expect(envoy.supportsResolver).not.toBe(false);
  });
});

describe('envoy log parsing', () => {
  // Our format: the default format, then details, transport failure reason and cluster.
  const ours = (code: number, flags: string, details: string, failure = '-') =>
    `[2026-11-24T10:00:00.123Z] "GET /s/x/?bgp=7 HTTP/1.1" ${code} ${flags} 0 91 3 - "-" "-" "0f1e2d3c-aaaa-bbbb-cccc-000000000007" "127.0.0.1:8080" "127.0.0.1:9000" ${details} "${failure}" c_x`;
  const cases: Array<[string, string, string | undefined]> = [
    ['refused', ours(503, 'UF', 'upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}', 'delayed_connect_error:_Connection_refused'), 'connect-refused'],
    ['refused, retries exhausted', ours(503, 'URX,UF', 'upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}', 'delayed_connect_error:_Connection_refused'), 'connect-refused'],
    ['connect timeout', ours(503, 'UF', 'upstream_reset_before_response_started{connection_timeout}'), 'connect-timeout'],
    ['closed before the head', ours(503, 'UC', 'upstream_reset_before_response_started{connection_termination}'), 'upstream-closed-early'],
    ['closed mid-body', ours(200, 'UC', 'upstream_reset_after_response_started{connection_termination}'), 'upstream-truncated'],
    ['remote reset', ours(503, 'UR', 'upstream_reset_before_response_started{remote_reset}'), 'upstream-reset'],
    ['per-try idle timeout', ours(504, 'UT', 'upstream_per_try_idle_timeout'), 'read-timeout'],
    ['response timeout', ours(504, 'UT', 'response_timeout'), 'read-timeout'],
    ['protocol error before the head', ours(502, 'UPE', 'upstream_reset_before_response_started{protocol_error}'), 'invalid-header'],
    ['protocol error mid-body', ours(200, 'UPE', 'upstream_reset_after_response_started{protocol_error}'), 'invalid-chunked'],
    ['no healthy upstream', ours(503, 'UH', 'no_healthy_upstream'), 'no-live-upstreams'],
    ['a normal answer', ours(200, '-', 'via_upstream'), undefined],
    ['the client left', ours(0, 'DC', 'downstream_remote_disconnect'), undefined],
  ];
  test.each(cases)('%s', (_name, line, reason) => {
    const e = envoy.parseLogLine(line)!;
    expect(e.reason).toBe(reason);
    expect(e.target).toBe('/s/x/?bgp=7');
    expect(e.level).toBe(reason ? 'error' : 'info');
  });

  test("Envoy's default format and Istio's (details right after the flags) parse too, for `explain`", () => {
    // The default format has no details: the flag alone says it.
    const dflt = '[2026-11-24T10:00:00.000Z] "GET /hello HTTP/1.1" 503 UF 0 91 0 - "-" "curl/8.5.0" "35e82df8-1262-9404-8ad2-303b8613955c" "helloworld:5000" "10.1.2.31:5000"';
    expect(envoy.parseLogLine(dflt)).toMatchObject({ reason: 'connect-failed', target: '/hello' });
    const istio = '[2023-01-01T14:47:26.285Z] "GET /hello HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} - "delayed_connect_error:_111" 0 145 0 - "-" "curl/7.87.0-DEV" "35e82df8-1262-9404-8ad2-303b8613955c" "helloworld:5000" "10.1.2.31:5000" inbound|5000|| - 10.1.2.31:5000 172.16.9.8:5067 - default';
    expect(envoy.parseLogLine(istio)).toMatchObject({ reason: 'connect-refused', target: '/hello' });
    // With a container-log prefix in front.
    expect(envoy.parseLogLine(`envoy-1 | 2024-07-20T07:09:48.471209278Z ${istio}`)!.reason).toBe('connect-refused');
    // A user agent with lower-case words is not taken for details.
    const ua = '[2026-11-24T10:00:00.000Z] "GET / HTTP/1.1" 503 UC 0 95 1 - "-" "Mozilla/5.0 (X11; Linux x86_64) like Gecko" "r" "h" "10.0.0.2:80" upstream_reset_before_response_started{connection_termination} "-" c';
    expect(envoy.parseLogLine(ua)!.reason).toBe('upstream-closed-early');
  });

  test('other lines are ignored; nginx and HAProxy lines are not mistaken for Envoy ones', () => {
    expect(envoy.parseLogLine('[2026-11-24 10:00:00.000][1][info][main] [source/server/server.cc:900] starting main dispatch loop')).toBeUndefined();
    expect(envoy.parseLogLine('2026/11/24 15:50:00 [error] 1#1: *5 upstream prematurely closed connection while reading response header from upstream')).toBeUndefined();
    expect(envoy.parseLogLine('badgateway 127.0.0.1:5 [24/Nov/2026:10:00:00.000] badgateway be_x/s 0/0/-1/-1/3003 503 217 SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"')).toBeUndefined();
  });
});

describe('envoy user config', () => {
  const values = { listen: { host: '127.0.0.1', port: 8081 }, prefix: '/tmp/q', upstream: { host: '127.0.0.1', port: 9001 }, healthy: { host: '127.0.0.1', port: 9002 } };
  const conf = `static_resources:
  listeners:
  - address: { socket_address: { address: {{listen_host}}, port_value: {{listen_port}} } }
  clusters:
  - name: app
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: {{upstream_host}}, port_value: {{upstream_port}} } } }
        - endpoint: { address: { socket_address: { address: {{healthy_host}}, port_value: {{healthy_port}} } } }
# access log: {{prefix}}/logs/access.log
`;
  test('split host/port placeholders are filled; comments left alone', () => {
    const out = envoy.fromUserConfig(conf, 'envoy.yaml', values).files['envoy.yaml']!;
    expect(out).toContain('address: 127.0.0.1, port_value: 8081');
    expect(out).toContain('address: 127.0.0.1, port_value: 9001');
    expect(out).toContain('address: 127.0.0.1, port_value: 9002');
    expect(out).toContain('# access log: {{prefix}}/logs/access.log');
    expect(parse(out).static_resources.listeners[0].address.socket_address).toEqual({ address: '127.0.0.1', port_value: 8081 });
  });
  test('missing placeholders and an admin block are errors that say what to do', () => {
    expect(() => envoy.fromUserConfig('static_resources: {}\n  address: {{upstream_host}}', 'a.yaml', values)).toThrow(/a\.yaml has no \{\{listen\}\} placeholder.*listen_host/);
    expect(() => envoy.fromUserConfig(`admin:\n  address: x\n${conf}`, 'b.yaml', values)).toThrow(/b\.yaml:1: remove the "admin:" directive/);
  });
});

describe('envoy: checked against the Envoy sources', () => {
  const base = {
    listen: { host: '127.0.0.1', port: 8080 },
    prefix: '/tmp/p',
    resolver: { host: '127.0.0.1', port: 5353 },
    timeouts: { connectMs: 1000, readMs: 1500, sendMs: 1000, resolverMs: 1000 },
    routes: [{ id: 'c', target: { kind: 'dns' as const, name: 'silent.badgateway.test', port: 9000 } }],
  };
  const cares = (resolverMs: number) =>
    (parse(envoy.render({ ...base, timeouts: { ...base.timeouts, resolverMs } }).files['envoy.yaml']!) as any).static_resources.clusters[0].typed_dns_resolver_config.typed_config;

  // CaresDnsResolverConfig.query_timeout_seconds (UInt64Value, >= 1) and query_tries (UInt32Value, >= 1):
  // Envoy's defaults (5 s, 4 tries) would hold startup, which waits for every DNS cluster's first resolution.
  test('c-ares asks once, within the resolver timeout in whole seconds (at least 1)', () => {
    expect(cares(1000)).toMatchObject({ query_timeout_seconds: 1, query_tries: 1 });
    expect(cares(2500)).toMatchObject({ query_timeout_seconds: 3, query_tries: 1 });
    expect(cares(200)).toMatchObject({ query_timeout_seconds: 1, query_tries: 1 });
  });

  // ResponseCodeDetailValues: ResponseTimeout = "response_timeout" (route timeout), UpstreamPerTryTimeout,
  // UpstreamPerTryIdleTimeout; there is no "upstream_response_timeout".
  test('timeout details read as read-timeout even without the UT flag', () => {
    const line = (details: string) => `[2026-11-24T10:00:00.000Z] "GET /s/x/?bgp=1 HTTP/1.1" 504 - 0 24 1500 - "-" "-" "r" "127.0.0.1:8080" "127.0.0.1:9000" ${details} "-" c_x`;
    for (const d of ['response_timeout', 'upstream_per_try_timeout', 'upstream_per_try_idle_timeout']) expect(envoy.parseLogLine(line(d))!.reason, d).toBe('read-timeout');
    expect(envoy.parseLogLine(line('upstream_response_timeout'))!.reason).toBeUndefined();
  });

  // --file-flush-interval-msec defaults to 10000: access-log lines would reach the file up to 10 s late.
  test('access-log lines are flushed within milliseconds', () => {
    const args = envoy.args('/tmp/p', '/tmp/p/envoy.yaml');
    const i = args.indexOf('--file-flush-interval-msec');
    expect(i).toBeGreaterThan(-1);
    expect(Number(args[i + 1])).toBeLessThanOrEqual(50);
  });
});
