/** One request through Node's own http2 client (nghttp2), with everything it reports about the stream and the session. */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';

export interface H2Result {
  headers?: IncomingHttpHeaders;
  trailers?: IncomingHttpHeaders;
  body: Buffer;
  /** The stream's close code (RST_STREAM's error code, or NGHTTP2's for what it refused), when not 0. */
  rstCode: number;
  error?: NodeJS.ErrnoException;
  goaway?: { code: number; lastStreamId: number };
  ended: boolean;
  /** The stream was still open when the client stopped waiting. */
  timedOut?: boolean;
  remoteSettings?: import('node:http2').Settings;
}

/** One request on a fresh session; resolves when the stream closes, errs, or `timeoutMs` passes. */
export function h2Request(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number; session?: ClientHttp2Session } = {}): Promise<H2Result> {
  return new Promise((resolve) => {
    const session = opts.session ?? connect(base);
    const r: H2Result = { body: Buffer.alloc(0), rstCode: 0, ended: false };
    session.on('error', (err: NodeJS.ErrnoException) => (r.error ??= err));
    session.on('goaway', (code, lastStreamId) => (r.goaway = { code, lastStreamId }));
    const req = session.request({ ':method': opts.method ?? 'GET', ':path': path, ...opts.headers }, { endStream: opts.body === undefined });
    let settled = false;
    const done = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A snapshot first: destroying the session below ends and closes the stream too.
      const snapshot: H2Result = { ...r, rstCode: req.rstCode ?? 0, timedOut, remoteSettings: session.remoteSettings };
      if (opts.session === undefined) session.destroy();
      else if (timedOut) req.close();
      resolve(snapshot);
    };
    const timer = setTimeout(() => done(true), opts.timeoutMs ?? 5000);
    req.on('response', (h) => (r.headers = h));
    req.on('trailers', (t) => (r.trailers = t));
    req.on('data', (c: Buffer) => (r.body = Buffer.concat([r.body, c])));
    req.on('end', () => (r.ended = true));
    req.on('error', (err: NodeJS.ErrnoException) => (r.error ??= err));
    req.on('close', () => done(false));
    if (opts.body !== undefined) req.end(opts.body);
  });
}
