/**
 * A request that names a fault the upstream cannot run (by path or by the override header) gets
 * a 404 that names it and the closest ids, and an event; it never silently gets the default
 * fault. Paths that do not read as a fault id keep the default.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Stamped } from '../../src/upstream/events.js';
import { namesAFault, unknownFaultResponse } from '../../src/upstream/unknown-fault.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { Catalogue } from '../../src/faults/registry.js';
import { GET, rawRequest } from '../helpers/raw-client.js';

const OK_CLOSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';
const CLOSE = 'Connection: close\r\n';

let up: StartedUpstream;
const events: Stamped[] = [];

beforeAll(async () => {
  up = await startUpstream({ listenerFaults: [] });
  up.events.subscribe((e) => events.push(e));
});
afterAll(() => up.close());

async function get(target: string, extra = ''): Promise<{ text: string; end: string; head: string; body: string }> {
  const r = await rawRequest(GET(target, extra), { port: up.http.port });
  const text = r.bytes.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  return { text, end: r.end, head: text.slice(0, split + 2), body: text.slice(split + 4) };
}

function expect404(r: { end: string; head: string; body: string }): void {
  expect(r.head).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  expect(r.head).toContain('Connection: close\r\n');
  expect(r.head).toContain('X-Badgateway-Error: BG_UNKNOWN_FAULT\r\n');
  expect(r.head).toContain(`Content-Length: ${Buffer.byteLength(r.body)}\r\n`);
  expect(r.end).toBe('fin');
}

const unknownEvents = () => events.filter((e): e is Extract<Stamped, { type: 'unknown-fault' }> => e.type === 'unknown-fault');

describe('by path (fault paths on)', () => {
  test('a misspelt fault id: 404 naming it and the closest ids, and an event', async () => {
    const before = unknownEvents().length;
    const r = await get('/empty-replay');
    expect404(r);
    expect(r.body).toMatch(/^badgateway: BG_UNKNOWN_FAULT: no fault "empty-replay" \(named by the request path\)\. Closest: empty-reply, /);
    expect(unknownEvents().slice(before)).toEqual([expect.objectContaining({ type: 'unknown-fault', id: 'empty-replay', via: 'path', conn: expect.any(Number) })]);
  });

  test('the start of several fault ids lists them', async () => {
    const r = await get('/body-cut?x=1');
    expect404(r);
    expect(r.body).toMatch(/no fault "body-cut" .*Closest: body-cut-fin-chunked, body-cut-fin-length, body-cut-reset-chunked\./);
  });

  test('a listener or DNS fault by path says where it is played instead', async () => {
    const listener = await get('/connect-refused');
    expect404(listener);
    expect(listener.body).toMatch(/fault "connect-refused" \(named by the request path\) is a listener fault: .*on a port of its own/);
    const dns = await get('/dns-nxdomain');
    expect404(dns);
    expect(dns.body).toMatch(/fault "dns-nxdomain" .* is a DNS fault: the DNS responder plays it for a name of its own/);
  });

  test('a process fault by path says that serve runs no supervised backend, and what does', async () => {
    const proc = await get('/process-freeze');
    expect404(proc);
    expect(proc.body).toMatch(/fault "process-freeze" \(named by the request path\) is a process fault: .*`badgateway serve` runs none\. `badgateway run` starts one per scenario/);
  });

  test('paths that do not read as a fault id get the default fault, as before', async () => {
    const before = unknownEvents().length;
    for (const path of ['/', '/api/users', '/healthz', '/health', '/s/empty-replay', '/my-page', '/checkout-cart', '/__badgateway/ready', '/Empty-Replay']) {
      expect((await get(path, CLOSE)).text, path).toBe(OK_CLOSE);
    }
    expect(unknownEvents().length).toBe(before);
  });

  test('a known fault still runs, with its params from the query string', async () => {
    const r = await rawRequest(GET('/empty-reply'), { port: up.http.port });
    expect(r).toMatchObject({ end: 'fin' });
    expect(r.bytes.length).toBe(0);
  });

  test('a request body is read before the 404, so the client gets the answer and a FIN, not a reset', async () => {
    const body = 'b'.repeat(256 * 1024);
    const r = await rawRequest(`POST /empty-replay HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { port: up.http.port });
    expect(r.end).toBe('fin');
    expect(r.bytes.toString('utf8')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[\s\S]*no fault "empty-replay"/);
  });
});

describe('by the override header', () => {
  test('an unknown id is always a 404, whatever the path', async () => {
    const before = unknownEvents().length;
    const r = await get('/empty-reply', 'x-badgateway-fault: no-such-fault\r\n');
    expect404(r);
    expect(r.body).toMatch(/^badgateway: BG_UNKNOWN_FAULT: no fault "no-such-fault" \(named by the fault header\)\. Closest: /);
    expect(unknownEvents().slice(before)).toEqual([expect.objectContaining({ id: 'no-such-fault', via: 'header' })]);
  });

  test('params written into the id are pointed to the query string', async () => {
    const r = await get('/', 'x-badgateway-fault: slow-response?delayMs=5\r\n');
    expect404(r);
    expect(r.body).toMatch(/Closest: slow-response, .*Parameters go in the query string of the request, not in the fault id\./);
  });

  test('a known id still runs', async () => {
    const r = await rawRequest(GET('/', 'x-badgateway-fault: empty-reply\r\n'), { port: up.http.port });
    expect(r.end).toBe('fin');
    expect(r.bytes.length).toBe(0);
  });

  test('a 60 KB id is answered at once, and neither the answer nor the event carries all of it', async () => {
    const before = unknownEvents().length;
    const id = 'x'.repeat(60 * 1024);
    const r = await get('/', `x-badgateway-fault: ${id}\r\n`);
    expect404(r);
    expect(r.body.length).toBeLessThan(600);
    expect(r.body).toContain(`"${'x'.repeat(100)}…"`);
    const [e] = unknownEvents().slice(before);
    expect(e!.id.length).toBe(101);
  });
});

describe('off switches', () => {
  test('with fault paths and the header off (as the harness runs), every path gets the default fault', async () => {
    const quiet = await startUpstream({ listenerFaults: [], faultPaths: false, faultHeader: false });
    try {
      for (const path of ['/empty-replay', '/empty-reply', '/connect-refused']) {
        const r = await rawRequest(GET(path, `${CLOSE}x-badgateway-fault: nope\r\n`), { port: quiet.http.port });
        expect(r.bytes.toString('latin1'), path).toBe(OK_CLOSE);
      }
    } finally {
      await quiet.close();
    }
  });
});

describe('the rule and its bounds (pure)', () => {
  const ids = new Catalogue().ids();

  test('a segment names a fault when it has a dash and is within two edits of an id, or starts one, or is a non-exchange id', () => {
    expect(['empty-replay', 'empty-rep1y', 'body-cut', 'slow-respons', 'connect-refused', 'dns-nxdomain', 'healthy'].filter((s) => !namesAFault(s, ids))).toEqual([]);
    expect(['api', 'health', 'healthz', 's', 'my-page', 'checkout-cart', 'empty', 'body', 'x'.repeat(200) + '-y'].filter((s) => namesAFault(s, ids))).toEqual([]);
  });

  test('a 1 MB id costs no more than a short one: it is cut before any edit distance is taken', () => {
    const huge = 'q-'.repeat(512 * 1024);
    const start = performance.now();
    expect(namesAFault(huge, ids)).toBe(false);
    const res = unknownFaultResponse(huge, 'header', undefined, ids).toString('utf8');
    // Unbounded, the edit distance of 1 M characters to every id takes seconds.
    expect(performance.now() - start).toBeLessThan(250);
    expect(res.length).toBeLessThan(800);
  });
});
