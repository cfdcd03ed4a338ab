/**
 * The HTTP/2 listener through Node's own http2 client (nghttp2): what a real HTTP/2 client makes of
 * the healthy responders and of each h2/gRPC fault: the status, body and trailers it gets, the
 * RST_STREAM code and GOAWAY it reports, the errors it raises.
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';

let up: StartedUpstream;
let url: string;

beforeAll(async () => {
  up = await startUpstream({ h2Port: 0, listenerFaults: [] });
  url = `http://127.0.0.1:${up.listeners.find((l) => l.name === 'h2')!.port}`;
});
afterAll(async () => {
  await up?.close();
});

export interface H2Result {
  headers?: IncomingHttpHeaders;
  trailers?: IncomingHttpHeaders;
  body: Buffer;
  /** The stream's close code (RST_STREAM's error code, or NGHTTP2's for what it refused), when not 0. */
  rstCode: number;
  error?: NodeJS.ErrnoException;
  goaway?: { code: number; lastStreamId: number };
  ended: boolean;
}

/** One request on a fresh session; resolves when the stream closes, errs, or `timeoutMs` passes. */
export function h2Request(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number; session?: ClientHttp2Session } = {}): Promise<H2Result> {
  return new Promise((resolve) => {
    const session = opts.session ?? connect(base);
    const r: H2Result = { body: Buffer.alloc(0), rstCode: 0, ended: false };
    session.on('error', (err: NodeJS.ErrnoException) => (r.error ??= err));
    session.on('goaway', (code, lastStreamId) => (r.goaway = { code, lastStreamId }));
    const req = session.request({ ':method': opts.method ?? 'GET', ':path': path, ...opts.headers }, { endStream: opts.body === undefined });
    const done = () => {
      clearTimeout(timer);
      r.rstCode = req.rstCode ?? 0;
      if (opts.session === undefined) session.destroy();
      resolve(r);
    };
    const timer = setTimeout(done, opts.timeoutMs ?? 2000);
    req.on('response', (h) => (r.headers = h));
    req.on('trailers', (t) => (r.trailers = t));
    req.on('data', (c: Buffer) => (r.body = Buffer.concat([r.body, c])));
    req.on('end', () => (r.ended = true));
    req.on('error', (err: NodeJS.ErrnoException) => (r.error ??= err));
    req.on('close', done);
    if (opts.body !== undefined) req.end(opts.body);
  });
}

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
