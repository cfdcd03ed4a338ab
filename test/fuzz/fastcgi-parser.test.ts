/**
 * Fuzz: the FastCGI codec and parser (src/fastcgi/). Records encoded and split anywhere parse back
 * to the same request; arbitrary bytes, split anywhere, never throw and never hold more than one
 * record beyond what they were given: they give events or one sticky protocol error.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FcgiParser, type FcgiEvent } from '../../src/fastcgi/parser.js';
import { decodePairs, encodeBeginRequest, encodePairs, encodeRecord, encodeStream, TYPE } from '../../src/fastcgi/records.js';
import { fuzz, timeout } from './settings.js';

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 300 });
const pairList = fc.array(fc.tuple(latin1, latin1), { maxLength: 20 });

/** Splits `b` at the given cut points (fractions of its length). */
function split(b: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * b.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const a of at) {
    out.push(b.subarray(prev, a));
    prev = a;
  }
  out.push(b.subarray(prev));
  return out;
}

function drain(p: FcgiParser, chunks: Buffer[]): FcgiEvent[] {
  const events: FcgiEvent[] = [];
  for (const c of chunks) {
    p.push(c);
    for (let e = p.next(); e !== undefined; e = p.next()) {
      events.push(e);
      if (e.kind === 'error') return events;
    }
    // Never more than one partial record held: 8 + 65535 + 255 bytes.
    expect(p.buffered).toBeLessThanOrEqual(8 + 0xffff + 255);
  }
  return events;
}

describe('FastCGI codec and parser', () => {
  test(
    'name-value pairs round-trip, 1- and 4-byte lengths alike',
    () => {
      fc.assert(
        fc.property(pairList, (pairs) => {
          const back = decodePairs(encodePairs(pairs));
          expect(back).toEqual({ ok: true, pairs });
        }),
        fuzz(300, [[[['A'.repeat(127), 'b'.repeat(128)]]]]),
      );
    },
    timeout(20_000),
  );

  test(
    'a request encoded and split anywhere parses back to the same request and STDIN',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 0xffff }),
          fc.boolean(),
          pairList,
          fc.integer({ min: 0, max: 200_000 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
          (id, keepConn, pairs, stdinBytes, cuts) => {
            const stdin = encodeStream(TYPE.STDIN, id, Buffer.alloc(stdinBytes, 's'));
            const wire = Buffer.concat([encodeBeginRequest(id, 1, keepConn), encodeStream(TYPE.PARAMS, id, encodePairs(pairs)), encodeRecord(TYPE.PARAMS, id), stdin, encodeRecord(TYPE.STDIN, id)]);
            const events = drain(new FcgiParser({ maxParamsBytes: 1 << 20, maxStartRecords: 1024 }), split(wire, cuts));
            expect(events[0]).toEqual({ kind: 'request', request: { requestId: id, role: 1, keepConn, params: pairs } });
            const rest = events.slice(1);
            expect(rest.every((e) => e.kind === 'stdin' && e.requestId === id)).toBe(true);
            expect(rest.reduce((n, e) => n + (e.kind === 'stdin' ? e.bytes : 0), 0)).toBe(stdinBytes);
            expect(rest.at(-1)).toMatchObject({ kind: 'stdin', end: true });
          },
        ),
        fuzz(200),
      );
    },
    timeout(30_000),
  );

  test(
    'random bytes, split anywhere, never throw: events or one sticky error',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 2000 }),
            // Valid headers with random bodies: gets past the version check more often.
            fc.array(fc.tuple(fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 30 }).map((rs) =>
              Buffer.concat(rs.map(([t, id, c]) => encodeRecord(t, id, Buffer.from(c)))),
            ),
          ),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
          (bytes, cuts) => {
            const p = new FcgiParser({ maxParamsBytes: 512, maxStartRecords: 16 });
            const events = drain(p, split(Buffer.from(bytes), cuts));
            const err = events.findIndex((e) => e.kind === 'error');
            if (err !== -1) {
              expect(err).toBe(events.length - 1);
              expect(p.next()).toEqual(events[err]);
            }
          },
        ),
        fuzz<[Uint8Array, number[]]>(500, [[Buffer.from([1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 4, 0, 1, 0, 4, 0, 0, 0xff, 0xff, 0xff, 0xff]), []]]),
      );
    },
    timeout(30_000),
  );
});
