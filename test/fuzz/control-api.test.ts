/**
 * Fuzz: the control API (src/control/control-server.ts), started the public way
 * (`startUpstream({ control })` from src/index.ts), with and without a token. Random methods,
 * targets, headers and bodies (most of them edited routing tables) on raw sockets: every request
 * gets one whole HTTP response, 2xx or 4xx (101 for an accepted WebSocket), never a 5xx, a hang or
 * a connection dropped without an answer; an accepted routing table is the one it then reports;
 * and afterwards both the control API and the upstream still answer.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startUpstream, type Upstream } from '../../src/index.js';
import { fuzz, timeout } from './settings.js';
import { applyEdits, edit } from './yaml-inputs.js';

const TOKEN = 'fuzz-token';
let open: Upstream;
let guarded: Upstream;
beforeAll(async () => {
  [open, guarded] = await Promise.all([
    startUpstream({ control: true, dns: false, listenerFaults: [] }),
    startUpstream({ control: { token: TOKEN }, dns: false, listenerFaults: ['connect-refused'] }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.close(), guarded?.close()]);
});

// ---- a raw HTTP/1.1 exchange --------------------------------------------------------------------

interface Reply {
  readonly kind: 'response';
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}
type Exchange = Reply | { readonly kind: 'dropped' | 'timeout'; readonly bytes: Buffer };

/** One request; resolves with the first whole response, or how the connection failed to deliver one. */
function exchange(port: number, request: Buffer, method: string, timeoutMs = 5000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const settle = (r: Exchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout', bytes: buf }), timeoutMs);
    const tryParse = (closed: boolean) => {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return closed ? settle({ kind: 'dropped', bytes: buf }) : undefined;
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      const m = /^HTTP\/1\.1 (\d{3})(?: .*)?$/.exec(lines[0]!);
      if (!m) return settle({ kind: 'dropped', bytes: buf });
      const status = Number(m[1]);
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) headers.set(l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim());
      const rest = buf.subarray(end + 4);
      if (status === 101 || method === 'HEAD') return settle({ kind: 'response', status, headers, body: Buffer.alloc(0) });
      const cl = headers.get('content-length');
      if (cl !== undefined) {
        if (rest.length >= Number(cl)) return settle({ kind: 'response', status, headers, body: rest.subarray(0, Number(cl)) });
        return closed ? settle({ kind: 'dropped', bytes: buf }) : undefined;
      }
      // No length: the body runs to the close (Node's own 400 for a request it cannot parse).
      if (closed) settle({ kind: 'response', status, headers, body: rest });
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      tryParse(false);
    });
    socket.on('close', () => tryParse(true));
    socket.on('error', () => {});
    socket.on('connect', () => socket.write(request));
  });
}

// ---- inputs -------------------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 });
const method = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('GET', 'PUT', 'PUT', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE') },
  { weight: 1, arbitrary: fc.constantFrom('get', 'put', 'CONNECT', 'PRI', 'M-SEARCH', 'G ET', '') },
  { weight: 1, arbitrary: token },
);

const PATHS = [
  '/api/faults', '/api/faults/', '/api/faults/healthy', '/api/faults/slow-response', '/api/faults/dns-nxdomain', '/api/faults/connect-refused',
  '/api/faults/nope', '/api/faults/%ZZ', '/api/faults/%E0%A4%A', '/api/faults/a%2Fb', '/api/faults/%00', '/api/listeners', '/api/routing',
  '/api/routing/', '/api/routing/default', '/api/stats', '/api/events', '/', '*', '//api/routing', '/api/../api/routing', '/API/ROUTING',
  'http://127.0.0.1/api/routing', 'http://[::1/', '/api/routing?x=1', '/api/routing#frag', `/api/faults/${'a'.repeat(3000)}`,
  `/api/faults/${'%C3%A9'.repeat(50)}`, '/api/events?token=fuzz-token', '/api/events?token=nope',
];
const urlChar = fc.oneof(fc.constantFrom(...'abcxyz019-._~/%?#&=;:@!$\'()*+,[]'), fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)));
const target = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('/api/faults/', '/api/routing', '/api/', '/'), fc.string({ unit: urlChar, maxLength: 30 })).map(([a, b]) => a + b) },
);

/** `{control}` is the control API's own address, filled in per server. */
const host = fc.constantFrom('{control}', '{control}', 'localhost', '[::1]:1', '127.0.0.1', 'evil.example', '', '127.0.0.1:99999', '[::1', 'a b', '%%', undefined);
const origin = fc.constantFrom(undefined, undefined, 'http://127.0.0.1:3000', 'http://localhost', 'null', 'http://evil.example', 'file://', ':::', 'http://[::1]');
const authorization = fc.constantFrom(undefined, undefined, `Bearer ${TOKEN}`, `bearer   ${TOKEN} `, 'Bearer nope', 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer ${TOKEN}x`);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data; boundary=x');
const upgrade = fc.constantFrom<string[] | undefined>(
  undefined,
  undefined,
  ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'],
  ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: nope', 'Sec-WebSocket-Version: 8'],
  ['Connection: keep-alive, Upgrade', 'Upgrade: h2c'],
);
const extraHeader = fc.tuple(token, fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 })).map(([n, v]) => `${n}: ${v}`);

const ROUTING_TABLES: unknown[] = [
  { routes: [], defaultFault: 'healthy' },
  {
    routes: [
      { pathPrefix: '/slow', fault: 'slow-response', params: { delayMs: 10 } },
      { header: { name: 'x-mode', value: 'reset' }, fault: 'reset-after-request' },
    ],
    defaultFault: 'healthy',
    defaultParams: {},
    mix: [{ fault: 'empty-reply', weight: 1 }, { fault: 'healthy', weight: 3 }],
    seed: 7,
  },
  { defaultFault: 'keepalive-idle-close', defaultParams: { idleMs: 100 } },
  { fault: 'healthy' },
  { fault: 'slow-response', params: { delayMs: 5 } },
];
const body = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...ROUTING_TABLES), fc.array(edit, { maxLength: 4 })).map(([t, e]) => JSON.stringify(applyEdits(t, e)) ?? '') },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '\u0000', '{"defaultFault":"healthy"}garbage', '{"__proto__":{"defaultFault":"x"}}') },
  { weight: 1, arbitrary: fc.constantFrom(1024 * 1024 + 1, 200_000).map((n) => `{"defaultFault":"healthy","x":"${'a'.repeat(n)}"}`) },
);

interface RequestSpec {
  method: string;
  target: string;
  host: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  upgrade: string[] | undefined;
  extra: string[];
  body: string | undefined;
  chunked: boolean;
  close: boolean;
  guarded: boolean;
}

/** Anything at all, mostly refused by Node's HTTP parser or by admission (Host, Origin, token). */
const wild: fc.Arbitrary<RequestSpec> = fc.record({
  method,
  target,
  host,
  origin,
  authorization,
  contentType,
  upgrade,
  extra: fc.array(extraHeader, { maxLength: 2 }),
  body: fc.option(body, { nil: undefined, freq: 3 }),
  chunked: fc.boolean(),
  close: fc.boolean(),
  guarded: fc.boolean(),
});

/** A request Node parses and admission lets through, so the endpoints themselves get the odd parts. */
const admitted: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'PUT', 'PUT', 'HEAD', 'POST', 'DELETE', 'OPTIONS'),
  target: fc.constantFrom(...PATHS.filter((p) => p.startsWith('/'))),
  host: fc.constantFrom('{control}', 'localhost', '127.0.0.1', '[::1]:1'),
  origin: fc.constantFrom(undefined, undefined, 'http://127.0.0.1:3000', 'http://localhost'),
  authorization: fc.constantFrom(`Bearer ${TOKEN}`, `bearer   ${TOKEN} `),
  contentType,
  upgrade: fc.constantFrom(undefined, undefined, undefined, ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']),
  extra: fc.constant([]),
  body: fc.option(body, { nil: undefined, freq: 2 }),
  chunked: fc.boolean(),
  close: fc.boolean(),
  guarded: fc.boolean(),
});

/** A routing table, edited: what most real clients of the API send. */
const routingPut: fc.Arbitrary<RequestSpec> = fc
  .tuple(admitted, fc.constantFrom('/api/routing', '/api/routing/default', '/api/routing/'), body)
  .map(([a, t, b]) => ({ ...a, method: 'PUT', target: t, contentType: 'application/json', upgrade: undefined, body: b }));

const SIMPLE_GET: RequestSpec = {
  method: 'GET',
  target: '/api/faults',
  host: '{control}',
  origin: undefined,
  authorization: undefined,
  contentType: undefined,
  upgrade: undefined,
  extra: [],
  body: undefined,
  chunked: false,
  close: false,
  guarded: false,
};

const requestSpec = fc.oneof({ weight: 2, arbitrary: wild }, { weight: 3, arbitrary: admitted }, { weight: 4, arbitrary: routingPut });

function render(r: RequestSpec, controlHost: string): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/1.1`];
  if (r.host !== undefined) lines.push(`Host: ${r.host.replace('{control}', controlHost)}`);
  if (r.origin !== undefined) lines.push(`Origin: ${r.origin}`);
  if (r.authorization !== undefined) lines.push(`Authorization: ${r.authorization}`);
  if (r.contentType !== undefined) lines.push(`Content-Type: ${r.contentType}`);
  if (r.upgrade) lines.push(...r.upgrade);
  lines.push(...r.extra);
  if (r.close) lines.push('Connection: close');
  const payload = Buffer.from(r.body ?? '', 'utf8');
  let bodyBytes = Buffer.alloc(0);
  if (r.body !== undefined) {
    if (r.chunked) {
      lines.push('Transfer-Encoding: chunked');
      bodyBytes = Buffer.concat([Buffer.from(payload.length ? `${payload.length.toString(16)}\r\n` : ''), payload, Buffer.from(payload.length ? '\r\n0\r\n\r\n' : '0\r\n\r\n')]);
    } else {
      lines.push(`Content-Length: ${payload.length}`);
      bodyBytes = payload;
    }
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), bodyBytes]);
}

// ---- checks -------------------------------------------------------------------------------------

function controlOf(up: Upstream): { port: number; host: string } {
  const u = new URL(up.controlUrl!);
  return { port: Number(u.port), host: u.host };
}

async function api(up: Upstream, method: string, path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(up.controlUrl + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: await res.json() };
}

/** The control API answers, the routing table goes back to healthy, and the upstream serves. */
async function stillWorks(up: Upstream): Promise<void> {
  expect((await api(up, 'GET', '/api/stats')).status).toBe(200);
  expect((await api(up, 'PUT', '/api/routing', { defaultFault: 'healthy' })).status).toBe(200);
  const res = await fetch(up.url('healthy'), { headers: { 'x-badgateway-fault': 'healthy' } });
  expect([res.status, await res.text()]).toEqual([200, 'ok\n']);
}

describe('fuzz: the control API', () => {
  test(
    'every request: one whole 2xx/4xx response (101 for a WebSocket), never a 5xx, a hang or a drop; both servers still work after',
    async () => {
      await fc.assert(
        fc.asyncProperty(requestSpec, async (spec) => {
          const up = spec.guarded ? guarded : open;
          const ctl = controlOf(up);
          const r = await exchange(ctl.port, render(spec, ctl.host), spec.method);
          if (r.kind !== 'response') {
            throw new Error(`${r.kind === 'timeout' ? 'no answer within 5 s' : 'the connection closed without a whole response'}; got ${JSON.stringify(r.bytes.toString('latin1').slice(0, 200))}`);
          }
          const ok = r.status === 101 || (r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500);
          expect(ok, `status ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`).toBe(true);
          if ((r.headers.get('content-type') ?? '').startsWith('application/json') && r.body.length > 0) {
            const json = JSON.parse(r.body.toString('utf8')) as { error?: { code?: string; message?: string } };
            if (r.status >= 400) {
              expect(json.error?.code).toMatch(/^BG_[A-Z_]+$/);
              expect(json.error?.message).toMatch(/\S/);
            }
            // An accepted routing table is the one the API reports from then on.
            if (r.status === 200 && spec.method === 'PUT') expect((await api(up, 'GET', '/api/routing')).body).toEqual(json);
          }
          await stillWorks(up);
        }),
        // CONNECT: Node drops the connection when the server has no 'connect' listener.
        fuzz(300, [[{ ...SIMPLE_GET, method: 'CONNECT', target: '/api/faults' }]]),
      );
    },
    timeout(60_000),
  );
});
