/**
 * The HTTP/2 side of a check: one request over h2c (prior knowledge) with Node's own http2
 * client, recorded as the same Outcome the HTTP/1 probe gives, plus what a gRPC client reads
 * (grpc-status, grpc-message, the trailers). Like the HTTP/1 probe it never throws on a network
 * failure: a RST_STREAM, a GOAWAY or a dropped connection is the data.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { escapeBytes } from '../wire/escape.js';
import { hostPort } from '../wire/host-port.js';
import { errorCodeName } from '../h2/frames.js';
import type { GrpcOutcome, Outcome, ProbeRequest } from './http-probe.js';

/**
 * A gRPC request body: one length-prefixed message (not compressed) holding `payload`; an empty
 * payload is the empty message, what a call with no fields set sends.
 */
export function grpcFrame(payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Headers as [name, value] pairs, pseudo-headers first as received; multiple values split. */
function pairs(h: IncomingHttpHeaders): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, String(one)]);
  }
  return out;
}

/**
 * What a gRPC client makes of the reply: the status from the trailers, or from the response
 * headers of a trailers-only reply (HEADERS with END_STREAM). grpc-message is percent-encoded on
 * the wire (gRPC's HTTP/2 protocol document); it is decoded here, left as sent when malformed.
 */
function grpcOf(headers: IncomingHttpHeaders | undefined, trailers: IncomingHttpHeaders | undefined): GrpcOutcome {
  const from = trailers?.['grpc-status'] !== undefined ? trailers : headers?.['grpc-status'] !== undefined ? headers : trailers;
  const raw = from?.['grpc-status'];
  const status = raw !== undefined && /^\d+$/.test(String(raw)) ? Number(raw) : undefined;
  const msg = from?.['grpc-message'];
  let message: string | undefined;
  if (msg !== undefined) {
    try {
      message = decodeURIComponent(String(msg));
    } catch {
      message = String(msg);
    }
  }
  return { ...(status !== undefined ? { status } : {}), ...(message !== undefined ? { message } : {}), trailers: trailers ? pairs(trailers) : [] };
}

export function h2Probe(req: ProbeRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let firstByteMs: number | undefined;
    const data: Buffer[] = [];
    let headers: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    let settled = false;
    let session: ClientHttp2Session | undefined;
    let stream: ClientHttp2Stream | undefined;
    const finish = (end: Outcome['end'], errorCode?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // destroy(), not close(): the outcome is decided, and a gateway that keeps the session open must not hold the probe.
      session?.destroy();
      resolve(toOutcome({ req, end, errorCode, headers, trailers, body: Buffer.concat(data), durationMs: performance.now() - started, firstByteMs }));
    };
    const timer = setTimeout(() => finish('timeout'), req.timeoutMs);
    try {
      session = connect(`http://${hostPort(req.host, req.port)}`);
    } catch (err) {
      finish('error', (err as NodeJS.ErrnoException).code);
      return;
    }
    session.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'reset' : 'error', err.code));
    // A GOAWAY whose last stream id is below ours: the stream will never be answered; Node then errors the stream (REFUSED_STREAM).
    session.on('goaway', (code: number) => {
      if (code !== constants.NGHTTP2_NO_ERROR && headers === undefined) finish('reset', `GOAWAY ${errorCodeName(code)}`);
    });
    // The connection went away with the stream still open (a FIN without GOAWAY, or after one).
    session.on('close', () => finish('fin'));
    const head: Record<string, string> = {
      ':method': req.method,
      ':path': req.target,
      ':authority': hostPort(req.host, req.port),
      ':scheme': 'http',
    };
    for (const [k, v] of req.headers ?? []) head[k.toLowerCase()] = v;
    if (req.grpc) {
      head['content-type'] ??= 'application/grpc';
      head.te ??= 'trailers';
    }
    const body = req.grpc ? grpcFrame(req.body ?? Buffer.alloc(0)) : req.body;
    try {
      stream = session.request(head, { endStream: body === undefined });
    } catch (err) {
      finish('error', (err as NodeJS.ErrnoException).code);
      return;
    }
    stream.on('response', (h) => {
      firstByteMs ??= performance.now() - started;
      headers = h;
    });
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (d: Buffer) => {
      firstByteMs ??= performance.now() - started;
      data.push(d);
    });
    // A session that fails (refused, reset) first destroys its streams with a local INTERNAL_ERROR:
    // the stream's end is read a turn later, so the session's own error, when there is one, wins.
    const streamEnded = () =>
      setImmediate(() => {
        const code = stream!.rstCode;
        if (code === undefined || code === constants.NGHTTP2_NO_ERROR) {
          // Closed cleanly: END_STREAM from the peer, unless the connection went away under it.
          finish(stream!.readableEnded ? 'complete' : 'fin');
        } else finish('reset', `RST_STREAM ${errorCodeName(code)}`);
      });
    stream.on('error', streamEnded);
    stream.on('close', streamEnded);
    if (body !== undefined) stream.end(body);
  });
}

interface Seen {
  readonly req: ProbeRequest;
  readonly end: Outcome['end'];
  readonly errorCode?: string;
  readonly headers?: IncomingHttpHeaders;
  readonly trailers?: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly durationMs: number;
  readonly firstByteMs?: number;
}

const BODY_PREVIEW_BYTES = 240;

function toOutcome(s: Seen): Outcome {
  const common = {
    end: s.end,
    errorCode: s.errorCode,
    durationMs: Math.round(s.durationMs),
    firstByteMs: s.firstByteMs === undefined ? undefined : Math.round(s.firstByteMs),
    bytes: s.body.length,
    preview: escapeBytes(s.body, 120),
  };
  const grpc = s.req.grpc ? grpcOf(s.headers, s.trailers) : undefined;
  if (!s.headers) {
    const kind = s.end === 'reset' ? 'reset' : s.end === 'timeout' ? 'timeout' : s.end === 'error' ? (s.errorCode === 'ECONNREFUSED' ? 'connect-error' : 'reset') : 'closed';
    return { kind, body: 'none', bodyBytes: 0, ...common, ...(grpc ? { grpc } : {}) };
  }
  const status = Number(s.headers[':status']);
  const len = s.headers['content-length'] === undefined ? undefined : Number(s.headers['content-length']);
  const noBody = status === 204 || status === 304 || s.req.method === 'HEAD' || (s.end === 'complete' && s.body.length === 0);
  const short = len !== undefined && s.body.length < len;
  const body = noBody ? 'none' : s.end === 'complete' && !short ? 'complete' : 'truncated';
  const responseHeaders = pairs(s.headers).filter(([k]) => !k.startsWith(':'));
  return {
    kind: 'response',
    status,
    headers: responseHeaders,
    body,
    bodyBytes: s.body.length,
    ...(len !== undefined ? { expectedBodyBytes: len } : {}),
    head: [`:status: ${status}`, ...responseHeaders.map(([k, v]) => `${k}: ${v}`)].join('\r\n'),
    bodyPreview: escapeBytes(s.body, BODY_PREVIEW_BYTES),
    ...common,
    ...(grpc ? { grpc } : {}),
  };
}
