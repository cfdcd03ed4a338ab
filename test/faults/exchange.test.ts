/**
 * Every built-in exchange fault on the wire: the exact bytes a client gets and
 * how the stream ends. The table below is checked against the catalogue, so a
 * fault added without a wire expectation fails here.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { openSession, rawRequest, waitUntil, type RawResult } from '../helpers/raw-client.js';

const CLOSE = 'Connection: close\r\n';
const request = (target: string, extra = CLOSE) => `GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
const WS_UPGRADE =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
/** The accept value RFC 6455 section 1.3 gives for the key above. */
const WS_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** Bytes from text (latin1) and explicit byte values, so control bytes are spelled out. */
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const x100 = 'x'.repeat(100);

interface WireExpectation {
  /** Request bytes; default GET /<id> with Connection: close. */
  readonly request?: string;
  /** Appended to /<id>, to lower a declared param. */
  readonly query?: string;
  /** Exactly what arrives. */
  readonly bytes: Buffer;
  /** FIN, RST, or nothing until our own timeout (a hang). */
  readonly end: 'fin' | 'reset' | 'timeout';
  /** Our own timeout; short for hangs. */
  readonly timeoutMs?: number;
  readonly check?: (r: RawResult) => void;
}

const SLOW_HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Slow: yes\r\n\r\n';
const SLOW_BODY_HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n';

const EXPECT: Record<string, WireExpectation> = {
  healthy: {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n'),
    end: 'fin',
  },
  'empty-reply': { bytes: bytes(), end: 'fin' },
  'reset-after-request': { bytes: bytes(), end: 'reset' },
  'never-respond': { bytes: bytes(), end: 'timeout', timeoutMs: 300 },
  'slow-response': {
    query: '?delayMs=100',
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlate\n'),
    end: 'fin',
    check: (r) => {
      // Not before the delay; and well before the default 3000 ms, so the query param took effect.
      expect(r.chunks[0]!.atMs).toBeGreaterThanOrEqual(98);
      expect(r.chunks[0]!.atMs).toBeLessThan(1000);
    },
  },
  'garbage-status-line': { bytes: bytes('HTTP/1.1 2OO OK\r\nContent-Length: 3\r\n\r\nbad'), end: 'fin' },
  'http09-reply': { bytes: bytes('hello from a backend that does not speak HTTP/1.x\n'), end: 'fin' },
  'header-no-colon': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Broken-Header-Without-Colon\r\n\r\nok'),
    end: 'fin',
  },
  'header-space-before-colon': { bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Spaced : value\r\n\r\nok'), end: 'fin' },
  'header-nul-byte': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Nul: before', [0x00], 'after\r\n\r\nok'),
    end: 'fin',
  },
  'header-control-char': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Ctl', [0x01], 'Name: value\r\n\r\nok'),
    end: 'fin',
  },
  'header-too-big': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: ', 'a'.repeat(65536), '\r\n\r\nok'),
    end: 'fin',
    check: (r) => expect(r.bytes.indexOf('\r\n\r\n')).toBeGreaterThan(64 * 1024),
  },
  'too-many-headers': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', 'X-Many: 0123456789abcdef\r\n'.repeat(2000), '\r\nok'),
    end: 'fin',
    check: (r) => {
      const head = r.bytes.toString('latin1', 0, r.bytes.indexOf('\r\n\r\n'));
      expect(head.split('\r\n').filter((l) => l.startsWith('X-Many: ')).length).toBe(2000);
    },
  },
  'duplicate-content-length': { bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok'), end: 'fin' },
  'content-length-and-chunked': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'),
    end: 'fin',
  },
  'invalid-chunk-size': {
    bytes: bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'),
    end: 'fin',
  },
  'partial-head-then-close': { bytes: bytes('HTTP/1.1 200 OK\r\nContent-Type: text/pl'), end: 'fin' },
  'body-cut-fin-length': { bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', x100), end: 'fin' },
  'body-cut-reset-length': { bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', x100), end: 'reset' },
  'body-cut-fin-chunked': {
    bytes: bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '64\r\n', x100, '\r\n'),
    end: 'fin',
  },
  'body-cut-reset-chunked': {
    bytes: bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '64\r\n', x100, '\r\n'),
    end: 'reset',
  },
  'body-short-hold-open': {
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', x100),
    end: 'timeout',
    timeoutMs: 300,
  },
  // Timing is checked on a quiet connection below (dribble timing); here, the bytes.
  'slow-headers': { query: '?intervalMs=5', bytes: bytes(SLOW_HEAD, 'ok\n'), end: 'fin' },
  'slow-body': { query: '?intervalMs=5', bytes: bytes(SLOW_BODY_HEAD, 'abcdefghijklmnopqrs\n'), end: 'fin' },
  'interim-100': {
    bytes: bytes('HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nafter 100\n'),
    end: 'fin',
  },
  'interim-103': {
    bytes: bytes(
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nafter 103\n',
    ),
    end: 'fin',
  },
  // A TLS record: alert (0x15), TLS 1.2 (03 03), length 2, fatal (02) handshake_failure (0x28).
  'tls-to-plain': { bytes: hex('15 0303 0002 02 28'), end: 'fin' },
  // HTTP/2 frames: an empty SETTINGS (type 4) on stream 0, then GOAWAY (type 7, 8 bytes:
  // last stream 0, error PROTOCOL_ERROR 1).
  'http2-to-plain': { bytes: hex('000000 04 00 00000000' + '000008 07 00 00000000 00000000 00000001'), end: 'fin' },
  'keepalive-idle-close': {
    request: request('/keepalive-idle-close?idleMs=150', ''),
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n'),
    end: 'fin',
    check: (r) => expect(r.durationMs).toBeGreaterThanOrEqual(148),
  },
  // Two pipelined requests: the first is answered, the second gets a FIN and nothing else.
  'keepalive-stale': {
    request: request('/keepalive-stale', '') + request('/keepalive-stale', ''),
    bytes: bytes('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n'),
    end: 'fin',
  },
  'websocket-refused': {
    request: request('/websocket-refused', WS_UPGRADE),
    bytes: bytes('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 19\r\n\r\nno websockets here\n'),
    end: 'fin',
  },
  'websocket-101-no-upgrade': {
    request: request('/websocket-101-no-upgrade', WS_UPGRADE),
    bytes: bytes('HTTP/1.1 101 Switching Protocols\r\n\r\n'),
    end: 'fin',
    check: (r) => expect(r.durationMs).toBeGreaterThanOrEqual(198),
  },
  'websocket-101-then-reset': {
    request: request('/websocket-101-then-reset', WS_UPGRADE),
    bytes: Buffer.concat([
      bytes(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${WS_ACCEPT}\r\n\r\n`),
      // One unmasked final text frame (0x81), length 5, "hello".
      hex('81 05 68656c6c6f'),
    ]),
    end: 'reset',
  },
};

const catalogue = new Catalogue();
const exchangeIds = catalogue
  .list()
  .filter((d) => d.layer === 'exchange')
  .map((d) => d.id);

let up: StartedUpstream;
/** Every exchange runs at once; the tests below check their results. */
const results = new Map<string, RawResult>();

beforeAll(async () => {
  up = await startUpstream();
  await Promise.all(
    exchangeIds.map(async (id) => {
      const e = EXPECT[id];
      if (!e) return;
      const r = await rawRequest(e.request ?? request(`/${id}${e.query ?? ''}`), { port: up.http.port, timeoutMs: e.timeoutMs ?? 3000 });
      results.set(id, r);
    }),
  );
});
afterAll(async () => {
  await up?.close();
});

describe('every built-in exchange fault on the wire', () => {
  test('the expectation table names only faults of the catalogue', () => {
    expect(Object.keys(EXPECT).filter((id) => !exchangeIds.includes(id))).toEqual([]);
  });

  test.each(exchangeIds)('%s', (id) => {
    const e = EXPECT[id];
    if (!e) throw new Error(`fault ${id} has no wire expectation: add one to EXPECT in test/faults/exchange.test.ts`);
    const r = results.get(id)!;
    expect({ end: r.end, bytes: r.bytes.toString('latin1') }).toEqual({ end: e.end, bytes: e.bytes.toString('latin1') });
    expect(r.bytes.equals(e.bytes)).toBe(true);
    e.check?.(r);
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
