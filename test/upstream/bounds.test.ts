/**
 * What a request's query string can make the upstream spend is bounded: params out of range get
 * a 400 that names them (and a `rejected` event) instead of the fault with its defaults, long
 * repeats are streamed rather than built and cached, the compiled-fault cache is bounded in
 * bytes, and `read: {bytes}` keeps a count, not the bytes.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import type { Stamped } from '../../src/upstream/events.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, rawRequest, waitUntil, type RawResult } from '../helpers/raw-client.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

/** Buffer memory of this process once garbage is collected: what the upstream keeps. */
async function heldBuffers(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().arrayBuffers;
}

const P = (name: string) => '$' + `{${name}}`;
const FAULTS = `faults:
  - id: repeat-n
    params: { n: 10 }
    steps:
      - write: { repeat: "a", times: "${P('n')}" }
      - close
  - id: body-n
    params: { n: 10 }
    steps:
      - respond: { body: { repeat: "b", times: "${P('n')}" } }
  - id: read-n
    params: { n: 1 }
    steps:
      - read: { bytes: "${P('n')}" }
      - respond: { body: "read\\n" }
`;

let up: StartedUpstream;
const events: Stamped[] = [];
beforeAll(async () => {
  const catalogue = new Catalogue();
  for (const f of loadFaultText(FAULTS, 'bounds.yaml')) catalogue.add(f);
  up = await startUpstream({ catalogue, listenerFaults: [] });
  up.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await up?.close();
});

/** Connects, writes the request, counts (and drops) what comes back until the end: no memory of ours in the measurement. */
function countBytes(request: string, timeoutMs = 20_000): Promise<{ bytes: number; head: string; end: string }> {
  return new Promise((resolve) => {
    const s: Socket = connect({ host: '127.0.0.1', port: up.http.port });
    let bytes = 0;
    let head = '';
    const done = (end: string) => {
      clearTimeout(t);
      s.destroy();
      resolve({ bytes, head, end });
    };
    const t = setTimeout(() => done('timeout'), timeoutMs);
    s.on('connect', () => s.write(request));
    s.on('data', (d: Buffer) => {
      if (head.length < 200) head += d.toString('latin1', 0, Math.min(d.length, 200));
      bytes += d.length;
    });
    s.on('end', () => done('fin'));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
  });
}

const CLOSE = 'Connection: close\r\n';

function expect400(r: RawResult, ...names: string[]): string {
  const text = r.bytes.toString('utf8');
  const [head, body] = text.split('\r\n\r\n') as [string, string];
  expect(head.split('\r\n')).toEqual([
    'HTTP/1.1 400 Bad Request',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    'X-Badgateway-Error: BG_INVALID_FAULT',
  ]);
  expect(r.end).toBe('fin');
  for (const n of names) expect(body).toContain(n);
  expect(body.length).toBeLessThan(400);
  return body;
}

describe('params from the query string out of range: a 400 naming the param and its maximum, never the defaults', () => {
  test('a delay beyond Node timer range (it used to fire after 1 ms)', async () => {
    const r = await rawRequest(GET('/slow-response?delayMs=2147483648'), { port: up.http.port });
    const body = expect400(r, 'delayMs=2147483648', 'at most 86400000 ms (24 h)');
    expect(body).toBe(
      "badgateway: BG_INVALID_FAULT: fault slow-response: steps.1.delay: parameter delayMs=2147483648: a wait is at most 86400000 ms (24 h). Parameters come from the request's query string; `badgateway faults <id>` lists a fault's parameters.\n",
    );
    expect(r.durationMs).toBeLessThan(1000);
    await waitUntil(() => events.some((e) => e.type === 'rejected'), 1000, 'a rejected event');
    expect(events.filter((e) => e.type === 'rejected').at(-1)).toMatchObject({ type: 'rejected', fault: 'slow-response', why: expect.stringContaining('delayMs=2147483648') });
  });

  test.each([
    ['a delay just within Node range but over 24 h', GET('/slow-response?delayMs=2147483647'), ['delayMs=2147483647', '86400000']],
    ['an idle time, by the fault header', GET('/anything?idleMs=1e10', 'X-Badgateway-Fault: keepalive-idle-close\r\n'), ['idleMs=10000000000', '86400000']],
    ['an interval that is not a number (it used to run with the default)', GET('/slow-body?intervalMs=soon'), ['intervalMs=soon', 'expected number']],
    ['a repeat over 1 GiB', GET('/repeat-n?n=2147483648'), ['n=2147483648', 'at most 1073741824 bytes (1 GiB)']],
    ['a read over 1 GiB', GET('/read-n?n=1073741825'), ['n=1073741825', 'at most 1073741824 (1 GiB)']],
  ])('%s', async (_what, request, names) => {
    const r = await rawRequest(request, { port: up.http.port });
    expect400(r, ...names);
  });

  test('the request body is read first, so the client gets the 400 and a FIN, not a reset', async () => {
    const body = 'x'.repeat(200_000);
    const r = await rawRequest(`POST /slow-response?delayMs=-5 HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { port: up.http.port });
    expect400(r, 'delayMs=-5');
  });

  test('in range, the value asked for is the value used', async () => {
    const r = await rawRequest(GET('/slow-response?delayMs=150', CLOSE), { port: up.http.port });
    expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.chunks[0]!.atMs).toBeGreaterThanOrEqual(148);
  });
});

describe('memory a request can make the upstream hold', () => {
  test('a repeat sized by ?n= is streamed, not built and cached: ten requests of 16 MiB leave nothing behind', async () => {
    // Compiled once without params first, so the measurement holds only what the ten requests add.
    await countBytes(GET('/repeat-n'));
    const before = await heldBuffers();
    for (let i = 0; i < 10; i++) {
      const n = 16 * MiB + i;
      const r = await countBytes(GET(`/repeat-n?n=${n}`));
      expect([r.end, r.bytes]).toEqual(['fin', n]);
    }
    const grew = (await heldBuffers()) - before;
    // Built and cached (as before), the ten held 160 MiB.
    expect(grew).toBeLessThan(8 * MiB);
  }, 60_000);

  test('the compiled-fault cache is bounded in bytes, not only in entries', async () => {
    const before = await heldBuffers();
    // Bodies of 60 KiB are built at compile time (three framings each: ~180 KiB a script).
    // 300 distinct params, under the 512-entry bound, would hold ~53 MiB; the byte bound is 16 MiB.
    for (let i = 0; i < 300; i++) {
      const n = 60 * 1024 + i;
      const r = await countBytes(GET(`/body-n?n=${n}`, CLOSE));
      expect(r.end).toBe('fin');
      expect(r.bytes).toBeGreaterThan(n);
    }
    const grew = (await heldBuffers()) - before;
    expect(grew).toBeLessThan(20 * MiB);
  }, 60_000);

  test('read: {bytes} keeps a count, not the bytes: 64 MiB is read in well under the 15 s it once took for 50', async () => {
    const n = 64 * MiB;
    const r = await new Promise<{ text: string; ms: number }>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: up.http.port });
      let text = '';
      const started = performance.now();
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no answer within 10 s; got ${JSON.stringify(text)}`));
      }, 10_000);
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.on('end', () => {
        clearTimeout(timer);
        s.destroy();
        resolve({ text, ms: performance.now() - started });
      });
      s.on('error', reject);
      s.on('connect', async () => {
        s.write(`POST /read-n?n=${n} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: ${n}\r\n\r\n`);
        const block = Buffer.alloc(MiB, 'r');
        for (let sent = 0; sent < n; sent += block.length) {
          if (!s.write(block)) await new Promise((ok) => s.once('drain', ok));
        }
      });
    });
    expect(r.text).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nread\n');
    expect(r.ms).toBeLessThan(5000);
  }, 20_000);
});
