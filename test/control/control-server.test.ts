import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { startControl, type StartedControl } from '../../src/control/control-server.js';
import { StartError } from '../../src/errors.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, rawRequest } from '../helpers/raw-client.js';

let up: StartedUpstream;
let ctl: StartedControl;

beforeAll(async () => {
  // One listener fault (refuse is instant) so a listener fault has a port to show.
  up = await startUpstream({ listenerFaults: ['connect-refused'] });
  ctl = await startControl({ upstream: up, dns: { host: '127.0.0.1', port: 5353, zone: 'badgateway.test' } });
});
afterAll(async () => {
  await ctl?.close();
  await up?.close();
});

interface ApiReply {
  status: number;
  headers: Headers;
  body: any;
}

async function api(path: string, init: RequestInit & { json?: unknown } = {}, base = ctl.url): Promise<ApiReply> {
  const { json, ...rest } = init;
  const res = await fetch(base + path, {
    ...rest,
    body: json === undefined ? rest.body : JSON.stringify(json),
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...(rest.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Opens a WebSocket, or resolves with the HTTP status the server refused the upgrade with. */
function connectWs(url: string, opts: WebSocket.ClientOptions = {}): Promise<{ ws: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on('error', reject);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      resolve({ refused: res.statusCode ?? 0 });
    });
  });
}

async function openWs(url: string, opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const r = await connectWs(url, opts);
  if ('refused' in r) throw new Error(`WebSocket refused with ${r.refused}`);
  return r.ws;
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('faults', () => {
  test('lists the catalogue', async () => {
    const r = await api('/api/faults');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toContainEqual({ id: 'empty-reply', layer: 'exchange', summary: expect.any(String) });
    expect(r.body).toContainEqual({ id: 'connect-refused', layer: 'listener', summary: expect.any(String) });
    expect(r.body.length).toBe(up.catalogue.list().length);
  });

  test('reads an exchange fault: definition as data plus one line per compiled step', async () => {
    const r = await api('/api/faults/slow-body');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'slow-body', layer: 'exchange', params: { intervalMs: 50 } });
    expect(r.body.steps).toEqual(JSON.parse(JSON.stringify(up.catalogue.get('slow-body'))).steps);
    expect(r.body.explained).toHaveLength(3);
    expect(r.body.explained[2]).toContain('every 50 ms');
  });

  test('reads a listener fault with its port, and says when one is not running', async () => {
    const refused = await api('/api/faults/connect-refused');
    expect(refused.status).toBe(200);
    const port = up.listeners.find((l) => l.fault === 'connect-refused')!.port;
    expect(refused.body).toMatchObject({ layer: 'listener', listener: 'refuse', running: true, port });
    const queue = await api('/api/faults/accept-queue-full');
    expect(queue.body).toMatchObject({ layer: 'listener', running: false });
    expect(queue.body.port).toBeUndefined();
  });

  test('reads a dns fault with its name in the zone', async () => {
    const r = await api('/api/faults/dns-nxdomain');
    expect(r.body).toMatchObject({ layer: 'dns', label: 'nxdomain', name: 'nxdomain.badgateway.test', server: { port: 5353 } });
  });

  test('an unknown fault is a 404 naming the closest ids', async () => {
    const r = await api('/api/faults/empty-replay');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('BG_UNKNOWN_FAULT');
    expect(r.body.error.message).toContain('empty-reply');
  });
});

describe('other endpoints', () => {
  test('listeners, stats, routing', async () => {
    const l = await api('/api/listeners');
    expect(l.body.listeners).toEqual(JSON.parse(JSON.stringify(up.listeners)));
    expect(l.body.dns).toEqual({ host: '127.0.0.1', port: 5353, zone: 'badgateway.test' });
    const s = await api('/api/stats');
    expect(s.body).toMatchObject({ openConnections: expect.any(Number) });
    const r = await api('/api/routing');
    expect(r.body).toMatchObject({ routes: [], defaultFault: 'healthy' });
  });

  test('unknown path 404, wrong method 405, plain GET on the event stream 426', async () => {
    const nf = await api('/api/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('BG_CONTROL_NOT_FOUND');
    const m = await api('/api/faults', { method: 'DELETE' });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('GET, HEAD');
    expect(m.body.error.code).toBe('BG_CONTROL_METHOD_NOT_ALLOWED');
    const ev = await api('/api/events');
    expect(ev.status).toBe(426);
  });

  test('refuses a Host that is a name (DNS rebinding) when there is no token', async () => {
    const r = await rawRequest(`GET /api/stats HTTP/1.1\r\nHost: evil.example:${ctl.port}\r\nConnection: close\r\n\r\n`, { port: ctl.port });
    expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 403 .*BG_CONTROL_BAD_HOST/s);
    const ws = await connectWs(`ws://127.0.0.1:${ctl.port}/api/events`, { origin: 'https://evil.example' });
    expect(ws).toEqual({ refused: 403 });
  });
});

describe('routing', () => {
  test('switching the default fault changes what the upstream answers', async () => {
    const put = await api('/api/routing/default', { method: 'PUT', json: { fault: 'empty-reply' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ defaultFault: 'empty-reply', routes: [] });
    try {
      const r = await rawRequest(GET('/anything'), { port: up.http.port });
      expect(r.bytes.length).toBe(0);
      expect(r.end).toBe('fin');
    } finally {
      await api('/api/routing/default', { method: 'PUT', json: { fault: 'healthy' } });
    }
    const back = await rawRequest(GET('/anything', 'Connection: close\r\n'), { port: up.http.port });
    expect(back.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('an unknown fault is a 400 naming the closest ids, and nothing changes', async () => {
    const before = await api('/api/routing');
    const r = await api('/api/routing/default', { method: 'PUT', json: { fault: 'empty-replay' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BG_UNKNOWN_FAULT');
    expect(r.body.error.message).toContain('empty-reply');
    const table = await api('/api/routing', { method: 'PUT', json: { routes: [{ pathPrefix: '/a', fault: 'healthy' }, { pathPrefix: '/b', fault: 'rest-after-request' }], defaultFault: 'healthy' } });
    expect(table.status).toBe(400);
    expect(table.body.error.message).toContain('reset-after-request');
    expect((await api('/api/routing')).body).toEqual(before.body);
  });

  test('replaces the whole table; shape errors name the field', async () => {
    const bad = await api('/api/routing', { method: 'PUT', json: { routes: [{ pathPrefix: 'x', fault: 'healthy', colour: 1 }], defaultFault: 'healthy' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BG_CONTROL_BAD_BODY');
    expect(bad.body.error.message).toContain('routes.0.pathPrefix');
    expect(bad.body.error.message).toContain('colour');
    const notJson = await api('/api/routing', { method: 'PUT', body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('BG_CONTROL_BAD_JSON');
    const big = await api('/api/routing', { method: 'PUT', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);

    const spec = { routes: [{ pathPrefix: '/x', fault: 'empty-reply' }], defaultFault: 'healthy' };
    const ok = await api('/api/routing', { method: 'PUT', json: spec });
    try {
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual(spec);
      const r = await rawRequest(GET('/x/y'), { port: up.http.port });
      expect(r.bytes.length).toBe(0);
    } finally {
      await api('/api/routing', { method: 'PUT', json: { routes: [], defaultFault: 'healthy' } });
    }
  });
});

describe('event stream', () => {
  test('delivers connection, request, step and close of one request in order', async () => {
    const ws = await openWs(`ws://127.0.0.1:${ctl.port}/api/events`);
    const events: any[] = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d))));
    try {
      const r = await rawRequest(GET('/healthy', 'Connection: close\r\n'), { port: up.http.port });
      expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
      await until(() => events.some((e) => e.type === 'close'));
      const conn = events[0].conn;
      expect(events.map((e) => e.type)).toEqual(['connection', 'request', 'step', 'close']);
      expect(events.every((e) => e.conn === conn && typeof e.at === 'string')).toBe(true);
      expect(events[1]).toMatchObject({ method: 'GET', target: '/healthy', fault: 'healthy' });
      expect(events[2]).toMatchObject({ index: 0, op: 'respond' });
    } finally {
      ws.close();
    }
  });

  test('events of every frame length and in any script arrive intact, one message each', async () => {
    const ws = await openWs(`ws://127.0.0.1:${ctl.port}/api/events`);
    const got: any[] = [];
    ws.on('message', (d, isBinary) => got.push({ isBinary, e: JSON.parse(String(d)) }));
    try {
      // JSON lengths across the 7-bit, 16-bit and 64-bit length forms of a frame.
      const targets = ['/', '/' + 'a'.repeat(200), '/' + 'b'.repeat(70_000), '/é€😀'];
      for (const target of targets) up.events.emit({ type: 'request', conn: -1, method: 'GET', target, fault: 'test', via: 'test' });
      await until(() => got.length === targets.length);
      expect(got.map((g) => [g.isBinary, g.e.target])).toEqual(targets.map((t) => [false, t]));
    } finally {
      ws.close();
    }
  });

  test('a client that falls behind is closed with 1008 instead of being buffered without limit', async () => {
    // A bound well above one event (16 KiB), so the reader on this busy loop has room to confirm.
    const slowCtl = await startControl({ upstream: up, events: { maxBufferedBytes: 256 * 1024, closeGraceMs: 10_000 } });
    const slow = await openWs(`ws://127.0.0.1:${slowCtl.port}/api/events`);
    const fast = await openWs(`ws://127.0.0.1:${slowCtl.port}/api/events`);
    let received = 0;
    let fastReceived = 0;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    slow.on('message', () => received++);
    fast.on('message', () => fastReceived++);
    try {
      slow.pause();
      const target = 'x'.repeat(16 * 1024);
      // One event per turn of the loop, as a busy upstream emits them, until the kernel and the bound are full.
      for (let i = 0; i < 1000; i++) {
        up.events.emit({ type: 'request', conn: -1, method: 'GET', target, fault: 'test', via: 'test' });
        await new Promise((r) => setImmediate(r));
      }
      await until(() => fastReceived === 1000, 4000);
      slow.resume();
      const { code, reason } = await closed;
      expect(code).toBe(1008);
      expect(reason).toBe('too slow: more than 262144 bytes of events unread');
      // What was queued before the close frame arrived first, then the close: never all of it.
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(1000);
      expect(fast.readyState).toBe(WebSocket.OPEN);
    } finally {
      slow.terminate();
      fast.close();
      await slowCtl.close();
    }
  });
  test('a client that never reads is closed once the bound is sent and not confirmed by a pong, before the kernel buffers fill', async () => {
    const max = 64 * 1024;
    let dropped = false;
    const c = await startControl({ upstream: up, events: { maxBufferedBytes: max, closeGraceMs: 100, onSlowClient: () => (dropped = true) } });
    // A raw socket that completes the handshake and never reads: it sends no pong, and the kernel
    // would take megabytes for it on loopback before the upstream's socket refused a write.
    const s = netConnect(c.port, '127.0.0.1');
    s.on('error', () => {});
    try {
      s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${c.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`);
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.pause();
      const target = 'x'.repeat(16 * 1024);
      let emitted = 0;
      while (!dropped && emitted < 1000) {
        up.events.emit({ type: 'request', conn: -1, method: 'GET', target, fault: 'test', via: 'test' });
        emitted++;
        await new Promise((r) => setImmediate(r));
      }
      // Dropped once more than the bound was sent unconfirmed, judged batch by batch (a batch is
      // at most an eighth of the bound and one event): within the bound and two events here. Without the pings it took
      // 248 events (4 MB) here.
      expect(emitted * target.length).toBeLessThanOrEqual(max + 2 * target.length);
      let read = 0;
      s.on('data', (d: Buffer) => (read += d.length));
      s.resume();
      await new Promise((r) => s.once('close', r));
      expect(read).toBeLessThanOrEqual(max + 2 * target.length);
    } finally {
      s.destroy();
      await c.close();
    }
  });

  test('a client that reads answers the pings and keeps up through megabytes of events', async () => {
    const c = await startControl({ upstream: up, events: { maxBufferedBytes: 256 * 1024 } });
    const ws = await openWs(`ws://127.0.0.1:${c.port}/api/events`);
    let received = 0;
    ws.on('message', () => received++);
    try {
      const target = 'x'.repeat(16 * 1024);
      // 8 MB: thirty times the bound, confirmed a quarter of the bound at a time.
      for (let i = 0; i < 500; i++) {
        up.events.emit({ type: 'request', conn: -1, method: 'GET', target, fault: 'test', via: 'test' });
        await new Promise((r) => setImmediate(r));
      }
      await until(() => received === 500, 4000);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
      await c.close();
    }
  });
});

describe('security and lifecycle', () => {
  test('a non-loopback bind without a token throws and leaves no socket', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = servers();
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      await expect(startControl({ upstream: up, host })).rejects.toMatchObject({
        name: 'InputError',
        code: 'BG_CONTROL_TOKEN_REQUIRED',
        message: expect.stringContaining('--control-token'),
      });
    }
    expect(servers()).toBe(before);
  });

  test('with a token every request and the upgrade need it', async () => {
    await using c = await startControl({ upstream: up, token: 's3cret' });
    const missing = await api('/api/stats', {}, c.url);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('BG_CONTROL_UNAUTHORIZED');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await api('/api/stats', { headers: { authorization: 'Bearer s3cre' } }, c.url);
    expect(wrong.status).toBe(401);
    const right = await api('/api/stats', { headers: { authorization: 'Bearer s3cret' } }, c.url);
    expect(right.status).toBe(200);

    const events = `ws://127.0.0.1:${c.port}/api/events`;
    expect(await connectWs(events)).toEqual({ refused: 401 });
    expect(await connectWs(`${events}?token=nope`)).toEqual({ refused: 401 });
    (await openWs(`${events}?token=s3cret`)).close();
    (await openWs(events, { headers: { authorization: 'Bearer s3cret' } })).close();
  });

  test('a port in use is a StartError naming the port', async () => {
    const err = await startControl({ upstream: up, port: ctl.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err).toMatchObject({ code: 'BG_ADDRESS_IN_USE', message: expect.stringContaining(String(ctl.port)) });
  });

  test('close() ends WebSocket clients and open sockets, is idempotent, and frees the port', async () => {
    const c = await startControl({ upstream: up });
    const ws = await openWs(`ws://127.0.0.1:${c.port}/api/events`);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    // fetch keeps this connection alive in its pool: close() must not wait for it.
    expect((await api('/api/stats', {}, c.url)).status).toBe(200);
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(await closed).toBe(1001);
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(c.port, '127.0.0.1', resolve);
    });
    await new Promise((r) => probe.close(r));
  });
});
