/**
 * The server's connection preface goes out before any request: a client that, like HAProxy 2.6
 * and 3.0's backend mux, writes its preface and SETTINGS and then waits for the server's SETTINGS
 * before it sends HEADERS must get them (RFC 9113 section 3.4), and the fault's own SETTINGS
 * follow as a second frame.
 */
import { connect } from 'node:net';
import { expect, test } from 'vitest';
import { CLIENT_PREFACE, encodeFrame, FLAG, FRAME_TYPE } from '../../src/h2/frames.js';
import { startUpstream } from '../../src/upstream/upstream.js';
import { parseServerFrames, requestFrames } from '../helpers/h2-raw-client.js';

test('SETTINGS arrive before the client sends a request; then the fault answers, its own SETTINGS second', async () => {
  const up = await startUpstream({ h2Port: 0, listenerFaults: [] });
  try {
    const port = up.listeners.find((l) => l.name === 'h2')!.port!;
    const sock = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const more = () => new Promise<void>((resolve) => sock.once('data', () => resolve()));
    sock.on('data', (d: Buffer) => got.push(d));
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(Buffer.concat([CLIENT_PREFACE, encodeFrame(FRAME_TYPE.SETTINGS, 0, 0)]));
    const first = await Promise.race([more().then(() => 'data'), new Promise((r) => setTimeout(() => r('nothing within 2 s'), 2000))]);
    expect(first).toBe('data');
    expect(parseServerFrames(Buffer.concat(got)).frames.map((f) => [f.type, f.flags, f.payload.length])).toEqual([[FRAME_TYPE.SETTINGS, 0, 0]]);
    // The request, as the client sends it once it has the server's preface (its own preface again is not resent).
    const req = requestFrames({ path: '/h2-settings-enable-push-2' }).subarray(CLIENT_PREFACE.length + 9);
    sock.write(Buffer.concat([encodeFrame(FRAME_TYPE.SETTINGS, FLAG.ACK, 0), req]));
    const deadline = Date.now() + 2000;
    while (!parseServerFrames(Buffer.concat(got)).frames.some((f) => f.type === FRAME_TYPE.DATA) && Date.now() < deadline) await Promise.race([more(), new Promise((r) => setTimeout(r, 100))]);
    sock.destroy();
    const frames = parseServerFrames(Buffer.concat(got)).frames.map((f) => [f.type, f.flags, f.payload.toString('hex')]);
    expect(frames).toEqual([
      [FRAME_TYPE.SETTINGS, 0, ''],
      [FRAME_TYPE.SETTINGS, 0, '000200000002'],
      [FRAME_TYPE.SETTINGS, FLAG.ACK, ''],
      [FRAME_TYPE.HEADERS, FLAG.END_HEADERS, ''],
      [FRAME_TYPE.DATA, FLAG.END_STREAM, Buffer.from('ok\n').toString('hex')],
    ].map(([t, fl, p]) => (t === FRAME_TYPE.HEADERS ? [t, fl, expect.any(String)] : [t, fl, p])));
  } finally {
    await up.close();
  }
});
