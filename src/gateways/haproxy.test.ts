import { describe, expect, test } from 'vitest';
import { haproxy } from './haproxy.js';
import { renderInput } from '../../test/helpers/render-input.js';

const input = renderInput({ logSink: { host: '127.0.0.1', port: 5514 } });

describe('haproxy config rendering', () => {
  const out = haproxy.render(input);
  const conf = out.files['haproxy.cfg']!;

  test("one config file; the pid file under the prefix; raw logs to the harness's syslog socket; no stats page or admin socket", () => {
    expect(out.main).toBe('haproxy.cfg');
    expect(conf).toContain('pidfile /tmp/p/haproxy.pid');
    expect(conf).toContain('log 127.0.0.1:5514 format raw local0 info');
    expect(conf).not.toContain('log stdout');
    expect(conf).not.toMatch(/^\s*stats\b/m);
    expect(conf).not.toMatch(/^\s*daemon\b/m);
    expect(conf).not.toMatch(/^\s*retries\b/m);
    expect(haproxy.logFiles).toEqual(['logs/haproxy.log']);
    expect(haproxy.syslogFile).toBe('logs/haproxy.log');
    // No socket, no logs: rendering without one is a bug in the caller.
    expect(() => haproxy.render({ ...input, logSink: undefined })).toThrow(/logSink is required/);
  });

  test('the only listener is the given address; readiness is answered by HAProxy itself', () => {
    expect(conf.match(/^\s*bind .*$/gm)).toEqual(['  bind 127.0.0.1:8080']);
    expect(conf).toContain('http-request return status 200 content-type text/plain string "ready" if { path /__badgateway/ready }');
  });

  test('one backend per route, chosen by path prefix: by address, unix socket and DNS name', () => {
    expect(conf).toContain('use_backend be_a if { path_beg /s/a/ }');
    expect(conf).toMatch(/backend be_a\n[^\n]*\n  server s 127\.0\.0\.1:9000\n/);
    expect(conf).toContain('server s unix@/tmp/run/up.sock');
    expect(conf).toContain('server s nxdomain.badgateway.test:9000 resolvers badgateway init-addr none resolve-prefer ipv4');
    expect(conf).toMatch(/resolvers badgateway\n  nameserver ns 127\.0\.0\.1:5353\n/);
  });

  test('keepalive routes share server connections; others use one per request', () => {
    expect(conf).toMatch(/backend be_d\n  http-reuse always\n/);
    expect(conf).toMatch(/backend be_a\n  option http-server-close\n/);
    expect(conf).toMatch(/backend be_e\n  option http-server-close\n/);
  });

  test('timeouts in seconds or milliseconds; no resolvers section without a resolver', () => {
    expect(conf).toContain('timeout connect 1s');
    expect(conf).toContain('timeout server 1500ms');
    const noDns = haproxy.render({ ...input, resolver: undefined, routes: input.routes.slice(0, 1) }).files['haproxy.cfg']!;
    expect(noDns).not.toContain('resolvers');
  });

  test('FastCGI routes: one fcgi-app (REQUEST_URI built by HAProxy, STDERR logged), use-fcgi-app and proto fcgi on the server', () => {
    const fcgi = haproxy.render({
      ...input,
      routes: [
        { id: 'f', protocol: 'fastcgi', target: { kind: 'tcp', host: '127.0.0.1', port: 9100 } },
        { id: 'g', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/fastcgi.sock' } },
        { id: 'a', target: { kind: 'tcp', host: '127.0.0.1', port: 9000 } },
      ],
    }).files['haproxy.cfg']!;
    expect(fcgi.match(/^fcgi-app /gm)).toEqual(['fcgi-app ']);
    expect(fcgi).toMatch(/^fcgi-app badgateway\n  docroot \/tmp\/p\/htdocs\n  path-info \^\(\/\.\+\\\.php\)\(\/\.\*\)\?\$\n  log-stderr global\n/m);
    expect(fcgi).toMatch(/backend be_f\n  use-fcgi-app badgateway\n  server s 127\.0\.0\.1:9100 proto fcgi\n/);
    expect(fcgi).toMatch(/backend be_g\n  use-fcgi-app badgateway\n  server s unix@\/tmp\/run\/fastcgi\.sock proto fcgi\n/);
    // The HTTP route beside them is untouched; the run's timeouts govern both (timeout connect / server).
    expect(fcgi).toMatch(/backend be_a\n  option http-server-close\n  server s 127\.0\.0\.1:9000\n/);
    expect(fcgi).toContain('timeout server 1500ms');
    expect(conf).not.toContain('fcgi-app');
    expect(haproxy.supportsFastcgi).toBe(true);
    expect(fcgi).not.toContain('set-param');
    // A real php-fpm route names its script: set in the shared fcgi-app for that route's path only.
    const own = haproxy.render({ ...input, routes: [{ id: 'p', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/fpm.sock' }, scriptFilename: '/tmp/run/b/app.php' }] }).files['haproxy.cfg']!;
    expect(own).toMatch(/  log-stderr global\n  set-param SCRIPT_FILENAME \/tmp\/run\/b\/app\.php if \{ path_beg \/s\/p\/ \}\n/);
  });

  test('args keep it in the foreground; the version is parsed from -v, in either spelling', () => {
    expect(haproxy.args('/tmp/p', '/tmp/p/haproxy.cfg')).toEqual(['-db', '-f', '/tmp/p/haproxy.cfg']);
    expect(haproxy.testArgs('/tmp/p', '/tmp/p/haproxy.cfg')).toEqual(['-c', '-q', '-f', '/tmp/p/haproxy.cfg']);
    expect(haproxy.parseVersion('HA-Proxy version 2.4.22 2023/02/14')).toBe('2.4.22');
  });
});

describe('haproxy log parsing', () => {
  // Lines captured from HAProxy 2.6.12 (Debian bookworm) running the built-in suite.
  const cases: Array<[string, string | undefined, string]> = [
    ['badgateway 127.0.0.1:49948 [24/Nov/2026:16:57:39.537] badgateway be_connect-refused/s 0/0/-1/-1/3017 503 217 SC-- 2/2/0/0/3 0/0 "GET /s/connect-refused/?bgp=8 HTTP/1.1"', 'connect-refused', '/s/connect-refused/?bgp=8'],
    ['badgateway 127.0.0.1:49912 [24/Nov/2026:16:57:39.532] badgateway be_accept-queue-full/s 0/0/-1/-1/4009 503 217 sC-- 1/1/0/0/3 0/0 "GET /s/accept-queue-full/?bgp=1 HTTP/1.1"', 'connect-timeout', '/s/accept-queue-full/?bgp=1'],
    ['badgateway 127.0.0.1:50248 [24/Nov/2026:16:57:39.547] badgateway be_never-respond/s 0/0/7/-1/1007 504 198 sH-- 7/7/0/0/0 0/0 "GET /s/never-respond/?bgp=68 HTTP/1.1"', 'read-timeout', '/s/never-respond/?bgp=68'],
    ['badgateway 127.0.0.1:49938 [24/Nov/2026:16:57:39.534] badgateway be_body-short-hold-open/s 0/0/0/40/1041 200 152 sD-- 4/4/0/0/0 0/0 "GET /s/body-short-hold-open/?bgp=6 HTTP/1.1"', 'read-timeout', '/s/body-short-hold-open/?bgp=6'],
    ['badgateway 127.0.0.1:50042 [24/Nov/2026:16:57:39.538] badgateway be_empty-reply/s 0/0/13/-1/59 502 209 SH-- 36/36/0/0/0 0/0 "GET /s/empty-reply/?bgp=27 HTTP/1.1"', 'upstream-closed-early', '/s/empty-reply/?bgp=27'],
    ['badgateway 127.0.0.1:49926 [24/Nov/2026:16:57:39.533] badgateway be_body-cut-fin-length/s 0/0/0/33/61 200 152 SD-- 37/37/0/0/0 0/0 "GET /s/body-cut-fin-length/?bgp=3 HTTP/1.1"', 'upstream-truncated', '/s/body-cut-fin-length/?bgp=3'],
    ['badgateway 127.0.0.1:50074 [24/Nov/2026:16:57:39.547] badgateway be_header-no-colon/s 0/0/7/-1/65 502 209 PH-- 28/28/0/0/0 0/0 "GET /s/header-no-colon/?bgp=30 HTTP/1.1"', 'invalid-header', '/s/header-no-colon/?bgp=30'],
    ['badgateway 127.0.0.1:49986 [24/Nov/2026:16:57:39.537] badgateway be_dns-nxdomain/<NOSRV> 0/-1/-1/-1/0 503 217 SC-- 49/49/0/0/0 0/0 "GET /s/dns-nxdomain/?bgp=21 HTTP/1.1"', 'no-live-upstreams', '/s/dns-nxdomain/?bgp=21'],
    ['badgateway 127.0.0.1:50218 [24/Nov/2026:16:57:39.547] badgateway be_keepalive-stale-post/s 0/0/7/67/74 200 52 ---- 21/21/0/0/0 0/0 "POST /s/keepalive-stale-post/?bgp=55 HTTP/1.1"', undefined, '/s/keepalive-stale-post/?bgp=55'],
  ];
  test.each(cases)('%s', (line, reason, target) => {
    const e = haproxy.parseLogLine(line)!;
    expect(e.reason).toBe(reason);
    expect(e.target).toBe(target);
    expect(e.level).toBe(reason ? 'error' : 'info');
    // Lines without a request (DNS state changes) follow the last request through the same backend.
    expect(e.connection).toMatch(/^be_/);
  });

  // Lines from HAProxy 2.6.12 (bookworm), 3.0.11 (trixie) and 3.2.26 (sid) with fcgi-app, through the fcgi-* faults.
  test.each([
    ['badgateway 127.0.0.1:51154 [01/Dec/2026:20:25:39.812] badgateway be_t/s 0/0/1/-1/2 502 209 SH-- 1/1/0/0/0 0/0 "GET /fcgi-reset-after-params?bgp=11 HTTP/1.1"', 'upstream-closed-early'],
    ['badgateway 127.0.0.1:55446 [01/Dec/2026:20:29:31.826] badgateway be_t/s 0/0/0/-1/9 502 209 SH-- 1/1/0/0/0 0/0 "GET /fcgi-bad-type?bgp=2 HTTP/1.1"', 'upstream-closed-early'],
    ['badgateway 127.0.0.1:36040 [01/Dec/2026:20:25:26.696] badgateway be_t/s 0/0/0/4/4 200 71 SD-- 1/1/0/0/0 0/0 "GET /fcgi-bad-version?bgp=3 HTTP/1.1"', 'upstream-truncated'],
    ['badgateway 127.0.0.1:36046 [01/Dec/2026:20:25:27.758] badgateway be_t/s 0/0/1/-1/2003 504 198 sH-- 1/1/0/0/0 0/0 "GET /fcgi-end-without-stdout?bgp=4 HTTP/1.1"', 'read-timeout'],
    ['badgateway 127.0.0.1:36056 [01/Dec/2026:20:25:30.764] badgateway be_t/s 0/0/0/-1/8 502 209 PH-- 1/1/0/0/0 0/0 "GET /fcgi-invalid-header-line?bgp=5 HTTP/1.1"', 'invalid-header'],
    ['badgateway 127.0.0.1:43492 [01/Dec/2026:20:27:35.348] badgateway be_t/s 0/0/0/-1/93 502 209 PH-- 1/1/0/0/0 0/0 "GET /fcgi-huge-header?bgp=1 HTTP/1.1"', 'invalid-header'],
    // The Status "2OO" read digit by digit ('O' - '0' = 31): HAProxy logs 541 and relays "2OO" to the client.
    ['badgateway 127.0.0.1:51156 [01/Dec/2026:20:25:40.805] badgateway be_t/s 0/0/1/9/11 541 72 ---- 1/1/0/0/0 0/0 "GET /fcgi-status-garbage?bgp=12 HTTP/1.1"', undefined],
  ])('FastCGI: %s', (line, reason) => {
    expect(haproxy.parseLogLine(line)?.reason).toBe(reason);
  });

  test("FastCGI STDERR under log-stderr is a bare line naming no request: not HAProxy's to explain", () => {
    expect(haproxy.parseLogLine('Primary script unknown')).toBeUndefined();
  });

  test('resolver state changes become dns-* reasons, once (the stderr copy is not counted)', () => {
    const raw = 'Server be_dns-flapping/s is going DOWN for maintenance (DNS NX status). 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';
    const e = haproxy.parseLogLine(raw)!;
    expect(e.reason).toBe('dns-nxdomain');
    expect(e.connection).toBe('be_dns-flapping');
    expect(e.target).toBeUndefined();
    expect(haproxy.parseLogLine(`[WARNING]  (2073) : ${raw}`)).toBeUndefined();
    expect(haproxy.parseLogLine('Server be_x/s is going DOWN for maintenance (DNS timeout status).')!.reason).toBe('dns-timeout');
  });

  test("HAProxy's standard httplog lines (syslog prefix, cookies, captured headers) parse too, for `explain`", () => {
    const e = haproxy.parseLogLine('Nov 24 10:00:00 lb1 haproxy[812]: 10.0.0.7:51234 [24/Nov/2026:10:00:00.120] www app/web2 0/0/1/-1/3 502 209 - - SH-- 3/3/0/0/0 0/0 {example.test} {} "GET /cart?id=4 HTTP/1.1"')!;
    expect(e.reason).toBe('upstream-closed-early');
    expect(e.target).toBe('/cart?id=4');
    expect(e.connection).toBe('app');
    expect(haproxy.parseLogLine('Nov 24 10:00:00 lb1 haproxy[812]: 10.0.0.7:51235 [24/Nov/2026:10:00:01.000] www app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')!.reason).toBe('no-live-upstreams');
  });

  test('other lines are ignored; nginx error-log lines are not mistaken for HAProxy ones', () => {
    expect(haproxy.parseLogLine('[NOTICE]   (2073) : haproxy version is 2.6.12-1+deb12u4')).toBeUndefined();
    expect(haproxy.parseLogLine('2026/11/24 15:50:00 [error] 1#1: *5 upstream prematurely closed connection while reading response header from upstream')).toBeUndefined();
  });
});

describe('haproxy user config', () => {
  const values = { listen: { host: '127.0.0.1', port: 8081 }, prefix: '/tmp/q', upstream: { host: '127.0.0.1', port: 9001 }, healthy: { host: '127.0.0.1', port: 9002 }, logSink: { host: '127.0.0.1', port: 5515 } };
  test('placeholders are filled, comments left alone, pid file and logging set by badgateway', () => {
    const conf = haproxy.fromUserConfig('# uses {{whatever}}\nfrontend f\n  bind {{listen}}\n  default_backend b\nbackend b\n  server s1 {{upstream}}\n  server s2 {{healthy}} backup\n', 'my.cfg', values).files['haproxy.cfg']!;
    expect(conf).toContain('bind 127.0.0.1:8081');
    expect(conf).toContain('server s1 127.0.0.1:9001');
    expect(conf).toContain('server s2 127.0.0.1:9002 backup');
    expect(conf).toContain('# uses {{whatever}}');
    expect(conf).toContain('pidfile /tmp/q/haproxy.pid');
    // The global section comes first, so proxies that say `log global` log to the same socket.
    expect(conf).toMatch(/^# badgateway: my\.cfg[^\n]*\nglobal\n  pidfile \/tmp\/q\/haproxy\.pid\n  log 127\.0\.0\.1:5515 format raw local0 info\n/);
  });
  test('missing placeholders and daemon / stats socket are errors that say what to do', () => {
    expect(() => haproxy.fromUserConfig('frontend f\n  bind {{listen}}\n', 'a.cfg', values)).toThrow(/a\.cfg has no \{\{upstream\}\} placeholder/);
    expect(() => haproxy.fromUserConfig('global\n  daemon\nfrontend f\n  bind {{listen}}\n  server s {{upstream}}', 'c.cfg', values)).toThrow(/c\.cfg:2: remove the "daemon" directive/);
    expect(() => haproxy.fromUserConfig('global\n  stats socket /run/x\n bind {{listen}} {{upstream}}', 'd.cfg', values)).toThrow(/d\.cfg:2: remove the "stats socket"/);
  });
});
