/**
 * A small, strict-enough HTTP/1 request-head parser. The chaos upstream reads raw
 * bytes (node:http would validate and answer for us), so it parses heads itself.
 * Pure: bytes in, data out.
 */

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent, e.g. `/s/empty-reply?x=1`. */
  readonly target: string;
  /** The target without its query string. */
  readonly path: string;
  readonly version: string;
  /** Header lines in wire order, names as sent. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export type HeadParse =
  | { readonly kind: 'ok'; readonly head: RequestHead; /** bytes consumed, terminator included */ readonly size: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const INCOMPLETE: HeadParse = Object.freeze({ kind: 'incomplete' });

export function parseRequestHead(buf: Buffer, maxHeadBytes = 64 * 1024): HeadParse {
  const end = buf.indexOf(CRLFCRLF);
  // The limit holds whether or not the blank line has arrived yet, so the answer does not depend on how the bytes were split.
  if (end === -1 ? buf.length > maxHeadBytes : end + 4 > maxHeadBytes) {
    return { kind: 'invalid', reason: `request head larger than ${maxHeadBytes} bytes` };
  }
  if (end === -1) return INCOMPLETE;
  const text = buf.toString('latin1', 0, end);
  const lines = text.split('\r\n');
  const requestLine = lines[0] ?? '';
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.lastIndexOf(' ');
  // sp2 === sp1 + 1 is two spaces in a row: an empty request-target, which no client sends (RFC 9112 section 3).
  if (sp1 <= 0 || sp2 <= sp1 + 1) return { kind: 'invalid', reason: `malformed request line ${JSON.stringify(requestLine)}` };
  const method = requestLine.slice(0, sp1);
  const target = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!version.startsWith('HTTP/1.')) return { kind: 'invalid', reason: `unsupported version ${JSON.stringify(version)}` };
  const headers: Array<readonly [string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'invalid', reason: `malformed header line ${JSON.stringify(line)}` };
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const q = target.indexOf('?');
  return { kind: 'ok', head: { method, target, path: q === -1 ? target : target.slice(0, q), version, headers }, size: end + 4 };
}

/** The value of the first header named `name` (case-insensitive), or undefined. */
export function headerValue(head: RequestHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of head.headers) if (n.length === lower.length && n.toLowerCase() === lower) return v;
  return undefined;
}

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

/** How the request body is delimited (RFC 9112 section 6.3, request side). */
export function requestBodyFraming(head: RequestHead): BodyFraming {
  const te = headerValue(head, 'transfer-encoding');
  if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) return { kind: 'chunked' };
  const cl = headerValue(head, 'content-length');
  if (cl !== undefined) {
    const n = Number(cl);
    if (Number.isSafeInteger(n) && n > 0) return { kind: 'length', length: n };
  }
  return { kind: 'none' };
}

/** True when the client asked to keep the connection open after this exchange. */
export function wantsKeepAlive(head: RequestHead): boolean {
  const conn = headerValue(head, 'connection')?.toLowerCase();
  if (head.version === 'HTTP/1.0') return conn !== undefined && conn.includes('keep-alive');
  return !(conn !== undefined && conn.includes('close'));
}

export function isUpgradeRequest(head: RequestHead): boolean {
  const conn = headerValue(head, 'connection')?.toLowerCase() ?? '';
  return conn.includes('upgrade') && headerValue(head, 'upgrade') !== undefined;
}
