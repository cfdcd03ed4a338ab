/**
 * A raw FastCGI client, as a gateway is one: builds BEGIN_REQUEST / PARAMS / STDIN records and
 * reads records back. Written apart from src/fastcgi/ (its own few lines of encoding), so the
 * upstream's codec is checked against something it did not produce.
 */

export interface FcgiRequestSpec {
  readonly requestId?: number;
  readonly keepConn?: boolean;
  /** PARAMS pairs; REQUEST_METHOD, REQUEST_URI, SCRIPT_NAME, QUERY_STRING are filled from `uri` unless given. */
  readonly params?: ReadonlyArray<readonly [string, string]>;
  readonly uri?: string;
  readonly stdin?: Buffer | string;
  /** Split PARAMS into records of at most this many bytes (default: one record). */
  readonly paramsRecordBytes?: number;
}

function record(type: number, requestId: number, content: Buffer): Buffer {
  const pad = (8 - (content.length % 8)) % 8;
  const h = Buffer.from([1, type, requestId >> 8, requestId & 0xff, content.length >> 8, content.length & 0xff, pad, 0]);
  return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

function len(n: number): Buffer {
  return n < 128 ? Buffer.from([n]) : Buffer.from([(n >>> 24) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

export function pairs(list: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(list.flatMap(([n, v]) => [len(Buffer.byteLength(n, 'latin1')), len(Buffer.byteLength(v, 'latin1')), Buffer.from(n, 'latin1'), Buffer.from(v, 'latin1')]));
}

/** The params nginx's fastcgi_params sends, in short: what routing needs. */
export function defaultParams(uri: string): Array<readonly [string, string]> {
  const q = uri.indexOf('?');
  return [
    ['REQUEST_METHOD', 'GET'],
    ['SCRIPT_NAME', q === -1 ? uri : uri.slice(0, q)],
    ['QUERY_STRING', q === -1 ? '' : uri.slice(q + 1)],
    ['REQUEST_URI', uri],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['HTTP_HOST', 'test'],
  ];
}

/** A whole request: BEGIN_REQUEST, PARAMS, the empty PARAMS, STDIN, the empty STDIN. */
export function fcgiRequest(spec: FcgiRequestSpec): Buffer {
  const id = spec.requestId ?? 1;
  const body = Buffer.alloc(8);
  body.writeUInt16BE(1, 0);
  body[2] = spec.keepConn ? 1 : 0;
  const p = pairs(spec.params ?? defaultParams(spec.uri ?? '/'));
  const step = Math.min(spec.paramsRecordBytes ?? 0xfff8, 0xfff8);
  const parts = [record(1, id, body)];
  for (let off = 0; off < p.length; off += step) parts.push(record(4, id, p.subarray(off, off + step)));
  parts.push(record(4, id, Buffer.alloc(0)));
  const stdin = typeof spec.stdin === 'string' ? Buffer.from(spec.stdin, 'latin1') : (spec.stdin ?? Buffer.alloc(0));
  for (let off = 0; off < stdin.length; off += 0xfff8) parts.push(record(5, id, stdin.subarray(off, off + 0xfff8)));
  parts.push(record(5, id, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export interface ReadRecord {
  readonly version: number;
  readonly type: number;
  readonly requestId: number;
  readonly content: Buffer;
}

/** Whole records at the start of `b`, and how many bytes are left over (a record cut short). */
export function readRecords(b: Buffer): { records: ReadRecord[]; rest: number } {
  const records: ReadRecord[] = [];
  let at = 0;
  while (b.length - at >= 8) {
    const clen = b.readUInt16BE(at + 4);
    const size = 8 + clen + b[at + 6]!;
    if (b.length - at < size) break;
    records.push({ version: b[at]!, type: b[at + 1]!, requestId: b.readUInt16BE(at + 2), content: b.subarray(at + 8, at + 8 + clen) });
    at += size;
  }
  return { records, rest: b.length - at };
}

/** The STDOUT of `requestId` joined, and whether its END_REQUEST arrived (with appStatus and protocolStatus). */
export function responseOf(b: Buffer, requestId = 1): { stdout: string; stderr: string; end?: { appStatus: number; protocolStatus: number } } {
  const { records } = readRecords(b);
  const mine = records.filter((r) => r.requestId === requestId);
  const end = mine.find((r) => r.type === 3);
  return {
    stdout: Buffer.concat(mine.filter((r) => r.type === 6).map((r) => r.content)).toString('latin1'),
    stderr: Buffer.concat(mine.filter((r) => r.type === 7).map((r) => r.content)).toString('latin1'),
    ...(end ? { end: { appStatus: end.content.readUInt32BE(0), protocolStatus: end.content[4]! } } : {}),
  };
}
