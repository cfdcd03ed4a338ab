/**
 * The FastCGI listener as a gateway meets it: FCGI_KEEP_CONN (several requests on one
 * connection, each answered with its own request id), routing by REQUEST_URI / SCRIPT_NAME /
 * the fault header / QUERY_STRING, faults of the other protocol refused, and hostile input
 * closed cleanly at a bounded cost with a guard event.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startControl } from '../../src/control/control-server.js';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import type { Stamped } from '../../src/upstream/events.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { defaultParams, fcgiRequest, readRecords, responseOf } from '../helpers/fcgi-client.js';
import { openSession, rawRequest } from '../helpers/raw-client.js';

let up: StartedUpstream;
let port: number;
const events: Stamped[] = [];

beforeAll(async () => {
  up = await startUpstream({ fastcgiPort: 0, listenerFaults: [], maxHeadBytes: 4096 });
  port = up.listeners.find((l) => l.name === 'fastcgi')!.port!;
  up.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await up?.close();
});

const OK = 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n';

describe('FCGI_KEEP_CONN', () => {
  test('two requests on one connection, each answered under its own id; without the flag the upstream closes', async () => {
    const s = openSession({ port });
    try {
      await s.connected;
      s.write(fcgiRequest({ requestId: 1, keepConn: true, uri: '/fcgi-healthy' }));
      await s.waitFor((b) => responseOf(b, 1).end !== undefined, 2000);
      expect(await s.quietFor(100)).toBe('quiet');
      s.write(fcgiRequest({ requestId: 9, keepConn: false, uri: '/fcgi-primary-script-unknown', stdin: 'x'.repeat(70_000) }));
      const end = await s.waitEnd(2000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      const b = s.bytes();
      expect(responseOf(b, 1)).toEqual({ stdout: OK, stderr: '', end: { appStatus: 0, protocolStatus: 0 } });
      expect(responseOf(b, 9).stderr).toBe('Primary script unknown');
      expect(responseOf(b, 9).stdout).toMatch(/^Status: 404 Not Found\r\n/);
      expect(readRecords(b).rest).toBe(0);
    } finally {
      s.destroy();
    }
  });
});

describe('routing', () => {
  const ask = async (params: Array<readonly [string, string]>) => responseOf((await rawRequest(fcgiRequest({ params }), { port, timeoutMs: 3000 })).bytes);

  test('SCRIPT_NAME when REQUEST_URI is missing; the fault header as HTTP_X_BADGATEWAY_FAULT; params from QUERY_STRING', async () => {
    expect((await ask([['SCRIPT_NAME', '/fcgi-status-garbage']])).stdout).toMatch(/^Status: 2OO OK/);
    expect((await ask([...defaultParams('/s/any'), ['HTTP_X_BADGATEWAY_FAULT', 'fcgi-invalid-header-line']])).stdout).toMatch(/no colon/);
    events.length = 0;
    const r = await ask(defaultParams('/fcgi-stderr-flood?stderrBytes=10'));
    expect(r.stderr).toBe('x'.repeat(10));
    expect(events.find((e) => e.type === 'request')).toMatchObject({ fault: 'fcgi-stderr-flood', target: '/fcgi-stderr-flood?stderrBytes=10', requestId: 1, via: 'route' });
    expect(events.some((e) => e.type === 'step' && e.op === 'fcgi-respond')).toBe(true);
  });

  test('any other path gets the FastCGI default, fcgi-healthy; a bad param is a 400 in STDOUT', async () => {
    expect((await ask(defaultParams('/s/some-scenario'))).stdout).toBe(OK);
    const r = await ask(defaultParams('/fcgi-stderr-flood?stderrBytes=99999999999'));
    expect(r.stdout).toMatch(/^Status: 400 Bad Request\r\n[^]*BG_INVALID_FAULT/);
    expect(r.end).toEqual({ appStatus: 0, protocolStatus: 0 });
  });

  test('an HTTP fault named on the FastCGI listener, and a FastCGI fault on the HTTP listener, are 404s that say which listener to use', async () => {
    const r = await ask(defaultParams('/empty-reply'));
    expect(r.stdout).toMatch(/^Status: 404 Not Found\r\n[^]*speaks HTTP/);
    const h = await rawRequest('GET /fcgi-healthy HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', { port: up.http.port });
    expect(h.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 404 Not Found[^]*speaks FastCGI/);
  });
});

describe('hostile input', () => {
  test.each([
    ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'fcgi-protocol'],
    ['PARAMS past the bound (4096 here)', fcgiRequest({ params: [['HTTP_COOKIE', 'c'.repeat(100_000)]] }), 'head-too-big'],
    ['a flood of one-byte PARAMS records', fcgiRequest({ params: [['HTTP_COOKIE', 'c'.repeat(3000)]], paramsRecordBytes: 1 }), 'fcgi-protocol'],
  ])('%s: a clean close, no bytes, a guard event', async (_what, bytes, guard) => {
    events.length = 0;
    const t0 = performance.now();
    const r = await rawRequest(bytes, { port, timeoutMs: 3000 });
    expect({ end: r.end, bytes: r.bytes.length }).toEqual({ end: 'fin', bytes: 0 });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(events.find((e) => e.type === 'guard')).toMatchObject({ guard, listener: 'fastcgi' });
  });

  test('a slow request is closed by the head guard', async () => {
    const slow = await startUpstream({ fastcgiPort: 0, listenerFaults: [], headTimeoutMs: 150 });
    try {
      const p = slow.listeners.find((l) => l.name === 'fastcgi')!.port!;
      const r = await rawRequest(fcgiRequest({ uri: '/fcgi-healthy' }).subarray(0, 20), { port: p, timeoutMs: 2000 });
      expect(r.end).toBe('fin');
      expect(r.durationMs).toBeGreaterThanOrEqual(140);
      expect(r.durationMs).toBeLessThan(1500);
    } finally {
      await slow.close();
    }
  });
});

describe('the step language keeps protocols apart', () => {
  test('a FastCGI step in an HTTP fault, and an HTTP step in a FastCGI one, are refused with file:line', () => {
    expect(() => loadFaultText('id: a\nsteps:\n  - fcgi-stdout: "x"\n', 'a.yaml')).toThrow(/a\.yaml:3:\d+: fcgi-stdout is a FastCGI step; this fault speaks HTTP/);
    expect(() => loadFaultText('id: b\nprotocol: fastcgi\nsteps:\n  - read: head\n  - respond: {}\n', 'b.yaml')).toThrow(/b\.yaml:4:\d+: read: head is an HTTP step/);
    const ok = loadFaultText('id: c\nprotocol: fastcgi\nsteps:\n  - fcgi-read: request\n  - delay: 1\n  - fcgi-record: {type: stdout, content: "x", contentLength: 9}\n  - close\n', 'c.yaml');
    expect(new Catalogue(ok).compile('c').steps.map((s) => s.op)).toEqual(['fcgi-read', 'delay', 'fcgi-record', 'close']);
  });
});

describe('the control API', () => {
  test('PUT /api/routing sets the FastCGI default (fastcgiDefaultFault), GET shows it, and an HTTP fault there is refused', async () => {
    const ctl = await startControl({ upstream: up });
    const put = (body: unknown) => fetch(`${ctl.url}/api/routing`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      expect((await put({ defaultFault: 'healthy', fastcgiDefaultFault: 'fcgi-primary-script-unknown' })).status).toBe(200);
      const r = responseOf((await rawRequest(fcgiRequest({ params: defaultParams('/index.php') }), { port, timeoutMs: 3000 })).bytes);
      expect(r.stderr).toBe('Primary script unknown');
      const shown = (await (await fetch(`${ctl.url}/api/routing`)).json()) as { fastcgiDefaultFault?: string };
      expect(shown.fastcgiDefaultFault).toBe('fcgi-primary-script-unknown');
      const wrong = await put({ defaultFault: 'healthy', fastcgiDefaultFault: 'empty-reply' });
      expect(wrong.status).toBe(400);
      expect(await wrong.text()).toMatch(/speaks HTTP; give a fault with protocol: fastcgi/);
      // The refused table changed nothing.
      expect(responseOf((await rawRequest(fcgiRequest({ params: defaultParams('/index.php') }), { port, timeoutMs: 3000 })).bytes).stderr).toBe('Primary script unknown');
    } finally {
      await put({ defaultFault: 'healthy' });
      await ctl.close();
    }
  });
});
