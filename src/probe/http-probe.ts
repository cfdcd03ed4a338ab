/**
 * The client side of one check: send a request on a raw socket and record what
 * came back, exactly. A probe never throws on a network failure; the failure is
 * the data.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { escapeBytes } from '../wire/escape.js';
import { hostPort } from '../wire/host-port.js';
import { parseResponse } from '../wire/response-parse.js';

export interface ProbeRequest {
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** Request target, e.g. /s/empty-reply/?bgp=1 */
  readonly target: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Send a WebSocket upgrade and, after a 101, read frames until the stream ends. */
  readonly websocket?: boolean;
  /** A gRPC call over HTTP/2 (src/probe/h2-probe.ts): content-type application/grpc, te: trailers, the body as one message. */
  readonly grpc?: boolean;
  readonly timeoutMs: number;
}

/** What the client saw, in one word. */
export type OutcomeKind =
  | 'response'
  /** Bytes that are not HTTP/1.x (the gateway relayed an HTTP/0.9-style reply). */
  | 'no-status-line'
  /** The connection closed (FIN) without a response. */
  | 'closed'
  /** The connection was reset without a response. */
  | 'reset'
  /** No response within the probe timeout. */
  | 'timeout'
  /** Part of a status line or header block, then the end. */
  | 'partial-head'
  | 'connect-error';

export interface Outcome {
  readonly kind: OutcomeKind;
  readonly status?: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly interim?: readonly number[];
  /** complete / truncated (framing says more was due) / none (no body expected or no response). */
  readonly body: 'complete' | 'truncated' | 'none';
  readonly bodyBytes: number;
  readonly expectedBodyBytes?: number;
  /** How the exchange ended: the peer's FIN or RST, our timeout, an error, or a complete response (we closed). */
  readonly end: 'complete' | 'fin' | 'reset' | 'timeout' | 'error';
  readonly errorCode?: string;
  readonly durationMs: number;
  readonly firstByteMs?: number;
  readonly bytes: number;
  /** The first bytes received, escaped, for reports. */
  readonly preview: string;
  /** The response head as received (status line and header lines, interim heads included), latin1, at most 8 KiB. */
  readonly head?: string;
  /** The first bytes after the head (raw framing, chunk sizes included), escaped. */
  readonly bodyPreview?: string;
  readonly websocket?: { readonly upgraded: boolean; readonly frames: number; readonly closeCode?: number };
  /** Cloudflare's CF-Ray response header: the Logpush record of this request has it as RayID (without the colo). */
  readonly cfRay?: string;
  /** A gRPC call's result (src/probe/h2-probe.ts). */
  readonly grpc?: GrpcOutcome;
}

/** What a gRPC client reads: grpc-status and grpc-message (trailers, or the headers of a trailers-only reply), and the trailers. */
export interface GrpcOutcome {
  readonly status?: number;
  readonly message?: string;
  readonly trailers: ReadonlyArray<readonly [string, string]>;
}

export function probe(req: ProbeRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let firstByteMs: number | undefined;
    const parts: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: req.host, port: req.port });
    socket.setNoDelay(true);
    const finish = (end: Outcome['end'], errorCode?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(toOutcome(Buffer.concat(parts), req, end, errorCode, performance.now() - started, firstByteMs));
    };
    const timer = setTimeout(() => finish('timeout'), req.timeoutMs);
    socket.on('connect', () => socket.write(buildRequest(req)));
    let received = 0;
    // Parsing everything received on every chunk is quadratic: a 1 MiB body relayed in 4 KiB chunks
    // (nginx's FastCGI buffers) cost the process, which also runs the upstream, over a second. Skip
    // the parses that cannot succeed: a Content-Length body before its last byte, a chunked one
    // whose bytes so far do not end a line.
    let lengthDoneAt = 0;
    let framing: string | undefined;
    socket.on('data', (d: Buffer) => {
      firstByteMs ??= performance.now() - started;
      parts.push(d);
      received += d.length;
      if (received >= 1024 * 1024 || received < lengthDoneAt) return;
      if (framing === 'chunked' && d[d.length - 1] !== 0x0a) return;
      // A gateway may keep the client connection open after a complete answer (keep-alive,
      // a refused upgrade): stop there instead of waiting for a FIN that never comes.
      const r = finalResponse(Buffer.concat(parts), req);
      if (r.done) finish('complete');
      framing = r.framing;
      lengthDoneAt = r.lengthDoneAt ?? 0;
    });
    socket.on('end', () => finish('fin'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'reset' : 'error', err.code));
  });
}

/**
 * Whether `bytes` hold a complete final response; the framing of the final response once its head
 * is in (interim heads have none); for a length-framed body, the byte count before which it cannot be complete.
 */
function finalResponse(bytes: Buffer, req: ProbeRequest): { readonly done: boolean; readonly framing?: string; readonly lengthDoneAt?: number } {
  const r = parseResponse(bytes, { method: req.method, cleanEnd: false });
  if (r.kind !== 'response') return { done: false };
  if (r.complete) return { done: r.framing !== 'close' && r.framing !== 'upgrade', framing: r.framing };
  return { done: false, framing: r.framing, ...(r.framing === 'length' && r.expectedBodyBytes !== undefined ? { lengthDoneAt: r.headBytes + r.expectedBodyBytes } : {}) };
}

function buildRequest(req: ProbeRequest): Buffer {
  // The Host a real client sends (curl http://127.0.0.1:8080/): host-based routing in a user's config (Caddy site addresses, server_name) matches it.
  const headers: Array<readonly [string, string]> = [['Host', hostPort(req.host, req.port)], ...(req.headers ?? [])];
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  if (req.websocket) {
    if (!has('upgrade')) headers.push(['Upgrade', 'websocket']);
    if (!has('connection')) headers.push(['Connection', 'Upgrade']);
    if (!has('sec-websocket-key')) headers.push(['Sec-WebSocket-Key', randomBytes(16).toString('base64')]);
    if (!has('sec-websocket-version')) headers.push(['Sec-WebSocket-Version', '13']);
  } else if (!has('connection')) headers.push(['Connection', 'close']);
  if (req.body && !has('content-length') && !has('transfer-encoding')) headers.push(['Content-Length', String(req.body.length)]);
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return req.body ? Buffer.concat([Buffer.from(head, 'latin1'), req.body]) : Buffer.from(head, 'latin1');
}

function toOutcome(bytes: Buffer, req: ProbeRequest, end: Outcome['end'], errorCode: string | undefined, durationMs: number, firstByteMs: number | undefined): Outcome {
  const common = { end, errorCode, durationMs: Math.round(durationMs), firstByteMs: firstByteMs === undefined ? undefined : Math.round(firstByteMs), bytes: bytes.length, preview: escapeBytes(bytes, 120) };
  if (end === 'error' && bytes.length === 0) return { kind: 'connect-error', body: 'none', bodyBytes: 0, ...common };
  const r = parseResponse(bytes, { method: req.method, cleanEnd: end === 'fin' || end === 'complete' });
  switch (r.kind) {
    case 'empty':
      return { kind: end === 'reset' ? 'reset' : end === 'timeout' ? 'timeout' : 'closed', body: 'none', bodyBytes: 0, ...common };
    case 'no-status-line':
      return { kind: 'no-status-line', body: r.complete ? 'complete' : 'truncated', bodyBytes: r.bodyBytes, interim: r.interim, bodyPreview: escapeBytes(bytes, BODY_PREVIEW_BYTES), ...common };
    case 'partial-head':
      return { kind: 'partial-head', status: r.status, body: 'none', bodyBytes: 0, interim: r.interim, head: headText(bytes, bytes.length), ...common };
    case 'response': {
      const noBody = r.framing === 'none' || r.framing === 'upgrade' || (r.framing === 'length' && r.expectedBodyBytes === 0);
      const ws = req.websocket ? (r.status === 101 ? { upgraded: true, ...readFrames(r.rest, end) } : { upgraded: false, frames: 0 }) : undefined;
      return {
        kind: 'response',
        status: r.status,
        headers: r.headers,
        interim: r.interim,
        body: noBody ? 'none' : r.complete ? 'complete' : 'truncated',
        bodyBytes: r.bodyBytes,
        expectedBodyBytes: r.expectedBodyBytes,
        websocket: ws,
        head: headText(bytes, r.headBytes),
        bodyPreview: escapeBytes(bytes.subarray(r.headBytes), BODY_PREVIEW_BYTES),
        ...cfRayField(r.headers),
        ...common,
      };
    }
  }
}

/** The CF-Ray header, when the response came through Cloudflare: what joins a report with Logpush records. */
function cfRayField(headers: ReadonlyArray<readonly [string, string]>): { cfRay?: string } {
  const ray = headers.find(([k]) => k.toLowerCase() === 'cf-ray')?.[1].trim();
  return ray ? { cfRay: ray } : {};
}

// Bounds on what an outcome keeps of the bytes (outcomes go into the JSON report): a transcript, not a capture.
const HEAD_MAX_BYTES = 8 * 1024;
const BODY_PREVIEW_BYTES = 240;

function headText(bytes: Buffer, headBytes: number): string {
  return bytes.toString('latin1', 0, Math.min(headBytes, HEAD_MAX_BYTES)).replace(/\r\n\r\n$/, '');
}

/** Server frames after a 101: count them and find a close frame; no close frame means abnormal closure (1006). */
function readFrames(buf: Buffer, end: Outcome['end']): { frames: number; closeCode?: number } {
  let off = 0;
  let frames = 0;
  while (off + 2 <= buf.length) {
    const opcode = buf[off]! & 0x0f;
    let len = buf[off + 1]! & 0x7f;
    let hdr = 2;
    if (len === 126) {
      if (off + 4 > buf.length) break;
      len = buf.readUInt16BE(off + 2);
      hdr = 4;
    } else if (len === 127) {
      if (off + 10 > buf.length) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      hdr = 10;
    }
    if (buf[off + 1]! & 0x80) hdr += 4;
    if (off + hdr + len > buf.length) break;
    frames++;
    if (opcode === 8) return { frames, closeCode: len >= 2 ? buf.readUInt16BE(off + hdr) : 1005 };
    off += hdr + len;
  }
  return { frames, closeCode: end === 'timeout' ? undefined : 1006 };
}
