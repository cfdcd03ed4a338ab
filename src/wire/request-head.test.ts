import { describe, expect, test } from 'vitest';
import {
  headerValue,
  isUpgradeRequest,
  parseRequestHead,
  requestBodyFraming,
  wantsKeepAlive,
  type RequestHead,
} from './request-head.js';

const b = (s: string) => Buffer.from(s, 'latin1');

/** Parse text that must be a complete, valid head. */
function head(text: string): RequestHead {
  const r = parseRequestHead(b(text));
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.head;
}

describe('parseRequestHead', () => {
  const GET = 'GET /s/empty-reply?x=1&y=2 HTTP/1.1\r\nHost: example.test\r\nX-Two:  padded value \t\r\nx-two: second\r\n\r\n';

  test('ok: fields, headers in wire order with names as sent, and the exact size consumed', () => {
    const r = parseRequestHead(b(GET));
    expect(r).toEqual({
      kind: 'ok',
      size: GET.length,
      head: {
        method: 'GET',
        target: '/s/empty-reply?x=1&y=2',
        path: '/s/empty-reply',
        version: 'HTTP/1.1',
        headers: [
          ['Host', 'example.test'],
          ['X-Two', 'padded value'],
          ['x-two', 'second'],
        ],
      },
    });
  });

  test('size stops at the end of the head: what follows (a body, the next request) is not consumed', () => {
    const next = 'hello' + 'GET / HTTP/1.1\r\n\r\n';
    const r = parseRequestHead(b(GET + next));
    expect(r.kind === 'ok' && r.size).toBe(GET.length);
  });

  test('a head without headers', () => {
    const r = parseRequestHead(b('OPTIONS * HTTP/1.0\r\n\r\n'));
    expect(r).toMatchObject({ kind: 'ok', size: 22, head: { method: 'OPTIONS', target: '*', path: '*', version: 'HTTP/1.0', headers: [] } });
  });

  test('incomplete until the blank line, at every prefix', () => {
    for (let i = 0; i < GET.length; i++) expect(parseRequestHead(b(GET.slice(0, i))).kind, `prefix of ${i} bytes`).toBe('incomplete');
    expect(parseRequestHead(b(GET)).kind).toBe('ok');
  });

  test.each([
    ['no spaces in the request line', 'GARBAGE\r\n\r\n', /malformed request line "GARBAGE"/],
    ['a request line with one space', 'GET /\r\n\r\n', /malformed request line "GET \/"/],
    ['a leading space', ' GET / HTTP/1.1\r\n\r\n', /malformed request line/],
    ['HTTP/2', 'GET / HTTP/2.0\r\n\r\n', /unsupported version "HTTP\/2.0"/],
    ['not HTTP at all', 'GET / FTP/1.1\r\n\r\n', /unsupported version "FTP\/1.1"/],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost example\r\n\r\n', /malformed header line "Host example"/],
    ['a header line with an empty name', 'GET / HTTP/1.1\r\n: value\r\n\r\n', /malformed header line ": value"/],
  ])('invalid: %s', (_what, text, reason) => {
    const r = parseRequestHead(b(text));
    expect(r.kind).toBe('invalid');
    expect(r.kind === 'invalid' && r.reason).toMatch(reason);
  });

  test('invalid when no blank line comes within maxHeadBytes', () => {
    const noEnd = b('GET / HTTP/1.1\r\nX-Long: ' + 'a'.repeat(200));
    expect(parseRequestHead(noEnd, 300).kind).toBe('incomplete');
    expect(parseRequestHead(noEnd, 100)).toEqual({ kind: 'invalid', reason: 'request head larger than 100 bytes' });
  });

  test('the size limit does not depend on how the bytes arrived', () => {
    const big = 'GET / HTTP/1.1\r\nX-Long: ' + 'a'.repeat(200) + '\r\n\r\n';
    // Whether the blank line is already there or still to come, a head over the limit is invalid.
    expect(parseRequestHead(b(big.slice(0, 150)), 100).kind).toBe('invalid');
    expect(parseRequestHead(b(big), 100)).toEqual({ kind: 'invalid', reason: 'request head larger than 100 bytes' });
    // A head of exactly the limit (terminator included) is fine.
    expect(parseRequestHead(b(big), big.length)).toMatchObject({ kind: 'ok', size: big.length });
    expect(parseRequestHead(b(big), big.length - 1).kind).toBe('invalid');
  });
});

describe('headerValue', () => {
  test('case-insensitive, the first of several, undefined when absent', () => {
    const h = head('GET / HTTP/1.1\r\nX-Two: first\r\nx-two: second\r\n\r\n');
    expect(headerValue(h, 'x-TWO')).toBe('first');
    expect(headerValue(h, 'x-tw')).toBeUndefined();
    expect(headerValue(h, 'content-length')).toBeUndefined();
  });
});

describe('requestBodyFraming', () => {
  const framing = (headers: string) => requestBodyFraming(head(`POST / HTTP/1.1\r\n${headers}\r\n`));

  test.each([
    ['no body headers', '', { kind: 'none' }],
    ['Content-Length', 'Content-Length: 5\r\n', { kind: 'length', length: 5 }],
    ['Content-Length 0', 'Content-Length: 0\r\n', { kind: 'none' }],
    ['a negative Content-Length', 'Content-Length: -1\r\n', { kind: 'none' }],
    ['a Content-Length that is not a number', 'Content-Length: five\r\n', { kind: 'none' }],
    ['chunked', 'Transfer-Encoding: chunked\r\n', { kind: 'chunked' }],
    ['chunked, any case', 'transfer-encoding: Chunked\r\n', { kind: 'chunked' }],
    ['chunked as the final coding', 'Transfer-Encoding: gzip, chunked\r\n', { kind: 'chunked' }],
    ['chunked not final', 'Transfer-Encoding: chunked, gzip\r\n', { kind: 'none' }],
    ['chunked wins over Content-Length', 'Content-Length: 100\r\nTransfer-Encoding: chunked\r\n', { kind: 'chunked' }],
    ['a coding that only ends in "chunked"', 'Transfer-Encoding: notchunked\r\n', { kind: 'none' }],
  ])('%s', (_what, headers, expected) => {
    expect(framing(headers)).toEqual(expected);
  });
});

describe('wantsKeepAlive', () => {
  test.each([
    ['HTTP/1.1', '', true],
    ['HTTP/1.1', 'Connection: close\r\n', false],
    ['HTTP/1.1', 'connection: CLOSE\r\n', false],
    ['HTTP/1.1', 'Connection: keep-alive\r\n', true],
    ['HTTP/1.1', 'Connection: Upgrade\r\n', true],
    ['HTTP/1.0', '', false],
    ['HTTP/1.0', 'Connection: keep-alive\r\n', true],
    ['HTTP/1.0', 'Connection: Keep-Alive, Upgrade\r\n', true],
    ['HTTP/1.0', 'Connection: close\r\n', false],
  ])('%s with %j → %s', (version, headers, keep) => {
    expect(wantsKeepAlive(head(`GET / ${version}\r\n${headers}\r\n`))).toBe(keep);
  });
});

describe('isUpgradeRequest', () => {
  test.each([
    ['Connection: Upgrade\r\nUpgrade: websocket\r\n', true],
    ['Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n', true],
    ['Upgrade: websocket\r\n', false],
    ['Connection: Upgrade\r\n', false],
  ])('%j → %s', (headers, upgrade) => {
    expect(isUpgradeRequest(head(`GET /ws HTTP/1.1\r\n${headers}\r\n`))).toBe(upgrade);
  });
});
