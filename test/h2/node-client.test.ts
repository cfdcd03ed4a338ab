/**
 * The HTTP/2 listener through Node's own http2 client (nghttp2): what a real HTTP/2 client makes of
 * the healthy responders and of each h2/gRPC fault: the status, body and trailers it gets, the
 * RST_STREAM code and GOAWAY it reports, the errors it raises.
 */
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { h2Request } from '../helpers/h2-client.js';

let up: StartedUpstream;
let url: string;

beforeAll(async () => {
  up = await startUpstream({ h2Port: 0, listenerFaults: [] });
  url = `http://127.0.0.1:${up.listeners.find((l) => l.name === 'h2')!.port}`;
});
afterAll(async () => {
  await up?.close();
});

describe('the h2c listener with Node http2 client', () => {
  test('h2-healthy: a 200 with its body; the session stays usable for a second request', async () => {
    const session = connect(url);
    try {
      const a = await h2Request(url, '/h2-healthy', { session });
      expect(a.error).toBeUndefined();
      expect(a.headers?.[':status']).toBe(200);
      expect(a.body.toString()).toBe('ok\n');
      const b = await h2Request(url, '/h2-healthy?x=1', { session });
      expect(b.headers?.[':status']).toBe(200);
    } finally {
      session.destroy();
    }
  });

  test('the default route is h2-healthy; a mistyped h2 fault id is a 404 that names it', async () => {
    expect((await h2Request(url, '/')).headers?.[':status']).toBe(200);
    const r = await h2Request(url, '/h2-healthx');
    expect(r.headers?.[':status']).toBe(404);
    expect(r.body.toString()).toContain('BG_UNKNOWN_FAULT');
  });

  test('an HTTP/1 fault named on the h2 listener is a 404 that says where it runs', async () => {
    const r = await h2Request(url, '/empty-reply');
    expect(r.headers?.[':status']).toBe(404);
    expect(r.body.toString()).toMatch(/speaks HTTP\/1/);
  });

  test('grpc-healthy: content-type application/grpc, the message, and grpc-status 0 in the trailers', async () => {
    const r = await h2Request(url, '/grpc-healthy', { method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: Buffer.from([0, 0, 0, 0, 0]) });
    expect(r.error).toBeUndefined();
    expect(r.headers?.['content-type']).toBe('application/grpc');
    expect(r.body.toString('hex')).toBe(Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('ok')]).toString('hex'));
    expect(r.trailers?.['grpc-status']).toBe('0');
  });

  test('a request body larger than the default window is read whole (the upstream gives its window back)', async () => {
    const r = await h2Request(url, '/h2-healthy', { method: 'POST', body: Buffer.alloc(200_000, 1) });
    expect(r.headers?.[':status']).toBe(200);
  });
});

/** The fields only: Node's header objects also carry a symbol for sensitive headers. */
const fieldsOf = (h: IncomingHttpHeaders | undefined) => (h === undefined ? undefined : Object.fromEntries(Object.entries(h)));

const GRPC = { method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: Buffer.from([0, 0, 0, 0, 0]) };

describe('HTTP/2 faults as nghttp2 (Node http2) sees them', () => {
  test('h2-rst-before-headers: no response, the stream reset with REFUSED_STREAM (7), or the code asked for', async () => {
    const r = await h2Request(url, '/h2-rst-before-headers');
    expect(r.headers).toBeUndefined();
    expect(r.rstCode).toBe(7);
    expect(r.error?.message).toMatch(/NGHTTP2_REFUSED_STREAM/);
    expect((await h2Request(url, '/h2-rst-before-headers?error=CANCEL')).rstCode).toBe(8);
    expect((await h2Request(url, '/h2-rst-before-headers?error=PROTOCOL_ERROR')).rstCode).toBe(1);
    expect((await h2Request(url, '/h2-rst-before-headers?error=2')).rstCode).toBe(2);
  });

  test('an error name that is no HTTP/2 error code is a 400 that says so', async () => {
    const r = await h2Request(url, '/h2-rst-before-headers?error=OOPS');
    expect(r.headers?.[':status']).toBe(400);
    expect(r.body.toString()).toMatch(/error=OOPS.*REFUSED_STREAM/);
  });

  test('h2-rst-mid-data: the 200 and 100 of 1000 bytes, then RST_STREAM INTERNAL_ERROR (2)', async () => {
    const r = await h2Request(url, '/h2-rst-mid-data');
    expect(r.headers?.[':status']).toBe(200);
    expect(r.headers?.['content-length']).toBe('1000');
    expect(r.body.length).toBe(100);
    expect(r.rstCode).toBe(2);
    expect(r.ended).toBe(false);
  });

  test("h2-goaway-below-stream: GOAWAY NO_ERROR with last-stream-id 0, below the request's stream 1, which the client takes as refused", async () => {
    const r = await h2Request(url, '/h2-goaway-below-stream');
    expect(r.goaway).toEqual({ code: 0, lastStreamId: 0 });
    expect(r.headers).toBeUndefined();
    expect(r.rstCode).toBe(7);
  });

  test('h2-close-without-goaway: the stream dies with the connection, with no GOAWAY and no response', async () => {
    const r = await h2Request(url, '/h2-close-without-goaway', { timeoutMs: 4000 });
    expect(r.timedOut).toBe(false);
    expect(r.goaway).toBeUndefined();
    expect(r.headers).toBeUndefined();
    // Node closes a stream whose connection went away with NGHTTP2_CANCEL: no code came from the server.
    expect(r.rstCode).toBe(8);
  });

  test('h2-no-end-stream: the 200 and its body arrive, the stream never ends', async () => {
    const r = await h2Request(url, '/h2-no-end-stream', { timeoutMs: 2000 });
    expect(r.headers?.[':status']).toBe(200);
    expect(r.body.toString()).toBe('ok\n');
    expect(r.ended).toBe(false);
    expect(r.timedOut).toBe(true);
  });

  test('h2-window-never-opens: the client is told INITIAL_WINDOW_SIZE 0; a body beyond the first 64 KiB never goes, so no answer; a GET gets its 200', async () => {
    const post = await h2Request(url, '/h2-window-never-opens', { method: 'POST', body: Buffer.alloc(100_000, 1), timeoutMs: 2000 });
    expect(post.remoteSettings?.initialWindowSize).toBe(0);
    expect(post.headers).toBeUndefined();
    expect(post.timedOut).toBe(true);
    expect((await h2Request(url, '/h2-window-never-opens')).headers?.[':status']).toBe(200);
  });

  test('h2-settings-enable-push-2 and h2-settings-window-too-big: the client rejects the SETTINGS as a connection error', async () => {
    const push = await h2Request(url, '/h2-settings-enable-push-2');
    expect(push.headers).toBeUndefined();
    expect(push.error?.code).toBe('ERR_HTTP2_ERROR');
    expect(push.error?.message).toBe('Protocol error');
    const win = await h2Request(url, '/h2-settings-window-too-big');
    expect(win.headers).toBeUndefined();
    expect(win.error?.message).toBe('Flow control error');
  });

  test.each(['h2-invalid-pseudo-header', 'h2-connection-header'])('%s: the client refuses the malformed HEADERS with RST_STREAM PROTOCOL_ERROR (1)', async (id) => {
    const r = await h2Request(url, `/${id}`);
    expect(r.headers).toBeUndefined();
    expect(r.rstCode).toBe(1);
  });

  test('h2-trailer-without-body: 10 of content-length 100 bytes, then trailers: the client resets the stream (PROTOCOL_ERROR) instead of ending it', async () => {
    const r = await h2Request(url, '/h2-trailer-without-body');
    expect(r.headers?.['content-length']).toBe('100');
    expect(r.body.length).toBe(10);
    expect(r.rstCode).toBe(1);
    expect(r.ended).toBe(false);
  });
});

describe('gRPC faults as a gRPC caller over Node http2 sees them', () => {
  test('grpc-no-status: the message and trailers, but no grpc-status anywhere', async () => {
    const r = await h2Request(url, '/grpc-no-status', GRPC);
    expect(r.body.toString('hex')).toBe('00000000026f6b');
    expect(fieldsOf(r.trailers)).toEqual({ 'x-upstream': 'badgateway' });
    expect(r.headers?.['grpc-status']).toBeUndefined();
  });

  test('grpc-unavailable and grpc-unavailable-no-message: grpc-status 14 in the trailers, with and without grpc-message', async () => {
    const a = await h2Request(url, '/grpc-unavailable', GRPC);
    expect(a.headers?.[':status']).toBe(200);
    expect(fieldsOf(a.trailers)).toEqual({ 'grpc-status': '14', 'grpc-message': 'backend shutting down' });
    expect(a.body.length).toBe(0);
    const b = await h2Request(url, '/grpc-unavailable-no-message', GRPC);
    expect(fieldsOf(b.trailers)).toEqual({ 'grpc-status': '14' });
    // A message is percent-encoded as gRPC's PROTOCOL-HTTP2.md says.
    const c = await h2Request(url, '/grpc-unavailable?message=50%25%20down%0A', GRPC);
    expect(c.trailers?.['grpc-message']).toBe('50%25 down%0A');
  });

  test('grpc-trailers-only: the status in the response HEADERS, END_STREAM there, no trailers', async () => {
    const r = await h2Request(url, '/grpc-trailers-only', GRPC);
    expect(r.headers?.['grpc-status']).toBe('14');
    expect(r.headers?.['grpc-message']).toBe('no backend');
    expect(r.trailers).toBeUndefined();
    expect(r.ended).toBe(true);
  });

  test('grpc-message-cut: the prefix declares 100 bytes, 10 follow, and the trailers still say 0', async () => {
    const r = await h2Request(url, '/grpc-message-cut', GRPC);
    expect(r.body.readUInt32BE(1)).toBe(100);
    expect(r.body.length - 5).toBe(10);
    expect(r.trailers?.['grpc-status']).toBe('0');
  });
});
