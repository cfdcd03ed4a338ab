/**
 * The Node proxy adapters (http-proxy-middleware, @fastify/http-proxy): the entry each renders,
 * the version each reads, the error lines each writes (captured from the real proxies: 
 * http-proxy-middleware 3.0.11 and @fastify/http-proxy 11.6.3 on Node 20.20 and 24.22, through
 * the built-in suite), and the message when a package is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { renderInput } from '../../test/helpers/render-input.js';
import { StartError } from '../errors.js';
import processRuntime from '../runtimes/process.js';
import fastifyHttpProxy from './fastify-http-proxy.js';
import httpProxyMiddleware from './http-proxy-middleware.js';
import { NODE_PROXY_ENTRY, NODE_PROXY_LOG, nodeProxyRequires, PROJECT_ROOT } from './node-proxy.js';

const input = renderInput({ drop: ['c'], resolver: false });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function entryOf(text: string): { routes: Array<Record<string, unknown>>; timeouts: Record<string, number>; log: string; listen: unknown } {
  const m = /^const CONFIG = (\{[\s\S]*?\n\});$/m.exec(text);
  return JSON.parse(m![1]!) as ReturnType<typeof entryOf>;
}

describe.each([
  ['http-proxy-middleware', httpProxyMiddleware, ['express', 'http-proxy-middleware'], 'proxyTimeout: CONFIG.timeouts.readMs'],
  ['fastify-http-proxy', fastifyHttpProxy, ['fastify', '@fastify/http-proxy'], 'headersTimeout: CONFIG.timeouts.readMs'],
] as const)('%s entry', (_id, g, packages, timeoutLine) => {
  const out = g.render(input);
  const text = out.files[NODE_PROXY_ENTRY]!;

  test('the route table, timeouts, listen address and log file go in as JSON the entry reads', () => {
    expect(out.main).toBe(NODE_PROXY_ENTRY);
    const c = entryOf(text);
    expect(c.listen).toEqual(input.listen);
    expect(c.log).toBe(`${input.prefix}/${NODE_PROXY_LOG}`);
    expect(c.timeouts).toEqual(input.timeouts);
    expect(c.routes).toEqual([
      { path: '/s/a/', kind: 'tcp', origin: 'http://127.0.0.1:9000', keepalive: false, websocket: false },
      { path: '/s/b/', kind: 'unix', socketPath: '/tmp/run/up.sock', keepalive: false, websocket: false },
      { path: '/s/d/', kind: 'tcp', origin: 'http://127.0.0.1:9000', keepalive: true, websocket: false },
      { path: '/s/e/', kind: 'tcp', origin: 'http://127.0.0.1:9000', keepalive: false, websocket: true },
    ]);
    expect(text).toContain(timeoutLine);
    for (const p of packages) expect(text).toContain(`load('${p}')`);
  });

  test('the config test is Node\'s syntax check: it passes the entry and fails a broken one, without running either', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-np-'));
    dirs.push(dir);
    writeFileSync(join(dir, NODE_PROXY_ENTRY), text);
    const ok = spawnSync(process.execPath, g.testArgs(dir, join(dir, NODE_PROXY_ENTRY)), { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    writeFileSync(join(dir, 'broken.cjs'), `${text}\n}{`);
    const bad = spawnSync(process.execPath, g.testArgs(dir, join(dir, 'broken.cjs')), { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/SyntaxError/);
  });

  test('its version is the package\'s plus the Node it runs on, the package loaded from badgateway\'s own install', () => {
    // From another directory: the package comes from badgateway's node_modules.
    const out = execFileSync(g.binary, g.versionArgs, { encoding: 'utf8', cwd: tmpdir() });
    const [maj, min] = process.versions.node.split('.');
    expect(g.parseVersion(out)).toMatch(new RegExp(`^\\d+\\.\\d+\\.\\d+\\+node${maj}\\.${min}$`));
    expect(g.parseVersion('node v20.20.2\n')).toBeUndefined();
  });
});

describe('error lines → reasons (as the real proxies wrote them)', () => {
  const hpm = (fields: Record<string, string>) => httpProxyMiddleware.parseLogLine(JSON.stringify({ time: 't', gateway: 'http-proxy-middleware', url: '/s/x/?bgp=7', ...fields }));
  const fst = (fields: Record<string, string>) => fastifyHttpProxy.parseLogLine(JSON.stringify({ time: 't', gateway: 'fastify-http-proxy', url: '/s/x/?bgp=7', ...fields }));

  test('http-proxy-middleware: Node\'s codes; ECONNRESET split by its message; the entry\'s timeout mark', () => {
    expect(hpm({ phase: 'head', code: 'ECONNRESET', message: 'socket hang up' })).toMatchObject({ reason: 'upstream-closed-early', target: '/s/x/?bgp=7' });
    expect(hpm({ phase: 'head', code: 'ECONNRESET', message: 'socket hang up', timeout: 'proxyTimeout' })?.reason).toBe('read-timeout');
    expect(hpm({ phase: 'head', code: 'ECONNRESET', message: 'read ECONNRESET' })?.reason).toBe('upstream-reset');
    expect(hpm({ phase: 'head', code: 'ECONNRESET', message: 'connect ECONNRESET 127.0.0.1:45031' })?.reason).toBe('upstream-reset');
    expect(hpm({ phase: 'body', code: 'ECONNRESET', message: 'aborted' })?.reason).toBe('upstream-truncated');
    expect(hpm({ phase: 'head', code: 'HPE_INVALID_TRANSFER_ENCODING', message: "Parse Error: Transfer-Encoding can't be present with Content-Length" })?.reason).toBe('invalid-header');
    expect(hpm({ phase: 'head', code: 'HPE_INVALID_CONSTANT', message: 'Parse Error: Expected HTTP/, RTSP/ or ICE/' })?.reason).toBe('no-valid-http');
    expect(hpm({ phase: 'body', code: 'HPE_INVALID_CHUNK_SIZE', message: 'Parse Error: Invalid character in chunk size' })?.reason).toBe('invalid-chunked');
  });

  test('fastify-http-proxy: reply-from\'s wrapper is read through to its cause; undici\'s parser errors by their words', () => {
    expect(fst({ phase: 'head', code: 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR', message: 'connect ECONNREFUSED 127.0.0.1:34747', causeCode: 'ECONNREFUSED', causeMessage: 'connect ECONNREFUSED 127.0.0.1:34747' })?.reason).toBe('connect-refused');
    expect(fst({ phase: 'head', code: 'FST_REPLY_FROM_GATEWAY_TIMEOUT', message: 'Gateway Timeout', causeCode: 'UND_ERR_HEADERS_TIMEOUT', causeMessage: 'Headers Timeout Error' })?.reason).toBe('read-timeout');
    expect(fst({ phase: 'head', code: 'UND_ERR_SOCKET', message: 'Undici Socket Error', causeCode: 'UND_ERR_SOCKET', causeMessage: 'other side closed' })?.reason).toBe('upstream-closed-early');
    // A 100 Continue undici does not expect: a socket error that says nothing we can name.
    expect(fst({ phase: 'head', code: 'UND_ERR_SOCKET', message: 'Undici Socket Error', causeCode: 'UND_ERR_SOCKET', causeMessage: 'bad response' })?.reason).toBeUndefined();
    expect(fst({ phase: 'head', code: 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR', message: 'x', causeName: 'HTTPParserError', causeMessage: 'Response does not match the HTTP/1.1 protocol (Invalid status code)' })?.reason).toBe('invalid-status');
    expect(fst({ phase: 'head', code: 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR', message: 'x', causeCode: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', causeMessage: 'Response body length does not match content-length header' })?.reason).toBe('invalid-header');
    expect(fst({ phase: 'body', code: 'UND_ERR_SOCKET', message: 'other side closed' })?.reason).toBe('upstream-truncated');
    expect(fst({ phase: 'body', code: 'UND_ERR_BODY_TIMEOUT', message: 'Body Timeout Error' })?.reason).toBe('read-timeout');
  });

  test('a line of the other Node proxy, or any other JSON, is not this one\'s', () => {
    expect(hpm({ gateway: 'fastify-http-proxy', code: 'ECONNREFUSED', message: 'x' })).toBeUndefined();
    expect(fastifyHttpProxy.parseLogLine('{"level":"error","logger":"http.log.error","msg":"x"}')).toBeUndefined();
    expect(fastifyHttpProxy.parseLogLine('not json')).toBeUndefined();
  });
});

describe('a missing proxy package', () => {
  const fake = { main: 'bg-no-such-proxy', install: { express: '5', 'bg-no-such-proxy': '3' } };

  test('says which package is missing, where it looked, and the npm install that fixes it', () => {
    const why = nodeProxyRequires('http-proxy-middleware', fake)!;
    expect(why).toContain('bg-no-such-proxy');
    expect(why).not.toMatch(/express,/);
    expect(why).toContain(PROJECT_ROOT);
    expect(why).toContain('`npm install --save-dev express@5 bg-no-such-proxy@3`');
    expect(nodeProxyRequires('http-proxy-middleware', { main: 'express', install: { express: '5' } })).toBeUndefined();
  });

  test('the process runtime refuses to start it with BG_GATEWAY_MISSING and that message', async () => {
    const adapter = { ...httpProxyMiddleware, requires: () => nodeProxyRequires('http-proxy-middleware', fake) };
    const a = await processRuntime.available(adapter);
    expect(a.ok).toBe(false);
    expect(a.why).toContain('npm install --save-dev express@5 bg-no-such-proxy@3');
    const prefix = mkdtempSync(join(tmpdir(), 'bg-np-'));
    dirs.push(prefix);
    const err = await processRuntime.start({ adapter, config: adapter.render(input), prefix, listen: input.listen }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).code).toBe('BG_GATEWAY_MISSING');
    expect((err as StartError).message).toContain('bg-no-such-proxy');
  });
});
