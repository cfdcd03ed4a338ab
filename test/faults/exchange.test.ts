/**
 * Every built-in exchange fault on the wire: the exact bytes a client gets and
 * how the stream ends, as each fault's own file declares them (`wire` in
 * src/faults/builtin/<id>.ts). A fault without one fails here and in
 * src/faults/registry.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import type { ExchangeFaultDef, WireBounds, WireBytes, WireExpectation } from '../../src/faults/fault.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { openSession, rawRequest, waitUntil, type RawResult } from '../helpers/raw-client.js';

const CLOSE = 'Connection: close\r\n';
const request = (target: string, extra = CLOSE) => `GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
const x100 = 'x'.repeat(100);

/** The bytes a `WireBytes` spells; written here, apart from the step compiler, so the two check each other. */
function wireBytes(b: WireBytes): Buffer {
  const parts = typeof b === 'string' ? [b] : b;
  return Buffer.concat(
    parts.map((p) => {
      if (typeof p === 'string') return Buffer.from(p, 'latin1');
      if ('hex' in p) {
        const h = p.hex.replace(/\s+/g, '');
        // Buffer.from(…, 'hex') stops silently at the first bad digit; a typo must not shorten the expectation.
        if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`wire bytes: "${p.hex}" is not whole bytes of hex`);
        return Buffer.from(h, 'hex');
      }
      return Buffer.from(p.repeat.repeat(p.times), 'latin1');
    }),
  );
}

function expectWithin(what: string, ms: number, b: WireBounds | undefined): void {
  if (b?.atLeast !== undefined) expect(ms, `${what} (ms)`).toBeGreaterThanOrEqual(b.atLeast);
  if (b?.below !== undefined) expect(ms, `${what} (ms)`).toBeLessThan(b.below);
}

/** Holds a result against every field of the fault's wire expectation. */
function expectWire(r: RawResult, w: WireExpectation): void {
  const want = wireBytes(w.bytes);
  expect({ end: r.end, bytes: r.bytes.toString('latin1') }).toEqual({ end: w.end, bytes: want.toString('latin1') });
  expect(r.bytes.equals(want)).toBe(true);
  if (w.firstByteMs) {
    expect(r.chunks.length, 'a first byte').toBeGreaterThan(0);
    expectWithin('first byte', r.chunks[0]!.atMs, w.firstByteMs);
  }
  expectWithin('end of stream', r.durationMs, w.durationMs);
  const headEnd = r.bytes.indexOf('\r\n\r\n');
  if (w.headLongerThan !== undefined) expect(headEnd, 'where the head ends').toBeGreaterThan(w.headLongerThan);
  if (w.headerLines) {
    const lines = r.bytes.toString('latin1', 0, headEnd).split('\r\n');
    for (const [name, n] of Object.entries(w.headerLines)) {
      expect(lines.filter((l) => l.startsWith(`${name}: `)).length, `head lines "${name}: "`).toBe(n);
    }
  }
}

// FastCGI faults are played by a raw FastCGI client in test/fastcgi/wire.test.ts, HTTP/2 ones by a raw frame client in test/h2/wire.test.ts.
const exchange = BUILTIN_FAULTS.filter((d): d is ExchangeFaultDef => d.layer === 'exchange' && d.protocol !== 'fastcgi' && d.protocol !== 'h2');

let up: StartedUpstream;
/** Every exchange runs at once; the tests below check their results. */
const results = new Map<string, RawResult>();

beforeAll(async () => {
  up = await startUpstream();
  await Promise.all(
    exchange.map(async ({ id, wire: w }) => {
      if (!w) return;
      const r = await rawRequest(w.request ?? request(`/${id}${w.query ?? ''}`), { port: up.http.port, timeoutMs: w.timeoutMs ?? 3000 });
      results.set(id, r);
    }),
  );
});
afterAll(async () => {
  await up?.close();
});

describe('every built-in exchange fault on the wire', () => {
  test.each(exchange.map((d) => [d.id, d] as const))('%s', (id, def) => {
    if (!def.wire) throw new Error(`fault ${id} has no wire expectation: add \`wire\` to src/faults/builtin/${id}.ts`);
    expectWire(results.get(id)!, def.wire);
  });

  // The checker itself: each field must be able to fail, or a fault could pass with a wrong expectation.
  test('the wire checker rejects what each field rules out', () => {
    const ok: RawResult = { bytes: Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\n\r\nok', 'latin1'), end: 'fin', chunks: [{ atMs: 50, size: 37 }], durationMs: 60 };
    const base: WireExpectation = { bytes: ['HTTP/1.1 200 OK\r\n', { repeat: 'X-A: ', times: 1 }, '1\r\nX-A: 2\r\n', { hex: '0d0a 6f6b' }], end: 'fin' };
    expectWire(ok, { ...base, firstByteMs: { atLeast: 50, below: 51 }, durationMs: { atLeast: 60, below: 61 }, headLongerThan: 30, headerLines: { 'X-A': 2 } });
    const bad: Array<Partial<WireExpectation>> = [
      { bytes: 'HTTP/1.1 200 OK\r\n' },
      { end: 'reset' },
      { firstByteMs: { atLeast: 51 } },
      { firstByteMs: { below: 50 } },
      { durationMs: { atLeast: 61 } },
      { durationMs: { below: 60 } },
      { headLongerThan: 31 },
      { headerLines: { 'X-A': 1 } },
      { bytes: [{ hex: '4g' }] },
    ];
    for (const b of bad) expect(() => expectWire(ok, { ...base, ...b }), JSON.stringify(b)).toThrow();
  });
});

describe.concurrent('keep-alive faults on one connection', () => {
  const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n';

  test('keepalive-idle-close: FIN after idleMs of quiet', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      const sentAt = s.now();
      s.write(request('/keepalive-idle-close?idleMs=200', ''));
      await s.waitFor((b) => b.length >= OK.length, 2000);
      const answeredAt = s.chunks[s.chunks.length - 1]!.atMs;
      const end = await s.waitEnd(2000);
      expect(end).not.toBe('timeout');
      if (end === 'timeout') return;
      expect(end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe(OK);
      // The idle timer starts after the answer, so after our request: a lower bound from sending it
      // cannot be shortened by a late 'data' event; the upper bound is from the answer's arrival.
      expect(end.atMs - sentAt).toBeGreaterThanOrEqual(198);
      expect(end.atMs - answeredAt).toBeLessThan(200 + 50);
    } finally {
      s.destroy();
    }
  });

  test('keepalive-idle-close: a request before idleMs is served on the same connection, and the idle timer restarts', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      s.write(request('/keepalive-idle-close?idleMs=200', ''));
      await s.waitFor((b) => b.length >= OK.length, 2000);
      expect(await s.quietFor(100)).toBe('quiet');
      const secondSentAt = s.now();
      s.write(request('/keepalive-idle-close?idleMs=200', ''));
      await s.waitFor((b) => b.length >= 2 * OK.length, 2000);
      const secondAt = s.chunks[s.chunks.length - 1]!.atMs;
      const end = await s.waitEnd(2000);
      if (end === 'timeout') throw new Error('no FIN after the second response');
      expect(end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe(OK + OK);
      expect(end.atMs - secondSentAt).toBeGreaterThanOrEqual(198);
      expect(end.atMs - secondAt).toBeLessThan(200 + 50);
    } finally {
      s.destroy();
    }
  });

  test('keepalive-idle-close: a POST is answered and its connection still closes after idleMs (its body is not the next request)', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      const sentAt = s.now();
      s.write(`POST /keepalive-idle-close?idleMs=200 HTTP/1.1\r\nHost: test\r\nContent-Length: 128\r\n\r\n${'x'.repeat(128)}`);
      await s.waitFor((b) => b.length >= OK.length, 2000);
      const end = await s.waitEnd(2000);
      if (end === 'timeout') throw new Error('no FIN within 2 s of a POST with idleMs=200');
      expect(end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe(OK);
      expect(end.atMs - sentAt).toBeGreaterThanOrEqual(198);
    } finally {
      s.destroy();
    }
  });

  test('keepalive-idle-close: a POST whose body stalls half-way still gets its close after idleMs', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      s.write(`POST /keepalive-idle-close?idleMs=200 HTTP/1.1\r\nHost: test\r\nContent-Length: 128\r\n\r\n${'x'.repeat(64)}`);
      await s.waitFor((b) => b.length >= OK.length, 2000);
      const end = await s.waitEnd(2000);
      if (end === 'timeout') throw new Error('no FIN within 2 s of a stalled POST body with idleMs=200');
      expect(end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe(OK);
    } finally {
      s.destroy();
    }
  });

  test('keepalive-stale: the first request is answered, the next one on the connection gets a FIN and no bytes', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      s.write(request('/keepalive-stale', ''));
      await s.waitFor((b) => b.length >= OK.length, 2000);
      // The connection stays open for reuse...
      expect(await s.quietFor(100)).toBe('quiet');
      s.write(request('/keepalive-stale', ''));
      const end = await s.waitEnd(2000);
      // ...and the reuse dies with a clean close.
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe(OK);
    } finally {
      s.destroy();
    }
  });

  test('healthy keeps the connection for the next request and answers HTTP/1.0 as asked', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      s.write(request('/healthy', ''));
      await s.waitFor((b) => b.length >= 67, 2000);
      expect(await s.quietFor(50)).toBe('quiet');
      s.write('GET /healthy HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      s.write('GET /healthy HTTP/1.0\r\n\r\n');
      const end = await s.waitEnd(2000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe(
        'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n' +
          'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n' +
          'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n',
      );
    } finally {
      s.destroy();
    }
  });
});

describe('faults that hold the connection open', () => {
  let own: StartedUpstream;
  beforeAll(async () => {
    // Its own upstream, so openConnections counts only this test's connection.
    own = await startUpstream({ listenerFaults: [] });
  });
  afterAll(async () => {
    await own?.close();
  });

  test.each([
    ['never-respond', ''],
    ['body-short-hold-open', 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + x100],
  ])('%s: the bytes so far, then nothing, with the connection open', async (id, sofar) => {
    const s = openSession({ port: own.http.port });
    try {
      await s.connected;
      s.write(request(`/${id}`));
      if (sofar.length > 0) await s.waitFor((b) => b.length >= sofar.length, 2000);
      expect(await s.quietFor(300)).toBe('quiet');
      expect(s.bytes().toString('latin1')).toBe(sofar);
      expect(own.openConnections).toBe(1);
    } finally {
      s.destroy();
    }
    await waitUntil(() => own.openConnections === 0, 1000, 'the upstream letting go of the connection');
  });
});
