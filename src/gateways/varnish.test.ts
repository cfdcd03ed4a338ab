import { describe, expect, test } from 'vitest';
import { attribute } from '../harness/attribute.js';
import { varnish } from './varnish.js';
import { renderInput } from '../../test/helpers/render-input.js';

// No route by DNS name: Varnish resolves a backend's host when the VCL is compiled.
const input = renderInput({ resolver: false, drop: ['c'] });

describe('varnish VCL rendering', () => {
  const out = varnish.render(input);
  const vcl = out.files['varnish.vcl']!;

  test('VCL 4.1, no default backend, one backend per route with the run\'s timeouts', () => {
    expect(vcl.startsWith('vcl 4.1;\n')).toBe(true);
    expect(vcl).toContain('backend default none;');
    expect(vcl).toContain('backend be0_a {\n  .host = "127.0.0.1";\n  .port = "9000";\n  .connect_timeout = 1s;\n  .first_byte_timeout = 1500ms;\n  .between_bytes_timeout = 1500ms;\n}');
    expect(vcl).toContain('backend be1_b {\n  .path = "/tmp/run/up.sock";');
    expect(vcl.match(/^backend be\d+_/gm)).toHaveLength(input.routes.length);
  });

  test('every route is passed (never cached) to its backend; the ready path is answered by Varnish; anything else 404', () => {
    expect(vcl).toContain('  if (req.url == "/__badgateway/ready") {\n    return (synth(200, "ready"));\n  }');
    expect(vcl).toContain('  if (req.url ~ "^/s/a/") {\n    set req.backend_hint = be0_a;\n    return (pass);\n  }');
    expect(vcl).not.toMatch(/return \(hash\)|return \(lookup\)/);
    expect(vcl).toContain('return (synth(404, "no route"));');
  });

  test('only websocket routes pipe an upgrade, and vcl_pipe restores Upgrade and Connection', () => {
    const e = vcl.slice(vcl.indexOf('if (req.url ~ "^/s/e/")'));
    expect(e).toMatch(/^if \(req.url ~ "\^\/s\/e\/"\) \{\n {4}set req.backend_hint = be3_e;\n {4}if \(req.http.Upgrade ~ "\(\?i\)websocket"\) \{\n {6}return \(pipe\);/);
    expect(vcl.match(/return \(pipe\)/g)).toHaveLength(1);
    expect(vcl).toContain('set bereq.http.Connection = req.http.Connection;');
  });

  test('routes without keepalive close their backend connection after the request; keepalive routes do not', () => {
    const fetch = vcl.slice(vcl.indexOf('sub vcl_backend_fetch'));
    for (const b of ['be0_a', 'be1_b', 'be3_e']) expect(fetch).toContain(`bereq.backend == ${b}`);
    expect(fetch).not.toContain('be2_d');
    expect(fetch).toContain('set bereq.http.Connection = "close";');
  });

  test('backend names stay apart for ids that differ only in punctuation, and route paths are regex-escaped', () => {
    const v = varnish.render({
      ...input,
      routes: [
        { id: 'a-b', target: { kind: 'tcp', host: '127.0.0.1', port: 1 } },
        { id: 'a.b', target: { kind: 'tcp', host: '127.0.0.1', port: 2 } },
      ],
    }).files['varnish.vcl']!;
    expect(v).toContain('backend be0_a_b {');
    expect(v).toContain('backend be1_a_b {');
    expect(v).toContain('req.url ~ "^/s/a\\.b/"');
  });

  test('routes by DNS name are refused with the reason, and the adapter says it has no resolver', () => {
    expect(varnish.supportsResolver).toBe(false);
    expect(() => varnish.render({ ...input, routes: [{ id: 'c', target: { kind: 'dns', name: 'ok.badgateway.test', port: 9000 } }] })).toThrow(/when its VCL is compiled/);
  });

  test('varnishd runs in the foreground with its working directory under the prefix, the listen address on its command line, no management port', () => {
    const args = varnish.args('/tmp/p', '/tmp/p/varnish.vcl', { listen: { host: '127.0.0.1', port: 8080 } });
    expect(args).toEqual(expect.arrayContaining(['-F', '-f', '/tmp/p/varnish.vcl']));
    expect(args[args.indexOf('-n') + 1]).toBe('/tmp/p/varnish');
    expect(args[args.indexOf('-a') + 1]).toBe('127.0.0.1:8080');
    expect(args[args.indexOf('-T') + 1]).toBe('none');
    expect(varnish.testArgs('/tmp/p', '/tmp/p/varnish.vcl')).toEqual(expect.arrayContaining(['-C', '-f', '/tmp/p/varnish.vcl']));
  });

  test('the log is dumped from the same working directory, one raw record per line', () => {
    const d = varnish.logDump!;
    const args = d.args('/tmp/p');
    expect(d.binary).toBe('varnishlog');
    expect(args[args.indexOf('-n') + 1]).toBe('/tmp/p/varnish');
    expect(args).toEqual(expect.arrayContaining(['-d', '-g', 'raw']));
    expect(args[args.indexOf('-i') + 1]).toMatch(/(^|,)FetchError(,|$)/);
    expect(varnish.logFiles).toContain(d.file);
  });

  test('a user\'s VCL gets the upstream\'s host and port apart, and needs no {{listen}}', () => {
    const v = { listen: { host: '127.0.0.1', port: 8080 }, prefix: '/tmp/p', upstream: { host: '127.0.0.1', port: 9000 }, healthy: { host: '127.0.0.1', port: 9001 } };
    const out = varnish.fromUserConfig('vcl 4.1;\nbackend default { .host = "{{upstream_host}}"; .port = "{{upstream_port}}"; }\n', 'my.vcl', v);
    expect(out.files[out.main]).toContain('.host = "127.0.0.1"; .port = "9000";');
    expect(() => varnish.fromUserConfig('vcl 4.1;\nbackend default none;\n', 'my.vcl', v)).toThrow(/no \{\{upstream\}\} placeholder.*upstream_host/);
  });
});

// Records captured from varnishlog -d -g raw on Varnish 7.1.1 (Debian bookworm) running the built-in suite.
describe('varnish log parsing', () => {
  const cases: Array<[string, string | undefined]> = [
    ['backend be7_connect_refused: fail errno 111 (Connection refused)', 'connect-refused'],
    ['backend be0_accept_queue_full: fail errno 110 (Connection timed out)', 'connect-timeout'],
    ['first byte timeout', 'read-timeout'],
    ['Resource temporarily unavailable', 'read-timeout'],
    ['Connection reset by peer', 'upstream-reset'],
    ['HTC eof (-1)', 'upstream-closed-early'],
    ['straight insufficient bytes', 'upstream-truncated'],
    ['chunked read err', 'upstream-truncated'],
    ['chunked header non-hex', 'invalid-chunked'],
    ['overflow', 'header-too-big'],
    ['http format error', 'invalid-header'],
  ];
  test.each(cases)('FetchError %s → %s', (text, reason) => {
    const e = varnish.parseLogLine(`   1343491 FetchError     b ${text}`);
    expect(e).toMatchObject({ level: 'error', reason, connection: '1343491' });
  });

  test('"Body cannot be fetched" (a head whose body Varnish cannot frame) is invalid-header; other errors carry no reason', () => {
    expect(varnish.parseLogLine('     32890 Error          b Body cannot be fetched')?.reason).toBe('invalid-header');
    expect(varnish.parseLogLine('     32890 Error          c Something else')).toMatchObject({ level: 'error', reason: undefined });
  });

  test('grouped varnishlog lines, as an operator pastes them, are read too', () => {
    expect(varnish.parseLogLine('--  FetchError     backend default: fail errno 111 (Connection refused)')?.reason).toBe('connect-refused');
    expect(varnish.parseLogLine('-   FetchError     first byte timeout')?.reason).toBe('read-timeout');
  });

  test('a fetch\'s FetchError follows its BereqURL by transaction id, whatever the order of the records', () => {
    const log = [
      '     32769 Begin          c sess 0 HTTP/1',
      '     32771 FetchError     b backend be7_connect_refused: fail errno 111 (Connection refused)',
      '     32771 BereqURL       b /s/connect-refused/?bgp=4',
      '     32770 ReqURL         c /s/connect-refused/?bgp=4',
      '     32770 RespStatus     c 503',
      '     32774 BereqURL       b /s/healthy/?bgp=5',
      '     32774 BerespStatus   b 200',
      '         0 CLI            - Rd vcl.load "boot"',
    ].join('\n');
    const by = attribute(varnish, log);
    expect(by.get(4)?.map((e) => e.reason).filter(Boolean)).toEqual(['connect-refused']);
    expect(by.get(5)?.some((e) => e.reason)).toBe(false);
  });

  test('the version from varnishd -V', () => {
    expect(varnish.parseVersion('varnishd (varnish-7.7.3 revision 2f4f7ecb0b1fb0b1b2a5e5b7e1a4fbd33aa0f1d5)\n')).toBe('7.7.3');
  });
});
