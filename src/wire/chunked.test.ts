import { describe, expect, test } from 'vitest';
import { ChunkedBodyScanner, encodeChunk, LAST_CHUNK } from './chunked.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('encoding', () => {
  test('a chunk is its size in hex, CRLF, the data, CRLF', () => {
    expect(encodeChunk(b('abc')).toString('latin1')).toBe('3\r\nabc\r\n');
    expect(encodeChunk(Buffer.alloc(255, 0x61)).subarray(0, 4).toString('latin1')).toBe('ff\r\n');
    expect(encodeChunk(Buffer.alloc(4096)).subarray(0, 6).toString('latin1')).toBe('1000\r\n');
  });

  test('an empty chunk would end the body, so it encodes to nothing', () => {
    expect(encodeChunk(Buffer.alloc(0)).length).toBe(0);
  });

  test('the last chunk', () => {
    expect(LAST_CHUNK.toString('latin1')).toBe('0\r\n\r\n');
  });
});

/** Feed `parts` in order; what the scanner says at the end. */
function scan(parts: Buffer[]) {
  const s = new ChunkedBodyScanner();
  let used = 0;
  for (const p of parts) used += s.push(p);
  return { used, done: s.done, error: s.error, payloadBytes: s.payloadBytes };
}

describe('ChunkedBodyScanner', () => {
  const BODY = '5\r\nhello\r\n1a;name=value;x="q"\r\n' + 'z'.repeat(26) + '\r\n0\r\nX-Trailer: yes\r\nX-More: 1\r\n\r\n';
  const NEXT = 'GET /next HTTP/1.1\r\n\r\n';

  test('one push: the body is consumed exactly, the next message left alone', () => {
    expect(scan([b(BODY + NEXT)])).toEqual({ used: BODY.length, done: true, error: undefined, payloadBytes: 31 });
  });

  test('split in two at every position: the same answer', () => {
    const all = b(BODY + NEXT);
    for (let i = 0; i <= all.length; i++) {
      const r = scan([all.subarray(0, i), all.subarray(i)]);
      expect(r, `split at ${i}`).toEqual({ used: BODY.length, done: true, error: undefined, payloadBytes: 31 });
    }
  });

  test('one byte at a time: done exactly at the last byte of the body', () => {
    const s = new ChunkedBodyScanner();
    for (let i = 0; i < BODY.length; i++) {
      expect(s.done, `done early, at byte ${i}`).toBe(false);
      expect(s.push(b(BODY[i]!))).toBe(1);
    }
    expect([s.done, s.error, s.payloadBytes]).toEqual([true, undefined, 31]);
    // Nothing more belongs to the body.
    expect(s.push(b(NEXT))).toBe(0);
  });

  test('the smallest body and a body with no trailers', () => {
    expect(scan([b('0\r\n\r\n')])).toEqual({ used: 5, done: true, error: undefined, payloadBytes: 0 });
    expect(scan([b('A\r\n0123456789\r\n0\r\n\r\n')])).toEqual({ used: 20, done: true, error: undefined, payloadBytes: 10 });
  });

  test('a body that stops short is not done', () => {
    for (const cut of ['5\r\nhel', '5\r\nhello\r\n', '5\r\nhello\r\n0\r\n', '5\r\nhello\r\n0\r\nX-T: 1\r\n']) {
      const r = scan([b(cut)]);
      expect([r.done, r.error, r.used], cut).toEqual([false, undefined, cut.length]);
    }
  });

  test.each([
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['an empty size line', '\r\nhello\r\n0\r\n\r\n'],
    ['a negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a size with junk after the digits', '5z\r\nhello\r\n0\r\n\r\n'],
    ['a hex prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['chunk data longer than its size', '5\r\nhelloXX\r\n0\r\n\r\n'],
  ])('invalid: %s', (_what, text) => {
    const r = scan([b(text)]);
    expect(r.error).toMatch(/chunk/);
    expect(r.done).toBe(false);
  });

  test('the error names the offending size line', () => {
    expect(scan([b('zz\r\nhello\r\n')]).error).toBe('invalid chunk size line "zz"');
  });

  test('a size line longer than 8192 bytes is an error, even split across pushes', () => {
    const r = scan([b('5;ext=' + 'e'.repeat(5000)), b('e'.repeat(5000))]);
    expect(r.error).toBe('chunk line longer than 8192 bytes');
  });

  test('whitespace before a chunk extension is allowed', () => {
    expect(scan([b('5 ;ext\r\nhello\r\n0\r\n\r\n')])).toMatchObject({ done: true, error: undefined, payloadBytes: 5 });
  });
});
