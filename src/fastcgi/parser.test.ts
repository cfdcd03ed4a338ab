import { describe, expect, test } from 'vitest';
import { FcgiParser } from './parser.js';
import { decodeEndRequest, decodePairs, encodeBeginRequest, encodePairs, encodeRecord, PROTOCOL_STATUS, TYPE } from './records.js';

const start = (id: number, pairs: Array<[string, string]> = [['REQUEST_URI', '/x']], keep = false) =>
  Buffer.concat([encodeBeginRequest(id, 1, keep), encodeRecord(TYPE.PARAMS, id, encodePairs(pairs)), encodeRecord(TYPE.PARAMS, id)]);

function run(bytes: Buffer, limits = { maxParamsBytes: 1024, maxStartRecords: 16 }) {
  const p = new FcgiParser(limits);
  p.push(bytes);
  const out = [];
  for (let e = p.next(); e !== undefined; e = p.next()) {
    out.push(e);
    if (e.kind === 'error') break;
  }
  return out;
}

describe('FcgiParser', () => {
  test('a request: BEGIN_REQUEST with FCGI_KEEP_CONN, PARAMS to the empty record, STDIN to the empty record', () => {
    const ev = run(Buffer.concat([start(7, [['A', 'b']], true), encodeRecord(TYPE.STDIN, 7, Buffer.from('hi')), encodeRecord(TYPE.STDIN, 7)]));
    expect(ev).toEqual([
      { kind: 'request', request: { requestId: 7, role: 1, keepConn: true, params: [['A', 'b']] } },
      { kind: 'stdin', requestId: 7, bytes: 2, end: false },
      { kind: 'stdin', requestId: 7, bytes: 0, end: true },
    ]);
  });

  test('a second BEGIN_REQUEST while one is active is refused with FCGI_CANT_MPX_CONN; other ids are ignored', () => {
    const ev = run(Buffer.concat([start(1), encodeBeginRequest(2), encodeRecord(TYPE.STDIN, 2, Buffer.from('zz')), encodeRecord(TYPE.STDIN, 1)]));
    expect(ev[1]).toMatchObject({ kind: 'reply' });
    const reply = (ev[1] as { bytes: Buffer }).bytes;
    expect(reply.readUInt16BE(2)).toBe(2);
    expect(decodeEndRequest(reply.subarray(8, 16))).toEqual({ appStatus: 0, protocolStatus: PROTOCOL_STATUS.CANT_MPX_CONN });
    expect(ev[2]).toEqual({ kind: 'stdin', requestId: 1, bytes: 0, end: true });
  });

  test('GET_VALUES is answered with what this upstream does: no multiplexing', () => {
    const ev = run(encodeRecord(TYPE.GET_VALUES, 0, encodePairs([['FCGI_MPXS_CONNS', ''], ['NOPE', '']])));
    const r = (ev[0] as { bytes: Buffer }).bytes;
    expect(r[1]).toBe(TYPE.GET_VALUES_RESULT);
    expect(decodePairs(r.subarray(8, 8 + r.readUInt16BE(4)))).toEqual({ ok: true, pairs: [['FCGI_MPXS_CONNS', '0']] });
  });

  test('an unknown management type gets UNKNOWN_TYPE naming it', () => {
    const r = (run(encodeRecord(200, 0, Buffer.alloc(0)))[0] as { bytes: Buffer }).bytes;
    expect([r[1], r[8]]).toEqual([TYPE.UNKNOWN_TYPE, 200]);
  });

  test.each([
    ['a version other than 1', Buffer.from([2, 1, 0, 1, 0, 0, 0, 0]), /version 2/, undefined],
    ['a client sending STDOUT', encodeRecord(TYPE.STDOUT, 1, Buffer.from('x')), /an application sends it/, undefined],
    ['PARAMS past the size bound', Buffer.concat([encodeBeginRequest(1), encodeRecord(TYPE.PARAMS, 1, Buffer.alloc(2000))]), /larger than 1024/, 'params-bytes'],
    ['PARAMS whose pair lengths run past the data', Buffer.concat([encodeBeginRequest(1), encodeRecord(TYPE.PARAMS, 1, Buffer.from([0x80, 0, 0, 9, 1])), encodeRecord(TYPE.PARAMS, 1)]), /runs past|left/, undefined],
    ['a flood of tiny PARAMS records', Buffer.concat([encodeBeginRequest(1), ...Array.from({ length: 40 }, () => encodeRecord(TYPE.PARAMS, 1, Buffer.from('a')))]), /more than 16 records/, 'records'],
    ['a BEGIN_REQUEST too short', encodeRecord(TYPE.BEGIN_REQUEST, 1, Buffer.alloc(3)), /8/, undefined],
  ])('%s is a protocol error, sticky, never a throw', (_what, bytes, reason, limit) => {
    const p = new FcgiParser({ maxParamsBytes: 1024, maxStartRecords: 16 });
    p.push(bytes);
    let e = p.next();
    while (e !== undefined && e.kind !== 'error') e = p.next();
    expect(e).toMatchObject({ kind: 'error', reason: expect.stringMatching(reason) });
    expect(e && 'limit' in e ? e.limit : undefined).toBe(limit);
    p.push(start(3));
    expect(p.next()).toEqual(e);
  });

  test('records of a finished request are ignored; the next BEGIN_REQUEST starts a new one', () => {
    const p = new FcgiParser();
    p.push(start(1));
    expect(p.next()).toMatchObject({ kind: 'request' });
    p.finishRequest();
    p.push(Buffer.concat([encodeRecord(TYPE.STDIN, 1, Buffer.from('late')), encodeRecord(TYPE.STDIN, 1), start(1, [['B', 'c']])]));
    expect(p.next()).toMatchObject({ kind: 'request', request: { requestId: 1, params: [['B', 'c']] } });
  });
});
