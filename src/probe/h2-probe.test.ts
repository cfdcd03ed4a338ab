import { createServer, constants, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../upstream/listen.js';
import { grpcFrame, h2Probe } from './h2-probe.js';

// A real h2c server answers by path; each case is what a gateway in front could hand the client.
const seen: IncomingHttpHeaders[] = [];
const bodies: Buffer[] = [];
let server: Http2Server;
let port: number;

const handlers: Record<string, (st: ServerHttp2Stream) => void> = {
  '/ok': (st) => {
    st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
    st.end(grpcFrame(Buffer.from('hi')));
  },
  '/trailers-only': (st) => st.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'upstream%20down' }, { endStream: true }),
  '/no-status': (st) => {
    st.respond({ ':status': 200, 'content-type': 'application/grpc' });
    st.end(grpcFrame(Buffer.from('hi')));
  },
  '/rst-mid-data': (st) => {
    // waitForTrailers: Node's close() would otherwise send END_STREAM before its RST_STREAM.
    st.respond({ ':status': 200 }, { waitForTrailers: true });
    st.write(Buffer.alloc(10), () => setTimeout(() => st.close(constants.NGHTTP2_INTERNAL_ERROR), 20));
  },
  '/rst-before-headers': (st) => st.close(constants.NGHTTP2_REFUSED_STREAM),
  '/cut-after-headers': (st) => {
    st.respond({ ':status': 200 });
    st.write(Buffer.alloc(10), () => setTimeout(() => st.session?.destroy(), 20));
  },
  '/hang': () => {},
  '/plain': (st) => {
    st.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '6' });
    st.end('hello\n');
  },
};

beforeAll(async () => {
  server = createServer();
  server.on('stream', (st, h) => {
    seen.push(h);
    const parts: Buffer[] = [];
    st.on('data', (d: Buffer) => parts.push(d));
    st.on('end', () => {
      bodies.push(Buffer.concat(parts));
      handlers[String(h[':path']).split('?')[0]!]!(st);
    });
    st.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const req = (target: string, grpc = true, timeoutMs = 2000) => ({ host: '127.0.0.1', port, method: grpc ? 'POST' : 'GET', target, grpc, timeoutMs });

describe('h2Probe', () => {
  it('sends a gRPC call (content-type, te, one empty message) and reads status and trailers', async () => {
    const o = await h2Probe(req('/ok?bgp=1'));
    expect(o).toMatchObject({ kind: 'response', status: 200, body: 'complete', end: 'complete', grpc: { status: 0, trailers: [['grpc-status', '0']] } });
    expect(o.bodyBytes).toBe(7);
    const h = seen.find((x) => x[':path'] === '/ok?bgp=1')!;
    expect(h['content-type']).toBe('application/grpc');
    expect(h.te).toBe('trailers');
    expect(bodies[seen.indexOf(h)]).toEqual(Buffer.from([0, 0, 0, 0, 0]));
  });

  it('reads a trailers-only reply from the headers and decodes grpc-message', async () => {
    const o = await h2Probe(req('/trailers-only'));
    expect(o).toMatchObject({ kind: 'response', status: 200, body: 'none', end: 'complete', grpc: { status: 14, message: 'upstream down', trailers: [] } });
  });

  it('a reply without grpc-status has no status', async () => {
    const o = await h2Probe(req('/no-status'));
    expect(o.kind).toBe('response');
    expect(o.grpc?.status).toBeUndefined();
    expect(o.body).toBe('complete');
  });

  it('a RST_STREAM mid-body is a truncated body ended by reset, with the error code', async () => {
    const o = await h2Probe(req('/rst-mid-data', false));
    expect(o).toMatchObject({ kind: 'response', status: 200, body: 'truncated', end: 'reset', errorCode: 'RST_STREAM INTERNAL_ERROR', bodyBytes: 10 });
  });

  it('a RST_STREAM before any header is a reset without a response', async () => {
    const o = await h2Probe(req('/rst-before-headers'));
    expect(o).toMatchObject({ kind: 'reset', body: 'none', end: 'reset', errorCode: 'RST_STREAM REFUSED_STREAM' });
    expect(o.grpc).toEqual({ trailers: [] });
  });

  it('a connection dropped after the headers is a truncated body ended by the connection', async () => {
    const o = await h2Probe(req('/cut-after-headers', false));
    expect(o.kind).toBe('response');
    expect(o.body).toBe('truncated');
    expect(['fin', 'reset', 'error']).toContain(o.end);
  });

  it('times out on a stream that never answers', async () => {
    const o = await h2Probe(req('/hang', true, 300));
    expect(o).toMatchObject({ kind: 'timeout', end: 'timeout', body: 'none' });
    expect(o.durationMs).toBeGreaterThanOrEqual(290);
  });

  it('a plain HTTP/2 GET has no gRPC part', async () => {
    const o = await h2Probe(req('/plain', false));
    expect(o).toMatchObject({ kind: 'response', status: 200, body: 'complete', bodyBytes: 6, expectedBodyBytes: 6 });
    expect(o.grpc).toBeUndefined();
    expect(o.head).toContain(':status: 200');
  });

  it('a refused connection is a connect error, not a throw', async () => {
    const o = await h2Probe({ ...req('/ok'), port: await freePort('127.0.0.1') });
    expect(o).toMatchObject({ kind: 'connect-error', end: 'error', errorCode: 'ECONNREFUSED' });
  });
});
