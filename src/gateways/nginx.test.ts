import { describe, expect, test } from 'vitest';
import { nginx } from './nginx.js';
import { renderInput } from '../../test/helpers/render-input.js';

const input = renderInput();

describe('nginx config rendering', () => {
  const conf = nginx.render(input).files['nginx.conf']!;

  test('every path nginx writes is under the prefix', () => {
    for (const d of ['pid', 'error_log', 'access_log', 'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path']) {
      expect(conf).toMatch(new RegExp(`\\b${d} /tmp/p/`));
    }
  });

  test('one location per route, by address, unix socket and DNS name', () => {
    expect(conf).toContain('location /s/a/ {\n      proxy_pass http://127.0.0.1:9000;');
    expect(conf).toContain('proxy_pass http://unix:/tmp/run/up.sock:;');
    expect(conf).toContain('set $badgateway_target "nxdomain.badgateway.test:9000";');
    expect(conf).toContain('resolver 127.0.0.1:5353 valid=1s ipv6=off;');
  });

  test('keepalive routes get a pooled upstream with HTTP/1.1; websocket routes pass the upgrade', () => {
    expect(conf).toMatch(/upstream badgateway_pool_3 \{\n\s+server 127\.0\.0\.1:9000;\n\s+keepalive 8;/);
    expect(conf).toMatch(/location \/s\/d\/ \{\n\s+proxy_pass http:\/\/badgateway_pool_3;\n\s+proxy_http_version 1\.1;\n\s+proxy_set_header Connection "";/);
    expect(conf).toMatch(/location \/s\/e\/ \{[^}]*proxy_set_header Upgrade \$http_upgrade;/);
  });

  test('timeouts in seconds or milliseconds', () => {
    expect(conf).toContain('proxy_connect_timeout 1s;');
    expect(conf).toContain('proxy_read_timeout 1500ms;');
  });

  test('FastCGI routes: fastcgi_pass to a port or a unix socket, REQUEST_URI with the query, the run timeouts', () => {
    const fcgi = nginx.render({
      ...input,
      routes: [
        { id: 'f', protocol: 'fastcgi', target: { kind: 'tcp', host: '127.0.0.1', port: 9100 } },
        { id: 'g', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/fastcgi.sock' } },
      ],
    }).files['nginx.conf']!;
    const loc = (id: string) => new RegExp(`location /s/${id}/ \\{([^}]*)\\}`).exec(fcgi)?.[1] ?? '';
    expect(loc('f')).toContain('fastcgi_pass 127.0.0.1:9100;');
    expect(loc('g')).toContain('fastcgi_pass unix:/tmp/run/fastcgi.sock;');
    for (const l of [loc('f'), loc('g')]) {
      expect(l).not.toContain('proxy_pass');
      // $request_uri is the client's URI as sent, query string included: the upstream routes by its path.
      expect(l).toContain('fastcgi_param REQUEST_URI $request_uri;');
      for (const p of ['SCRIPT_FILENAME', 'SCRIPT_NAME', 'QUERY_STRING', 'REQUEST_METHOD', 'CONTENT_LENGTH']) expect(l).toMatch(new RegExp(`fastcgi_param ${p} `));
    }
    expect(fcgi).toContain('fastcgi_connect_timeout 1s;');
    expect(fcgi).toContain('fastcgi_read_timeout 1500ms;');
    expect(fcgi).toMatch(/fastcgi_send_timeout \d+m?s;/);
    expect(fcgi).not.toContain('upstream badgateway_pool');
  });
});

describe('nginx error-log parsing', () => {
  const line = (msg: string, req = 'GET /s/x/?bgp=7 HTTP/1.1') => `2026/11/24 15:50:00 [error] 1234#1234: *5 ${msg}, client: 127.0.0.1, server: badgateway, request: "${req}", upstream: "http://127.0.0.1:1/s/x/?bgp=7", host: "badgateway"`;
  const cases: Array<[string, string]> = [
    ['upstream prematurely closed connection while reading response header from upstream', 'upstream-closed-early'],
    ['upstream prematurely closed connection while reading upstream', 'upstream-truncated'],
    ['recv() failed (104: Connection reset by peer) while reading response header from upstream', 'upstream-reset'],
    ['connect() failed (111: Connection refused) while connecting to upstream', 'connect-refused'],
    ['upstream timed out (110: Connection timed out) while connecting to upstream', 'connect-timeout'],
    ['upstream timed out (110: Connection timed out) while reading response header from upstream', 'read-timeout'],
    ['upstream sent too big header while reading response header from upstream', 'header-too-big'],
    ['upstream sent invalid header: "X-Spaced : value..." while reading response header from upstream', 'invalid-header'],
    ['upstream sent no valid HTTP/1.0 header while reading response header from upstream', 'no-valid-http'],
    ['upstream sent invalid chunked response while reading upstream', 'invalid-chunked'],
    ['nxdomain.badgateway.test could not be resolved (3: Host not found)', 'dns-nxdomain'],
    ['servfail.badgateway.test could not be resolved (2: Server failure)', 'dns-servfail'],
    ['refused.badgateway.test could not be resolved (5: Operation refused)', 'dns-refused'],
    ['silent.badgateway.test could not be resolved (110: Operation timed out)', 'dns-timeout'],
  ];
  test.each(cases)('%s → %s', (msg, reason) => {
    const e = nginx.parseLogLine(line(msg))!;
    expect(e.reason).toBe(reason);
    expect(e.level).toBe('error');
    expect(e.target).toBe('/s/x/?bgp=7');
    expect(e.connection).toBe('5');
  });

  // Lines nginx 1.26.3 (badgateway/nginx:trixie) logged for the fcgi-* scenarios; the full unix socket, nginx 1.22.1 by hand.
  const fcgi: Array<[string, string]> = [
    ['*2 upstream sent invalid FastCGI record type: 99 while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-bad-type/?bgp=1 HTTP/1.1", upstream: "fastcgi://127.0.0.1:39381", host: "127.0.0.1:45079"', 'fastcgi-invalid-record'],
    ['*3 upstream sent unsupported FastCGI protocol version: 2 while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-bad-version/?bgp=2 HTTP/1.1", upstream: "fastcgi://127.0.0.1:39381", host: "127.0.0.1:45079"', 'fastcgi-invalid-record'],
    ['*4 upstream sent unexpected FastCGI record: 3 while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-end-without-stdout/?bgp=3 HTTP/1.1", upstream: "fastcgi://127.0.0.1:39381", host: "127.0.0.1:45079"', 'fastcgi-invalid-record'],
    ['*19 FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-primary-script-unknown/?bgp=10 HTTP/1.1", upstream: "fastcgi://127.0.0.1:39381", host: "127.0.0.1:45079"', 'fastcgi-primary-script-unknown'],
    [`*27 FastCGI sent in stderr: "${'x'.repeat(128)}" while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-stderr-flood/?bgp=14 HTTP/1.1", upstream: "fastcgi://127.0.0.1:39381", host: "127.0.0.1:45079"`, 'fastcgi-stderr'],
    ['*25 upstream sent invalid status "2OO OK" while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-status-garbage/?bgp=13 HTTP/1.1", upstream: "fastcgi://127.0.0.1:39381", host: "127.0.0.1:45079"', 'invalid-status'],
    ['*1 connect() to unix:/tmp/a1m/pf/fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 127.0.0.1, server: , request: "GET /index.php?bgp=1 HTTP/1.1", upstream: "fastcgi://unix:/tmp/a1m/pf/fpm.sock:", host: "127.0.0.1:18931"', 'connect-queue-full'],
    ['*21 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: badgateway, request: "GET /s/fcgi-reset-after-params-unix/?bgp=11 HTTP/1.1", upstream: "fastcgi://unix:/tmp/badgateway-run-qoFanN/fastcgi.sock:", host: "127.0.0.1:45079"', 'upstream-closed-early'],
  ];
  test.each(fcgi)('FastCGI: %s → %s', (rest, reason) => {
    const e = nginx.parseLogLine(`2026/12/01 20:32:28 [error] 7#7: ${rest}`)!;
    expect(e.reason).toBe(reason);
    expect(e.target).toMatch(/\?bgp=\d+$/);
  });

  test('lines that are not error-log lines are ignored; unknown messages carry no reason', () => {
    expect(nginx.parseLogLine('not a log line')).toBeUndefined();
    expect(nginx.parseLogLine('2026/11/24 15:50:00 [notice] 1#1: start worker processes')!.reason).toBeUndefined();
  });
});

describe('nginx user config', () => {
  const values = { listen: { host: '127.0.0.1', port: 8081 }, prefix: '/tmp/q', upstream: { host: '127.0.0.1', port: 9001 }, healthy: { host: '127.0.0.1', port: 9002 } };
  test('placeholders are filled, comments left alone, pid and error log set by badgateway', () => {
    const out = nginx.fromUserConfig('# uses {{whatever}}\nevents {}\nhttp { upstream u { server {{upstream}}; server {{healthy}} backup; } server { listen {{listen}}; location / { proxy_pass http://u; } } }\n', 'my.conf', values);
    const conf = out.files['nginx.conf']!;
    expect(conf).toContain('server 127.0.0.1:9001;');
    expect(conf).toContain('server 127.0.0.1:9002 backup;');
    expect(conf).toContain('listen 127.0.0.1:8081;');
    expect(conf).toContain('# uses {{whatever}}');
    expect(conf).toMatch(/^pid \/tmp\/q\/nginx\.pid;$/m);
    expect(conf).toMatch(/^error_log \/tmp\/q\/logs\/error\.log info;$/m);
  });
  test('missing placeholders, unknown placeholders and a pid directive are errors that say what to do', () => {
    expect(() => nginx.fromUserConfig('events {}\nhttp { server { listen {{listen}}; } }', 'a.conf', values)).toThrow(/a\.conf has no \{\{upstream\}\} placeholder/);
    expect(() => nginx.fromUserConfig('listen {{listen}}; {{upstream}} {{upstrem}}', 'b.conf', values)).toThrow(/b\.conf:1: unknown placeholder \{\{upstrem\}\}/);
    expect(() => nginx.fromUserConfig('pid /run/x.pid;\nlisten {{listen}}; {{upstream}}', 'c.conf', values)).toThrow(/c\.conf:1: remove the "pid" directive/);
  });
});
