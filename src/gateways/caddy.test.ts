import { describe, expect, test } from 'vitest';
import { InputError } from '../errors.js';
import { caddy, caddyReasonOf } from './caddy.js';
import { renderInput, ROUTE_WEBSOCKET } from '../../test/helpers/render-input.js';

// Route e by IPv6 address.
const input = renderInput({ replace: { e: { ...ROUTE_WEBSOCKET, target: { kind: 'tcp', host: '::1', port: 9000 } } } });

interface Route {
  match: Array<{ path: string[] }>;
  handle: Array<Record<string, unknown> & { handler: string; upstreams?: Array<{ dial: string }>; transport?: Record<string, unknown> }>;
  terminal: boolean;
}

describe('caddy config rendering', () => {
  const out = caddy.render(input);
  const conf = JSON.parse(out.files['caddy.json']!) as {
    admin: { disabled: boolean; config: { persist: boolean } };
    storage: { root: string };
    logging: { logs: { default: { writer: { filename: string }; encoder: { format: string }; level: string } } };
    apps: { http: { servers: Record<string, { listen: string[]; automatic_https: { disable: boolean }; logs: object; routes: Route[] }> } };
  };
  const servers = Object.values(conf.apps.http.servers);
  const routes = servers[0]!.routes;
  const proxy = (id: string) => routes.find((r) => r.match[0]!.path[0] === `/s/${id}/*`)!.handle[0]!;

  test('JSON config: admin endpoint off, nothing persisted, storage and logs under the prefix, JSON logs', () => {
    expect(out.main).toBe('caddy.json');
    expect(conf.admin).toEqual({ disabled: true, config: { persist: false } });
    expect(conf.storage.root).toBe('/tmp/p/data');
    expect(conf.logging.logs.default.writer.filename).toBe('/tmp/p/logs/caddy.log');
    expect(conf.logging.logs.default.encoder.format).toBe('json');
    expect(caddy.logFiles).toEqual(['logs/caddy.log']);
    // Home and XDG directories point into the prefix, so Caddy writes nothing outside it.
    expect(caddy.env!('/tmp/p')).toEqual({ HOME: '/tmp/p', XDG_DATA_HOME: '/tmp/p/data', XDG_CONFIG_HOME: '/tmp/p/config' });
  });

  test('one server on the given address only, no automatic HTTPS, access logs on; readiness answered by Caddy itself', () => {
    expect(servers).toHaveLength(1);
    expect(servers[0]!.listen).toEqual(['127.0.0.1:8080']);
    expect(servers[0]!.automatic_https.disable).toBe(true);
    expect(servers[0]!.logs).toEqual({});
    expect(routes[0]).toEqual({ match: [{ path: ['/__badgateway/ready'] }], handle: [{ handler: 'static_response', status_code: 200, body: 'ready' }], terminal: true });
  });

  test('one terminal reverse_proxy route per scenario: by address, unix socket, DNS name (through the responder), IPv6', () => {
    expect(routes).toHaveLength(1 + input.routes.length);
    expect(routes.every((r) => r.terminal)).toBe(true);
    expect(proxy('a').upstreams).toEqual([{ dial: '127.0.0.1:9000' }]);
    expect(proxy('b').upstreams).toEqual([{ dial: 'unix//tmp/run/up.sock' }]);
    expect(proxy('c').upstreams).toEqual([{ dial: 'nxdomain.badgateway.test:9000' }]);
    expect(proxy('c').transport!.resolver).toEqual({ addresses: ['udp/127.0.0.1:5353'] });
    expect(proxy('a').transport!.resolver).toBeUndefined();
    expect(proxy('e').upstreams).toEqual([{ dial: '[::1]:9000' }]);
  });

  test('timeouts from the run; a connection pool only on keepalive routes', () => {
    const t = proxy('a').transport!;
    expect(t).toMatchObject({ protocol: 'http', dial_timeout: '1s', response_header_timeout: '1500ms', read_timeout: '1500ms', write_timeout: '1s' });
    expect(t.keep_alive).toEqual({ enabled: false });
    expect(proxy('d').transport!.keep_alive).toEqual({ enabled: true, max_idle_conns_per_host: 8 });
  });

  test('FastCGI routes: transport fastcgi to a port or a unix socket, split at .php, the run timeouts; no HTTP settings', () => {
    const fcgi = JSON.parse(
      caddy.render({
        ...input,
        routes: [
          { id: 'f', protocol: 'fastcgi', target: { kind: 'tcp', host: '127.0.0.1', port: 9100 } },
          { id: 'g', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/fastcgi.sock' } },
        ],
      }).files['caddy.json']!,
    ) as typeof conf;
    const r = Object.values(fcgi.apps.http.servers)[0]!.routes;
    const h = (id: string) => r.find((x) => x.match[0]!.path[0] === `/s/${id}/*`)!.handle[0]!;
    expect(h('f').upstreams).toEqual([{ dial: '127.0.0.1:9100' }]);
    expect(h('g').upstreams).toEqual([{ dial: 'unix//tmp/run/fastcgi.sock' }]);
    for (const id of ['f', 'g']) {
      // Caddy's fastcgi transport always sends REQUEST_URI (the client's URI with its query) and QUERY_STRING.
      expect(h(id).transport).toEqual({ protocol: 'fastcgi', root: '/tmp/p/htdocs', split_path: ['.php'], dial_timeout: '1s', read_timeout: '1500ms', write_timeout: '1s' });
    }
    expect(caddy.supportsFastcgi).toBe(true);
    // A real php-fpm route names its script: the transport's env overrides the SCRIPT_FILENAME Caddy builds.
    const own = JSON.parse(caddy.render({ ...input, routes: [{ id: 'p', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/fpm.sock' }, scriptFilename: '/tmp/run/b/app.php' }] }).files['caddy.json']!) as typeof conf;
    expect(Object.values(own.apps.http.servers)[0]!.routes[1]!.handle[0]!.transport!.env).toEqual({ SCRIPT_FILENAME: '/tmp/run/b/app.php' });
    expect(h('f').transport!.env).toBeUndefined();
  });

  test('run and validate: JSON needs no adapter, a Caddyfile names its adapter; a bare version parses', () => {
    expect(caddy.args('/tmp/p', '/tmp/p/caddy.json')).toEqual(['run', '--config', '/tmp/p/caddy.json']);
    expect(caddy.testArgs('/tmp/p', '/tmp/p/Caddyfile')).toEqual(['validate', '--config', '/tmp/p/Caddyfile', '--adapter', 'caddyfile']);
    expect(caddy.parseVersion('2.6.2\n')).toBe('2.6.2');
  });

  test('the version names the Go toolchain from build-info, which decides part of what Caddy does', () => {
    expect(caddy.buildInfoArgs).toEqual(['build-info']);
    // Debian's build: `caddy version` is bare and build-info has no module line.
    expect(caddy.parseVersion('2.6.2\n\ngo\tgo1.24.4\npath\tgithub.com/caddyserver/caddy/v2/cmd/caddy\nbuild\t-compiler=gc\n')).toBe('2.6.2+go1.24.4');
    // Caddy's own build: the version has its hash, build-info lists modules after the toolchain.
    expect(caddy.parseVersion('v2.8.4 h1:q3pe0wpBj1OcHFZ3n/1nl4V4bxBrYoSoab7rL9BMYNk=\n\ngo\tgo1.22.5\npath\tcaddy\nmod\tcaddy\t(devel)\ndep\tgithub.com/caddyserver/caddy/v2\tv2.8.4\n')).toBe('2.8.4+go1.22.5');
    // A go line elsewhere does not count as the toolchain, and a first line that is no version reads as none.
    expect(caddy.parseVersion('2.11.4\n\nbuild\tgo go1.99\n')).toBe('2.11.4');
    expect(caddy.parseVersion('go\tgo1.24.4\n')).toBeUndefined();
  });
});

describe('caddy log parsing', () => {
  // Lines captured from Caddy 2.6.2 (Debian bookworm) running the built-in suite.
  const err = (msg: string, uri = '/s/x/?bgp=3') =>
    JSON.stringify({ level: 'error', ts: 1795545232.89, logger: 'http.log.error', msg, request: { remote_ip: '127.0.0.1', remote_port: '47596', proto: 'HTTP/1.1', method: 'GET', host: 'badgateway', uri }, duration: 0.004, status: 502, err_id: 'ab12', err_trace: 'reverseproxy.statusError (reverseproxy.go:1272)' });

  test('an error line names its request and carries the Go error as the reason', () => {
    const e = caddy.parseLogLine(err('dial tcp 127.0.0.1:42687: connect: connection refused', '/s/connect-refused/?bgp=8'))!;
    expect(e.level).toBe('error');
    expect(e.target).toBe('/s/connect-refused/?bgp=8');
    expect(e.reason).toBe('connect-refused');
  });

  test.each([
    ['dial tcp 127.0.0.1:42123: i/o timeout', 'connect-timeout'],
    ['net/http: timeout awaiting response headers', 'read-timeout'],
    ['EOF', 'upstream-closed-early'],
    ['net/http: HTTP/1.x transport connection broken: unexpected EOF', 'upstream-closed-early'],
    ['readfrom tcp 127.0.0.1:49596->127.0.0.1:39905: write tcp 127.0.0.1:49596->127.0.0.1:39905: use of closed network connection', 'upstream-closed-early'],
    ['read tcp 127.0.0.1:49254->127.0.0.1:39905: read: connection reset by peer', 'upstream-reset'],
    ['net/http: HTTP/1.x transport connection broken: malformed HTTP status code "2OO"', 'invalid-status'],
    ['net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x15\\x03\\x03\\x00\\x02\\x02("', 'no-valid-http'],
    ['net/http: HTTP/1.x transport connection broken: malformed MIME header: missing colon: "X-Broken-Header-Without-Colon"', 'invalid-header'],
    ['net/http: HTTP/1.x transport connection broken: http: message cannot contain multiple Content-Length headers; got ["2" "5"]', 'duplicate-header'],
    ['net/http: HTTP/1.x transport connection broken: net/http: server response headers exceeded 1024 bytes; aborted', 'header-too-big'],
    ['dial tcp: lookup nxdomain.badgateway.test on 10.255.255.53:53: no such host', 'dns-nxdomain'],
    ['dial tcp: lookup servfail.badgateway.test on 10.255.255.53:53: server misbehaving', 'dns-failed'],
    ['dial tcp: lookup silent.badgateway.test: i/o timeout', 'dns-timeout'],
    ['no upstreams available', 'no-live-upstreams'],
    // transfer.go's framing errors: the response head is refused, as for a malformed header.
    ['net/http: HTTP/1.x transport connection broken: bad Content-Length "abc"', 'invalid-header'],
    ['net/http: HTTP/1.x transport connection broken: unsupported transfer encoding: "gzip"', 'invalid-header'],
    ['net/http: HTTP/1.x transport connection broken: too many transfer encodings: ["chunked" "chunked"]', 'invalid-header'],
    ['net/http: HTTP/1.x transport connection broken: invalid Content-Length "-1"', 'invalid-header'],
    ['net/http: HTTP/1.x transport connection broken: malformed HTTP version "HTTP/9"', 'invalid-status'],
  ])('%s → %s', (msg, reason) => {
    expect(caddyReasonOf(msg)).toBe(reason);
    expect(caddy.parseLogLine(err(msg))!.reason).toBe(reason);
  });

  // Lines from Caddy 2.6.2 (Go 1.19 and 1.24) and 2.11.4, reverse_proxy with transport fastcgi, through the fcgi-* faults.
  test.each([
    ['fcgi: invalid header version', 'fastcgi-invalid-record'],
    ['strconv.Atoi: parsing "2OO": invalid syntax', 'invalid-status'],
    ['malformed MIME header: missing colon: "this line has no colon"', 'invalid-header'],
    ['malformed MIME header: missing colon: "unknown!"', 'invalid-header'],
    ['read tcp 127.0.0.1:51172->127.0.0.1:19300: i/o timeout', 'read-timeout'],
    ['read unix @->/tmp/a2/fcgi.sock: i/o timeout', 'read-timeout'],
    ['EOF', 'upstream-closed-early'],
  ])('FastCGI: %s → %s', (msg, reason) => {
    expect(caddy.parseLogLine(err(msg))!.reason).toBe(reason);
  });

  test('FastCGI: a Status code strconv cannot read is invalid-status only in that exact shape', () => {
    expect(caddyReasonOf('strconv.Atoi: parsing "2OO": invalid syntax')).toBe('invalid-status');
    expect(caddyReasonOf('strconv.Atoi: parsing "99999999999999999999": value out of range')).toBeUndefined();
    expect(caddyReasonOf('fcgi: something else')).toBeUndefined();
  });

  test('a real 2.11.4 error line (client_ip in the request) names its request', () => {
    const line =
      '{"level":"error","ts":1796156684.308416,"logger":"http.log.error","msg":"fcgi: invalid header version","request":{"remote_ip":"127.0.0.1","remote_port":"56080","client_ip":"127.0.0.1","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:19310","uri":"/fcgi-bad-version?bgp=3","headers":{"Accept":["*/*"]}},"duration":0.015011151,"status":502,"err_id":"si6btkh9r","err_trace":"reverseproxy.statusError (reverseproxy.go:1626)"}';
    expect(caddy.parseLogLine(line)).toMatchObject({ level: 'error', target: '/fcgi-bad-version?bgp=3', reason: 'fastcgi-invalid-record' });
  });

  test('an inner error not in the table gets no reason, not upstream-closed-early', () => {
    for (const msg of ['net/http: HTTP/1.x transport connection broken: http: some new framing error', 'net/http: HTTP/1.x transport connection broken: something else entirely']) {
      expect(caddyReasonOf(msg), msg).toBeUndefined();
      expect(caddy.parseLogLine(err(msg)), msg).toMatchObject({ level: 'error', target: '/s/x/?bgp=3', reason: undefined });
    }
  });

  test('a failed attempt at debug level carries its error and request (retries show up)', () => {
    const line = JSON.stringify({ level: 'debug', logger: 'http.handlers.reverse_proxy', msg: 'upstream roundtrip', upstream: '127.0.0.1:9000', duration: 1.0, request: { uri: '/s/never-respond/?bgp=68' }, error: 'net/http: timeout awaiting response headers' });
    expect(caddy.parseLogLine(line)).toMatchObject({ level: 'debug', target: '/s/never-respond/?bgp=68', reason: 'read-timeout' });
  });

  test('a mid-body failure is a cut body, whatever the Go error says; before 2.7.6 it names no request', () => {
    const abort = (e: string) => JSON.stringify({ level: 'error', ts: 1, logger: 'http.handlers.reverse_proxy', msg: 'aborting with incomplete response', error: e });
    expect(caddy.parseLogLine(abort('unexpected EOF'))).toMatchObject({ reason: 'upstream-truncated', target: undefined });
    expect(caddy.parseLogLine(abort('read tcp 127.0.0.1:33704->127.0.0.1:18090: read: connection reset by peer'))!.reason).toBe('upstream-reset');
    expect(caddy.parseLogLine(abort('read tcp 127.0.0.1:33722->127.0.0.1:18090: i/o timeout'))!.reason).toBe('read-timeout');
    expect(caddy.parseLogLine(abort('invalid byte in chunk length'))!.reason).toBe('invalid-chunked');
    const reading = JSON.stringify({ level: 'error', logger: 'http.handlers.reverse_proxy', msg: 'reading from backend', error: 'unexpected EOF' });
    expect(caddy.parseLogLine(reading)!.reason).toBe('upstream-truncated');
  });

  test('mid-body, newer Caddy\'s "reading: " prefix is stripped before the error is mapped', () => {
    // 2.7 and later: the line names the request and prefixes an upstream read error.
    const abort = (e: string) =>
      JSON.stringify({ level: 'error', ts: 1795545232.89, logger: 'http.handlers.reverse_proxy', msg: 'aborting with incomplete response', upstream: '127.0.0.1:39905', duration: 0.012, request: { remote_ip: '127.0.0.1', remote_port: '47596', proto: 'HTTP/1.1', method: 'GET', host: 'badgateway', uri: '/s/body-cut-reset-length/?bgp=9' }, error: e });
    expect(caddy.parseLogLine(abort('reading: unexpected EOF'))).toMatchObject({ reason: 'upstream-truncated', target: '/s/body-cut-reset-length/?bgp=9' });
    expect(caddy.parseLogLine(abort('reading: read tcp 127.0.0.1:49254->127.0.0.1:39905: read: connection reset by peer'))!.reason).toBe('upstream-reset');
    expect(caddy.parseLogLine(abort('reading: read tcp 127.0.0.1:49254->127.0.0.1:39905: i/o timeout'))!.reason).toBe('read-timeout');
    expect(caddy.parseLogLine(abort('reading: invalid byte in chunk length'))!.reason).toBe('invalid-chunked');
  });

  test('mid-body, a client that went away (a failed write to it, a canceled context) is no upstream reason', () => {
    const abort = (e: string, msg = 'aborting with incomplete response') =>
      JSON.stringify({ level: 'error', ts: 1795545232.89, logger: 'http.handlers.reverse_proxy', msg, upstream: '127.0.0.1:39905', duration: 0.5, error: e });
    for (const e of [
      'reading: context canceled',
      'context canceled',
      'writing: write tcp 127.0.0.1:8080->127.0.0.1:5555: write: broken pipe',
      'writing: write tcp 127.0.0.1:8080->127.0.0.1:5555: write: connection reset by peer',
      // 2.6: a write to the client, unprefixed; "connection reset by peer" here is the client's RST, not the upstream's.
      'write tcp 127.0.0.1:8080->127.0.0.1:5555: write: connection reset by peer',
      'write tcp 127.0.0.1:8080->127.0.0.1:5555: write: broken pipe',
    ]) {
      expect(caddy.parseLogLine(abort(e)), e).toMatchObject({ level: 'error', reason: undefined });
      expect(caddy.parseLogLine(abort(e, 'reading from backend')), e).toMatchObject({ level: 'error', reason: undefined });
    }
  });

  test('access lines name the request and carry no reason; other lines and non-JSON are ignored or reasonless', () => {
    const access = JSON.stringify({ level: 'error', logger: 'http.log.access', msg: 'handled request', request: { uri: '/s/a/?bgp=1' }, status: 502, size: 0 });
    expect(caddy.parseLogLine(access)).toEqual({ raw: access, level: 'access', target: '/s/a/?bgp=1' });
    expect(caddy.parseLogLine('{"level":"info","ts":1,"logger":"http.log","msg":"server running","name":"badgateway"}')).toBeUndefined();
    expect(caddy.parseLogLine('{"level":"info","ts":1,"msg":"using provided configuration"}')).toBeUndefined();
    expect(caddy.parseLogLine('not json at all')).toBeUndefined();
    // A JSON line without a logger is some other program's (Traefik logs JSON too).
    expect(caddy.parseLogLine('{"level":"error","error":"dial tcp 10.0.0.2:80: connect: connection refused","msg":"502 Bad Gateway"}')).toBeUndefined();
    expect(caddy.parseLogLine('{broken')).toBeUndefined();
  });

  test('a line pasted with a journald or docker prefix before the JSON still parses', () => {
    expect(caddy.parseLogLine(`Nov 24 18:33:52 host caddy[123]: ${err('EOF')}`)!.reason).toBe('upstream-closed-early');
  });
});

describe('caddy user config (a Caddyfile)', () => {
  const v = { listen: { host: '127.0.0.1', port: 8080 }, prefix: '/tmp/p', upstream: { host: '127.0.0.1', port: 9000 }, healthy: { host: '127.0.0.1', port: 9001 } };

  test('placeholders filled; our global options (admin off, JSON logs under the prefix) come first', () => {
    const out = caddy.fromUserConfig('http://{{listen}} {\n\treverse_proxy {{upstream}}\n}\n', 'Caddyfile', v);
    expect(out.main).toBe('Caddyfile');
    const text = out.files.Caddyfile!;
    expect(text).toMatch(/^# badgateway: Caddyfile with its placeholders filled in\.\n\{\n\tadmin off\n/);
    expect(text).toContain('output file /tmp/p/logs/caddy.log');
    expect(text).toContain('format json');
    expect(text).toContain('http://127.0.0.1:8080 {\n\treverse_proxy 127.0.0.1:9000\n}');
  });

  test('a global options block of its own gets ours inside it, not a second block', () => {
    const text = caddy.fromUserConfig('# mine\n{\n\tgrace_period 1s\n}\n\nhttp://{{listen}} {\n\treverse_proxy {{upstream}}\n}\n', 'Caddyfile', v).files.Caddyfile!;
    expect(text.match(/^\{$/gm)).toHaveLength(1);
    expect(text).toMatch(/\{\n\tadmin off\n[\s\S]*\n\tgrace_period 1s\n\}/);
  });

  test('a misspelt placeholder names the closest one and what it is for', () => {
    expect(() => caddy.fromUserConfig('http://{{listen}} {\n\treverse_proxy {{upstream}} {{helthy}}\n}\n', 'Caddyfile', v)).toThrow(
      /^Caddyfile:2: unknown placeholder \{\{helthy\}\}\. Did you mean \{\{healthy\}\} \(a second upstream that always answers 200, host:port: [^)]*\)\? Known: \{\{listen\}\}, \{\{upstream\}\}, \{\{healthy\}\}, \{\{prefix\}\}, \{\{resolver\}\}\.$/,
    );
  });

  test('a missing placeholder or an admin option of its own is an error that says what to write', () => {
    expect(() => caddy.fromUserConfig('http://{{listen}} {\n}\n', 'Caddyfile', v)).toThrow(InputError);
    expect(() => caddy.fromUserConfig('http://{{listen}} {\n}\n', 'Caddyfile', v)).toThrow(/reverse_proxy \{\{upstream\}\}/);
    expect(() => caddy.fromUserConfig('{\n\tadmin localhost:2019\n}\nhttp://{{listen}} {\n\treverse_proxy {{upstream}}\n}\n', 'Caddyfile', v)).toThrow(/admin/);
  });
});
