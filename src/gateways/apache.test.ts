import { describe, expect, test } from 'vitest';
import { attribute } from '../harness/attribute.js';
import { apache } from './apache.js';
import { renderInput } from '../../test/helpers/render-input.js';

// No resolver and no route by DNS name: httpd uses the system resolver only.
const input = renderInput({ resolver: false, drop: ['c'] });

describe('apache config rendering', () => {
  const out = apache.render(input);
  const conf = out.files['apache.conf']!;

  test('every path httpd writes is under the prefix, and it listens on the given address only', () => {
    for (const d of ['PidFile', 'DefaultRuntimeDir', 'ErrorLog', 'CustomLog', 'DocumentRoot', 'ServerRoot']) {
      expect(conf).toMatch(new RegExp(`^${d} "/tmp/p[/"]`, 'm'));
    }
    expect(conf).toMatch(/^Mutex file:\/tmp\/p\/tmp default$/m);
    expect(conf.match(/^Listen /gm)).toHaveLength(1);
    expect(conf).toMatch(/^Listen 127\.0\.0\.1:8080$/m);
    expect(conf).not.toMatch(/status_module|info_module/);
  });

  test('modules are loaded only when not built in', () => {
    expect(conf).toContain('<IfModule !proxy_http_module>\n  LoadModule proxy_http_module /usr/lib/apache2/modules/mod_proxy_http.so\n</IfModule>');
    expect(conf).toContain('LoadModule unique_id_module');
  });

  test('one ProxyPass per route; only keepalive routes reuse connections; websocket routes upgrade', () => {
    expect(conf).toContain('ProxyPass "/s/a/" "http://127.0.0.1:9000/s/a/" connectiontimeout=1 timeout=1500ms retry=0 disablereuse=On');
    expect(conf).toContain('ProxyPass "/s/b/" "unix:/tmp/run/up.sock|http://localhost/s/b/" connectiontimeout=1 timeout=1500ms retry=0 disablereuse=On');
    expect(conf).toContain('ProxyPass "/s/d/" "http://127.0.0.1:9000/s/d/" connectiontimeout=1 timeout=1500ms retry=0\n');
    expect(conf).toContain('ProxyPass "/s/e/" "http://127.0.0.1:9000/s/e/" connectiontimeout=1 timeout=1500ms retry=0 disablereuse=On upgrade=websocket');
  });

  test('FastCGI routes go through mod_proxy_fcgi, to a port or a unix socket, with the run timeouts', () => {
    const fcgi = apache.render({
      ...input,
      routes: [
        { id: 'f', protocol: 'fastcgi', target: { kind: 'tcp', host: '127.0.0.1', port: 9100 } },
        { id: 'g', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/fastcgi.sock' } },
      ],
    }).files['apache.conf']!;
    expect(fcgi).toContain('<IfModule !proxy_fcgi_module>\n  LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so\n</IfModule>');
    expect(fcgi).toContain('ProxyPass "/s/f/" "fcgi://127.0.0.1:9100/s/f/" connectiontimeout=1 timeout=1500ms retry=0 disablereuse=On');
    expect(fcgi).toContain('ProxyPass "/s/g/" "unix:/tmp/run/fastcgi.sock|fcgi://localhost/s/g/" connectiontimeout=1 timeout=1500ms retry=0 disablereuse=On');
    expect(fcgi).toMatch(/^LogLevel .*proxy_fcgi:info/m);
    const real = apache.render({ ...input, routes: [{ id: 'p', protocol: 'fastcgi', target: { kind: 'unix', path: '/tmp/run/php.sock' }, scriptFilename: '/tmp/run/app.php' }] }).files['apache.conf']!;
    expect(real).toContain('<Location "/s/p/">\n  ProxyFCGISetEnvIf "true" SCRIPT_FILENAME "/tmp/run/app.php"\n</Location>');
    expect(apache.supportsFastcgi).toBe(true);
  });

  test('the ready path is a static file httpd serves itself', () => {
    expect(out.files['htdocs/__badgateway/ready']).toBe('ready\n');
  });

  test('routes by DNS name are refused with the reason, and the adapter says it has no resolver', () => {
    expect(apache.supportsResolver).toBe(false);
    expect(() => apache.render({ ...input, routes: [{ id: 'c', target: { kind: 'dns', name: 'ok.badgateway.test', port: 9000 } }] })).toThrow(/system resolver only/);
  });
});

// Lines captured from Apache/2.4.71 (Debian bookworm) running the built-in suite.
const P = '[2026-11-24 16:57:57.432486] [proxy_http:error] [pid 32548:tid 140069028714176] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY]';
const W = '[2026-11-24 16:57:57.459438] [proxy_http:warn] [pid 32548:tid 140067725072064] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY]';

describe('apache log parsing', () => {
  const cases: Array<[string, string | undefined]> = [
    [`${P} (20014)Internal error (specific information not available): AH01102: error reading status line from remote server 127.0.0.1:33715`, 'upstream-closed-early'],
    [`${P} (70014)End of file found: AH01102: error reading status line from remote server 127.0.0.1:33715`, 'upstream-closed-early'],
    [`${P} (104)Connection reset by peer: AH01102: error reading status line from remote server 127.0.0.1:33715`, 'upstream-reset'],
    [`${P} (70007)The timeout specified has expired: AH01102: error reading status line from remote server 127.0.0.1:33715`, 'read-timeout'],
    [`${P} (70008)Partial results are valid but processing is incomplete: AH01110: error reading response`, 'upstream-truncated'],
    [`${P} (104)Connection reset by peer: AH01110: error reading response`, 'upstream-reset'],
    [`${P} (70007)The timeout specified has expired: AH01110: error reading response`, 'read-timeout'],
    [`${P} (20014)Internal error (specific information not available): AH01110: error reading response`, 'invalid-chunked'],
    [`${P} -: AH01114: HTTP: failed to make connection to backend: 127.0.0.1`, 'connect-failed'],
    // Writing the request broke: AH01084 carries the errno, AH01097 (the request's line) usually none.
    ['[2026-11-24 18:55:55.330190] [proxy:error] [pid 7:tid 139710236186304] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] (104)Connection reset by peer: AH01084: pass request body failed to 127.0.0.1:41081 (127.0.0.1)', 'upstream-reset'],
    ['[2026-11-24 18:55:55.330190] [proxy:error] [pid 7:tid 139710236186304] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] (70007)The timeout specified has expired: AH01084: pass request body failed to 127.0.0.1:41081 (127.0.0.1)', 'send-timeout'],
    ['[2026-11-24 18:55:55.330204] [proxy_http:error] [pid 7:tid 139710236186304] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] -: AH01097: pass request body failed to 127.0.0.1:41081 (127.0.0.1) from 127.0.0.1 ()', undefined],
    [`${W} (22)Invalid argument: AH10404: Error reading headers from backend`, 'invalid-header'],
    [`${W} (70014)End of file found: AH10404: Error reading headers from backend`, 'upstream-closed-early'],
    [`${W} -: AH01106: bad HTTP/1.1 header returned by /s/header-no-colon/ (GET)`, 'invalid-header'],
    [`${W} (28)No space left on device: AH10124: header size is over the limit allowed by ResponseFieldSize (8192 bytes). Bad response header: 'X-Huge: aaaa[...]aaaa'`, 'header-too-big'],
    ["[2026-11-24 16:57:57.449403] [http:error] [pid 32548:tid 140067741857472] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] -: AH02429: Response header name 'X-Ctl\\x01Name' contains invalid characters, aborting request", 'invalid-header'],
    [`[2026-11-24 16:57:57.452876] [proxy:error] [pid 32548:tid 140067775428288] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] -: AH00898: Unexpected Upgrade: n/a (expecting websocket) returned by /s/websocket-101-no-upgrade/`, 'invalid-upgrade'],
    [`[2026-11-24 16:57:57.432526] [proxy:error] [pid 32548:tid 140069028714176] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] -: AH00898: Error reading from remote server returned by /s/empty-reply/`, undefined],
  ];
  test.each(cases)('%s → %s', (line, reason) => {
    const e = apache.parseLogLine(line)!;
    expect(e.reason).toBe(reason);
    expect(e.connection).toBe('awXCFb1EVHHWZ3cXGRiRPQAAAAY');
    expect(e.target).toBeUndefined();
  });

  // Lines httpd 2.4.71 (badgateway/apache:trixie) logged for the fcgi-* scenarios.
  const F = (t: string, errno: string) => `[2026-12-01 20:32:55.917279] [proxy_fcgi:error] [pid 8:tid 139683140990656] [req aw8u95dQemwjjf5cazW-6gAAAAI] ${errno}: ${t}`;
  const fcgi: Array<[string, string | undefined]> = [
    [F('AH01072: Got bogus record 99', '-'), 'fastcgi-invalid-record'],
    [F('AH01068: Got bogus version 2', '-'), 'fastcgi-invalid-record'],
    [F("AH01071: Got error 'Primary script unknown'", '-'), 'fastcgi-primary-script-unknown'],
    [F(`AH01071: Got error '${'x'.repeat(128)}'`, '-'), 'fastcgi-stderr'],
    [F('AH01070: Error parsing script headers', '-'), 'invalid-header'],
    [F("malformed header from script '': Bad header: ", '-'), undefined],
    [F('AH01067: Failed to read FastCGI header', '-'), undefined],
    // php-fpm's socket gone (its master stopped), httpd 2.4.71 on the host.
    [F('AH01079: failed to make connection to backend: localhost', '-'), 'connect-failed'],
    [F('AH01075: Error dispatching request to :39229: ', '(70014)End of file found'), 'upstream-closed-early'],
    [F('AH01075: Error dispatching request to :39229: (reading response body)', '(70014)End of file found'), 'upstream-truncated'],
    [F('AH01075: Error dispatching request to :39229: ', '(104)Connection reset by peer'), 'upstream-reset'],
    [F('AH01075: Error dispatching request to :39229: (polling)', '(70007)The timeout specified has expired'), 'read-timeout'],
    // What follows a bogus version or a bad CGI head: the line before it said why.
    [F('AH01075: Error dispatching request to :39229: ', '(22)Invalid argument'), undefined],
  ];
  test.each(fcgi)('FastCGI: %s → %s', (line, reason) => {
    const e = apache.parseLogLine(line)!;
    expect(e.reason).toBe(reason);
    expect(e.connection).toBe('aw8u95dQemwjjf5cazW-6gAAAAI');
  });

  test('server-level lines name no request; AH00957 says refused or timed out', () => {
    const refused = apache.parseLogLine('[2026-11-24 16:57:57.407000] [proxy:error] [pid 1:tid 2] [req -] (111)Connection refused: AH00957: http: attempt to connect to 127.0.0.1:9001 (127.0.0.1:9001) failed')!;
    expect(refused.reason).toBe('connect-refused');
    expect(refused.connection).toBeUndefined();
    expect(apache.parseLogLine('[2026-11-24 16:57:57.407000] [proxy:error] [pid 1:tid 2] [req -] (110)Connection timed out: AH00957: http: attempt to connect to 127.0.0.1:9001 (127.0.0.1:9001) failed')!.reason).toBe('connect-timeout');
  });

  test('access-log lines tie the log ID to the request, so error lines follow their request', () => {
    const access = '[2026-11-24T16:57:57] [req awXCFb1EVHHWZ3cXGRiRPQAAAAY] "GET /s/empty-reply/?bgp=6 HTTP/1.1" 502 341 12345';
    const e = apache.parseLogLine(access)!;
    expect(e.target).toBe('/s/empty-reply/?bgp=6');
    expect(e.connection).toBe('awXCFb1EVHHWZ3cXGRiRPQAAAAY');
    const byProbe = attribute(apache, `${cases[0]![0]}\n${access}\n`);
    expect(byProbe.get(6)!.map((x) => x.reason)).toEqual([undefined, 'upstream-closed-early']);
  });

  test('lines in httpd\'s default format and bare messages still give a reason (for explain), but no attribution', () => {
    const e = apache.parseLogLine('[Tue Nov 24 16:57:57.445762 2026] [proxy_http:error] [pid 32548:tid 1] (104)Connection reset by peer: [client 10.0.0.1:5555] AH01102: error reading status line from remote server 10.0.0.2:80')!;
    expect(e.reason).toBe('upstream-reset');
    expect(e.connection).toBeUndefined();
    expect(apache.parseLogLine('AH01114: HTTP: failed to make connection to backend: 10.0.0.2')!.reason).toBe('connect-failed');
  });

  test('lines that are not log lines are ignored', () => {
    expect(apache.parseLogLine('not a log line')).toBeUndefined();
  });
});

describe('apache user config', () => {
  const values = { listen: { host: '127.0.0.1', port: 8081 }, prefix: '/tmp/q', upstream: { host: '127.0.0.1', port: 9001 }, healthy: { host: '127.0.0.1', port: 9002 } };
  test('placeholders are filled; pid, logs and the modules badgateway needs are set', () => {
    const conf = apache.fromUserConfig('Listen {{listen}}\nProxyPass "/" "http://{{upstream}}/"\n', 'my.conf', values).files['apache.conf']!;
    expect(conf).toContain('Listen 127.0.0.1:8081');
    expect(conf).toContain('ProxyPass "/" "http://127.0.0.1:9001/"');
    expect(conf).toMatch(/^PidFile "\/tmp\/q\/apache\.pid"$/m);
    expect(conf).toMatch(/^ErrorLog "\/tmp\/q\/logs\/error\.log"$/m);
  });
  test('missing placeholders and a PidFile directive are errors that say what to do', () => {
    expect(() => apache.fromUserConfig('Listen {{listen}}\n', 'a.conf', values)).toThrow(/a\.conf has no \{\{upstream\}\} placeholder/);
    expect(() => apache.fromUserConfig('PidFile /run/x.pid\nListen {{listen}} {{upstream}}', 'c.conf', values)).toThrow(/c\.conf:1: remove the "PidFile" directive/);
  });
});
