/**
 * Fuzz: the request-head parser (src/wire/request-head.ts) and the chaos upstream's HTTP port that
 * reads heads with it (src/faults/conn.ts). The parser never throws: it answers ok, incomplete or
 * invalid, its answer does not depend on how the bytes were split, and a valid head round-trips.
 * The port answers every byte sequence with whole 200s and at most one 4xx at the end, never hangs
 * once the client has sent everything, and keeps serving afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import {
  headerValue,
  isUpgradeRequest,
  parseRequestHead,
  requestBodyFraming,
  wantsKeepAlive,
  type HeadParse,
} from '../../src/wire/request-head.js';
import { rawRequest } from '../helpers/raw-client.js';
import { fuzz, timeout } from './settings.js';

const DEFAULT_MAX = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const latin1 = (s: string) => Buffer.from(s, 'latin1');

// ---- inputs -------------------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const tchar = fc.constantFrom(...TCHARS);
const token = fc.string({ unit: tchar, minLength: 1, maxLength: 12 });
/** One latin1 byte as a char. */
const anyByte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
/** Any byte but LF, so no line or head terminator can form inside a field: lone CR, NUL and obs-text stay in. */
const noLf = fc.integer({ min: 0, max: 255 }).filter((c) => c !== 0x0a).map((c) => String.fromCharCode(c));
const visible = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'), token);
const target = fc.oneof(
  fc.constantFrom('/', '*', '/a?b=c', '/?', 'http://example.test/x?y', '/%00', '/a b'),
  fc.string({ unit: fc.oneof(visible, noLf), maxLength: 40 }).map((s) => `/${s}`),
);
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.9');
const headerName = fc.oneof(
  fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'X-Badgateway-Fault', 'content-length'),
  token,
  fc.string({ unit: noLf.filter((c) => c !== ':'), minLength: 1, maxLength: 12 }),
);
const headerValueArb = fc.oneof(
  fc.constantFrom('', 'close', 'keep-alive', 'Upgrade', 'websocket', 'chunked', '0', '5', ' 7 ', '1e3'),
  fc.string({ unit: visible, maxLength: 30 }),
  fc.string({ unit: noLf, maxLength: 30 }),
);
/** What a client puts between the colon and the value. */
const ows = fc.constantFrom('', ' ', '\t', '  ');

interface HeadSpec {
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string, string]>;
}

const headSpec: fc.Arbitrary<HeadSpec> = fc.record({
  method,
  target,
  version,
  headers: fc.array(fc.tuple(headerName, ows, headerValueArb), { maxLength: 8 }),
});

function serialize(h: HeadSpec): string {
  return `${h.method} ${h.target} ${h.version}\r\n${h.headers.map(([n, sp, v]) => `${n}:${sp}${v}\r\n`).join('')}\r\n`;
}

/** Pieces that make near-HTTP more likely than uniform bytes would. */
const fragment = fc.oneof(
  fc.constantFrom(
    '\r\n', '\r\n\r\n', '\r', '\n', '\n\n', ':', ' ', '\t', '\0', '?', '/',
    'GET', 'POST', ' / ', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'Host: x', 'Content-Length: ', 'Content-Length: 3',
    'Transfer-Encoding: chunked', 'Connection: close', 'Connection: keep-alive, Upgrade', 'Upgrade: websocket', '0', '-1',
  ),
  fc.string({ unit: anyByte, maxLength: 8 }),
);
const soup = fc
  .tuple(fc.array(fragment, { maxLength: 40 }), fc.constantFrom('', '\r\n\r\n'))
  .map(([parts, end]) => latin1(parts.join('') + end));
const arbitraryBytes = fc.oneof(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), soup);

/** Where a new line can go: before any CRLF of the head (the last one is the blank line's). */
function lineBreaks(s: string): number[] {
  const out: number[] = [];
  for (let i = s.indexOf('\r\n'); i !== -1; i = s.indexOf('\r\n', i + 1)) out.push(i);
  return out;
}
function insertLine(s: string, pick: number, line: string): string {
  const at = lineBreaks(s);
  if (at.length === 0) return s + line;
  const p = at[pick % at.length]!;
  return `${s.slice(0, p)}\r\n${line}${s.slice(p)}`;
}

const ODD_HEADERS = [
  'Content-Length: 5', 'Content-Length: 0', 'Content-Length: -1', 'Content-Length: 1e3', 'Content-Length: 0x10',
  'Content-Length: 5, 5', 'Content-Length: 99999999999999999999', 'Content-Length:   7  ', 'Content-Length: 3', 'Content-Length: 3',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip', 'transfer-encoding: CHUNKED',
  'Transfer-Encoding: chunked\0', 'Transfer-Encoding : chunked', 'Transfer-Encoding:\tchunked', 'Connection: close', 'Connection: upgrade',
  'Upgrade: websocket', 'Expect: 100-continue', ' leading-space: x', ': no-name', 'no-colon', '\0: nul-name',
];

type Mutation = (s: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A control or separator byte anywhere.
  fc.tuple(fc.nat(), fc.constantFrom('\r', '\n', '\0', '\r\n', ' ', ':', '\t', '\x7f', '\xff', '\r\n\r\n', '\n\r\n')).map(
    ([at, ch]): Mutation => (s) => {
      const p = at % (s.length + 1);
      return s.slice(0, p) + ch + s.slice(p);
    },
  ),
  // obs-fold: a continuation line that starts with whitespace.
  fc.tuple(fc.nat(), fc.constantFrom(' ', '\t', '  '), fc.string({ unit: visible, maxLength: 12 })).map(
    ([at, ws, text]): Mutation => (s) => insertLine(s, at, ws + text),
  ),
  // Duplicate Content-Length, odd Transfer-Encoding and other framing headers.
  fc.tuple(fc.nat(), fc.constantFrom(...ODD_HEADERS)).map(([at, line]): Mutation => (s) => insertLine(s, at, line)),
  // Huge lines on both sides of the 64 KiB head limit.
  fc.tuple(fc.nat(), fc.constantFrom(1000, 8192, 65_000, 65_536, 70_000)).map(
    ([at, size]): Mutation => (s) => insertLine(s, at, `X-Big: ${'a'.repeat(size)}`),
  ),
  fc.tuple(fc.nat(), fc.nat({ max: 20 })).map(([at, len]): Mutation => (s) => {
    const p = at % (s.length + 1);
    return s.slice(0, p) + s.slice(p + len);
  }),
  fc.nat().map((at): Mutation => (s) => s.slice(0, at % (s.length + 1))),
);

/** A chunked body, mostly well-formed, with the usual ways to get it wrong. */
const chunkedBody = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }).map((d) => `${d.length.toString(16)}\r\n${d}\r\n`),
      fc.constantFrom('0\r\n\r\n', '0\r\nTrailer: x\r\n\r\n', 'zz\r\n', 'ffffffffffffffffff\r\n', '5;ext=1\r\nabcde\r\n', '-1\r\n', '\r\n', '3\r\nab', ' 3\r\nabc\r\n', '3\nabc\n'),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));
const rawBody = fc.string({ unit: anyByte, maxLength: 60 });

/** A head and a body framed by it, mostly correctly: Content-Length off by one and broken chunks included. */
const framedRequest = fc.oneof(
  fc.tuple(headSpec, rawBody).map(([spec, b]) => ({ head: serialize(spec), body: b })),
  fc.tuple(headSpec, rawBody, fc.constantFrom(0, 0, -1, 1)).map(([spec, b, off]) => ({
    head: serialize({ ...spec, headers: [...spec.headers, ['Content-Length', ' ', String(Math.max(0, b.length + off))]] }),
    body: b,
  })),
  fc.tuple(headSpec, chunkedBody).map(([spec, b]) => ({
    head: serialize({ ...spec, headers: [...spec.headers, ['Transfer-Encoding', ' ', 'chunked']] }),
    body: b,
  })),
);

const nearValid = fc
  .tuple(framedRequest, fc.array(mutation, { maxLength: 4 }), fc.option(framedRequest, { nil: undefined }))
  .map(([first, muts, next]) => latin1(muts.reduce((s, m) => m(s), first.head) + first.body + (next ? next.head + next.body : '')));

const maxHead = fc.oneof(fc.constant(DEFAULT_MAX), fc.integer({ min: 1, max: 400 }));

// ---- checks -------------------------------------------------------------------------------------

/** What any answer of the parser must satisfy, whatever the input. */
function checkAnswer(buf: Buffer, r: HeadParse, max: number): void {
  const end = buf.indexOf(CRLFCRLF);
  if (r.kind === 'incomplete') {
    expect(end).toBe(-1);
    expect(buf.length).toBeLessThanOrEqual(max);
    return;
  }
  if (r.kind === 'invalid') {
    expect(r.reason).toMatch(/\S/);
    return;
  }
  expect(r.size).toBe(end + 4);
  expect(r.size).toBeLessThanOrEqual(max);
  const h = r.head;
  expect(h.method).toMatch(/^[^ ]+$/);
  expect(h.version).toMatch(/^HTTP\/1\.[^ ]*$/);
  expect(h.target.length).toBeGreaterThan(0);
  expect(h.target.startsWith(h.path)).toBe(true);
  expect(h.path).not.toContain('?');
  for (const [n, v] of h.headers) {
    expect(n.length).toBeGreaterThan(0);
    expect(n).not.toContain(':');
    expect(`${n}${v}`).not.toContain('\r\n');
    expect(v).toBe(v.trim());
  }
  // What the upstream derives from a head must not throw either.
  const framing = requestBodyFraming(h);
  if (framing.kind === 'length') expect(Number.isSafeInteger(framing.length) && framing.length > 0).toBe(true);
  expect(typeof wantsKeepAlive(h)).toBe('boolean');
  expect(typeof isUpgradeRequest(h)).toBe('boolean');
  for (const [n] of h.headers) expect(headerValue(h, n)).toBe(h.headers.find(([m]) => m.toLowerCase() === n.toLowerCase())![1]);
}

/** The parser decides once: a prefix is incomplete until the head is whole, and then agrees with the whole. */
function checkSplit(buf: Buffer, cut: number, max: number): void {
  const whole = parseRequestHead(buf, max);
  const k = cut % (buf.length + 1);
  const part = parseRequestHead(buf.subarray(0, k), max);
  checkAnswer(buf, whole, max);
  checkAnswer(buf.subarray(0, k), part, max);
  if (part.kind !== 'incomplete') expect(part).toEqual(whole);
  if (whole.kind === 'ok' && k < whole.size) expect(part.kind).toBe('incomplete');
}

describe('fuzz: parseRequestHead', () => {
  test(
    'arbitrary bytes: never throws, and the answer does not depend on where the bytes were split',
    () => {
      fc.assert(
        fc.property(arbitraryBytes, fc.nat(), maxHead, (buf, cut, max) => checkSplit(buf, cut, max)),
        // Two spaces: an empty request-target, once parsed as ok.
        fuzz(3000, [[latin1('\0  HTTP/1.1\r\n\r\n'), 0, DEFAULT_MAX]]),
      );
    },
    timeout(20_000),
  );

  test(
    'mutated valid heads (CR/LF/NUL, obs-fold, duplicate Content-Length, odd chunked, huge lines): never throws, split-independent',
    () => {
      fc.assert(fc.property(nearValid, fc.nat(), maxHead, (buf, cut, max) => checkSplit(buf, cut, max)), fuzz(1500));
    },
    timeout(20_000),
  );

  test(
    'a valid head round-trips: method, target, version and every header in order, values trimmed; the limit is exact',
    () => {
      fc.assert(
        fc.property(headSpec, fc.string({ unit: anyByte, maxLength: 40 }), fc.integer({ min: 16, max: 600 }), (spec, rest, limit) => {
          const head = serialize(spec);
          const buf = latin1(head + rest);
          const r = parseRequestHead(buf);
          expect(r).toEqual({
            kind: 'ok',
            size: head.length,
            head: {
              method: spec.method,
              target: spec.target,
              path: spec.target.split('?')[0],
              version: spec.version,
              headers: spec.headers.map(([n, , v]) => [n, v.trim()]),
            },
          });
          expect(parseRequestHead(buf, limit).kind).toBe(head.length <= limit ? 'ok' : 'invalid');
        }),
        fuzz(2000),
      );
    },
    timeout(20_000),
  );
});

// ---- the upstream's HTTP port -------------------------------------------------------------------

let up: StartedUpstream;
beforeAll(async () => {
  // Only `healthy`: no path or header picks a fault that waits on purpose, so any wait is a bug.
  up = await startUpstream({ faultPaths: false, faultHeader: false, listenerFaults: [] });
});
afterAll(async () => {
  await up?.close();
});

/** The statuses of the complete responses at the start of `buf` (Content-Length framed), and what is left. */
function responses(buf: Buffer): { statuses: number[]; rest: Buffer } {
  const statuses: number[] = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf(CRLFCRLF, off);
    if (end === -1) break;
    const lines = buf.toString('latin1', off, end).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!);
    if (!m) throw new Error(`not a status line at byte ${off}: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const cl = lines.find((l) => /^content-length:/i.test(l));
    const len = cl === undefined ? 0 : Number(cl.slice(cl.indexOf(':') + 1));
    if (end + 4 + len > buf.length) break;
    statuses.push(Number(m[1]));
    off = end + 4 + len;
  }
  return { statuses, rest: buf.subarray(off) };
}

async function stillServes(): Promise<void> {
  const r = await rawRequest('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { port: up.http.port, timeoutMs: 3000 });
  expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok\n$/);
}

describe('fuzz: the upstream HTTP port', () => {
  test(
    'whole 200s then at most one 4xx, never a hang after the client is done, and it keeps serving',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: nearValid }, { weight: 1, arbitrary: arbitraryBytes }), async (request) => {
          // The client sends everything and half-closes, so the upstream has nothing left to wait for.
          const r = await rawRequest(request, { port: up.http.port, timeoutMs: 5000, endAfterWrite: true });
          expect(r.end, 'the upstream left the connection open after the client was done').not.toBe('timeout');
          const { statuses, rest } = responses(r.bytes);
          statuses.forEach((s, i) => {
            if (i < statuses.length - 1) expect(s).toBe(200);
            else expect(s === 200 || (s >= 400 && s < 500), `status ${s}`).toBe(true);
          });
          const model = parseRequestHead(request);
          if (statuses.length > 0) {
            if (model.kind === 'invalid') expect(statuses[0]).toBeGreaterThanOrEqual(400);
            else expect(model.kind === 'ok' && statuses[0] === 200).toBe(true);
          }
          if (r.end === 'fin') {
            // A clean end means every byte arrived: no half response, and the first answer is the parser's verdict.
            expect(rest.length).toBe(0);
            expect(statuses.length > 0).toBe(model.kind !== 'incomplete');
          }
          await stillServes();
        }),
        fuzz(250, [[latin1('GET  HTTP/1.1\r\nHost: x\r\n\r\n')]]),
      );
    },
    timeout(40_000),
  );
});
