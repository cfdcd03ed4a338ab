/** The HTTP/2 steps as a user writes them in YAML, the frame codec's bounds, and the listener's answer to a client that does not speak HTTP/2. */
import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { compileFault } from '../../src/faults/fault.js';
import { loadFaultText } from '../../src/faults/registry.js';
import { explainStep } from '../../src/faults/steps.js';
import { encodeFrame, FrameParser, FrameTooBigError, FRAME_TYPE, parseGoaway } from '../../src/h2/frames.js';
import { startUpstream } from '../../src/upstream/upstream.js';
import { parseServerFrames, rawH2Request } from '../helpers/h2-raw-client.js';

describe('HTTP/2 steps in YAML', () => {
  test("README's example loads, compiles and explains itself", () => {
    const [def] = loadFaultText(
      'id: my-h2-reset\nprotocol: h2\nparams: { error: CANCEL }\nsteps:\n  - h2-settings: {}\n  - h2-read: body\n  - h2-headers: { status: 200, headers: { content-length: 10 } }\n  - h2-data: { data: "hello" }\n  - h2-rst-stream: ${error}\n',
      'my.yaml',
    );
    if (def?.layer !== 'exchange') throw new Error('expected an exchange fault');
    expect(def.protocol).toBe('h2');
    const lines = compileFault(def).steps.map(explainStep);
    expect(lines[4]).toBe("write RST_STREAM CANCEL on the request's stream");
    expect(compileFault(def, { error: 'REFUSED_STREAM' }).steps.map(explainStep)[4]).toMatch(/REFUSED_STREAM/);
  });

  test.each([
    ['id: a\nsteps:\n  - h2-read: body\n', /my\.yaml:3:5: .*HTTP\/2 step; this fault speaks HTTP\/1\. Add `protocol: h2`/],
    ['id: a\nprotocol: h2\nsteps:\n  - respond: {}\n', /my\.yaml:4:5: .*respond is an HTTP\/1 step; this fault speaks HTTP\/2/],
    ['id: a\nprotocol: h2\nsteps:\n  - fcgi-read: request\n', /a FastCGI step; this fault speaks HTTP\/2/],
    ['id: a\nprotocol: h2\nsteps:\n  - h2-rst-stream: OOPS\n', /my\.yaml:4:20: an error code is a number .* or one of NO_ERROR/],
    ['id: a\nprotocol: h2\nsteps:\n  - h2-settings: { settings: { NO_SUCH: 1 } }\n', /a setting is a number .* or one of HEADER_TABLE_SIZE/],
    ['id: a\nprotocol: h2\nsteps:\n  - grpc-reply: { trailersOnly: true, messages: [x] }\n', /trailers-only reply has no messages/],
    ['id: a\nprotocol: h3\nsteps:\n  - close\n', /protocol is http \(the default\), fastcgi or h2/],
  ])('%s is refused at file:line:col with what to do', (text, msg) => {
    expect(() => loadFaultText(text, 'my.yaml')).toThrow(msg);
  });
});

describe('frames', () => {
  test('a frame declaring more than the parser accepts is refused before its payload is held', () => {
    const p = new FrameParser(16_384);
    p.push(Buffer.from([0x00, 0x40, 0x01, 0x00, 0x00, 0, 0, 0, 1])); // 16385 bytes declared, none sent
    expect(() => p.next()).toThrow(FrameTooBigError);
  });

  test('a frame split anywhere comes out whole, and the reserved bit is dropped', () => {
    const bytes = encodeFrame(FRAME_TYPE.DATA, 1, 5, Buffer.from('hello'));
    bytes[5] = bytes[5]! | 0x80;
    const p = new FrameParser();
    p.push(bytes.subarray(0, 4));
    expect(p.next()).toBeUndefined();
    p.push(bytes.subarray(4, 11));
    expect(p.next()).toBeUndefined();
    p.push(bytes.subarray(11));
    const f = p.next()!;
    expect([f.type, f.flags, f.streamId, f.payload.toString()]).toEqual([0, 1, 5, 'hello']);
  });
});

describe('the h2c listener and a peer that does not speak HTTP/2', () => {
  test('an HTTP/1 request gets GOAWAY PROTOCOL_ERROR naming the missing preface, a guard event, and a close; the listener keeps serving', async () => {
    const up = await startUpstream({ h2Port: 0, listenerFaults: [] });
    const guards: string[] = [];
    up.events.subscribe((e) => {
      if (e.type === 'guard') guards.push(e.guard);
    });
    try {
      const port = up.listeners.find((l) => l.name === 'h2')!.port!;
      const got = await new Promise<Buffer>((resolve) => {
        const s = connect({ port, host: '127.0.0.1' }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        const parts: Buffer[] = [];
        s.on('data', (d) => parts.push(d));
        s.on('end', () => resolve(Buffer.concat(parts)));
        s.on('error', () => resolve(Buffer.concat(parts)));
      });
      const frames = parseServerFrames(got).frames;
      expect(frames.map((f) => f.type)).toEqual([FRAME_TYPE.SETTINGS, FRAME_TYPE.GOAWAY]);
      const g = parseGoaway(frames[1]!.payload)!;
      expect(g.code).toBe(1);
      expect(g.debug.toString()).toMatch(/client preface/);
      expect(guards).toContain('h2-protocol');
      const ok = await rawH2Request({ port, path: '/h2-healthy' });
      expect(ok.frames.some((f) => f.headers?.some(([n, v]) => n === ':status' && v === '200'))).toBe(true);
    } finally {
      await up.close();
    }
  });
});
