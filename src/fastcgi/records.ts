/**
 * FastCGI records (the FastCGI 1.0 specification, Open Market 1996): the 8-byte header, the
 * bodies the upstream reads and writes, and name-value pairs. Pure: bytes in, data out.
 */

export const FCGI_VERSION_1 = 1;
export const HEADER_LEN = 8;
/** A record's content is at most this long: the length field is 16 bits. */
export const MAX_CONTENT = 0xffff;
/**
 * The content of each full STDOUT/STDERR record the upstream writes: the largest multiple of 8
 * under MAX_CONTENT, so a full record needs no padding (PHP-FPM's fcgi_write splits at the same size).
 */
export const RECORD_SPLIT = 0xfff8;

export const TYPE = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;
export type RecordTypeName = 'begin-request' | 'abort-request' | 'end-request' | 'params' | 'stdin' | 'stdout' | 'stderr' | 'data' | 'get-values' | 'get-values-result' | 'unknown-type';
/** Type names as a fault writes them (`fcgi-record: {type: stdout}`), kebab-case of the spec's names. */
export const TYPE_BY_NAME: Readonly<Record<RecordTypeName, number>> = {
  'begin-request': 1,
  'abort-request': 2,
  'end-request': 3,
  params: 4,
  stdin: 5,
  stdout: 6,
  stderr: 7,
  data: 8,
  'get-values': 9,
  'get-values-result': 10,
  'unknown-type': 11,
};
export const MAX_KNOWN_TYPE = TYPE.UNKNOWN_TYPE;

export const ROLE = { RESPONDER: 1, AUTHORIZER: 2, FILTER: 3 } as const;
export const FLAG_KEEP_CONN = 1;

export const PROTOCOL_STATUS = { REQUEST_COMPLETE: 0, CANT_MPX_CONN: 1, OVERLOADED: 2, UNKNOWN_ROLE: 3 } as const;
export type ProtocolStatusName = 'request-complete' | 'cant-mpx-conn' | 'overloaded' | 'unknown-role';
export const PROTOCOL_STATUS_BY_NAME: Readonly<Record<ProtocolStatusName, number>> = {
  'request-complete': 0,
  'cant-mpx-conn': 1,
  overloaded: 2,
  'unknown-role': 3,
};

export interface RecordHeader {
  readonly version: number;
  readonly type: number;
  readonly requestId: number;
  readonly contentLength: number;
  readonly paddingLength: number;
}

export interface FcgiRecord extends RecordHeader {
  readonly content: Buffer;
}

/** Padding that brings `n` content bytes to a multiple of 8, as the spec recommends and PHP-FPM and nginx do. */
export const padFor = (n: number): number => (8 - (n % 8)) % 8;

/**
 * An 8-byte header. Every field is masked to its width: a fault may declare a content length its
 * data does not have (that is the point of some faults), but never one that does not fit.
 */
export function encodeHeader(h: RecordHeader): Buffer {
  const b = Buffer.alloc(HEADER_LEN);
  b[0] = h.version & 0xff;
  b[1] = h.type & 0xff;
  b.writeUInt16BE(h.requestId & 0xffff, 2);
  b.writeUInt16BE(h.contentLength & 0xffff, 4);
  b[6] = h.paddingLength & 0xff;
  return b;
}

export function decodeHeader(b: Buffer, at = 0): RecordHeader {
  return { version: b[at]!, type: b[at + 1]!, requestId: b.readUInt16BE(at + 2), contentLength: b.readUInt16BE(at + 4), paddingLength: b[at + 6]! };
}

/** One well-formed record: header, content (at most MAX_CONTENT bytes), zero padding to a multiple of 8. */
export function encodeRecord(type: number, requestId: number, content: Buffer = Buffer.alloc(0)): Buffer {
  if (content.length > MAX_CONTENT) throw new RangeError(`a FastCGI record holds at most ${MAX_CONTENT} bytes of content, not ${content.length}`);
  const pad = padFor(content.length);
  return Buffer.concat([encodeHeader({ version: FCGI_VERSION_1, type, requestId, contentLength: content.length, paddingLength: pad }), content, Buffer.alloc(pad)]);
}

/** A stream (STDOUT, STDERR, PARAMS, STDIN) of `data` in records of RECORD_SPLIT bytes; no terminating empty record. */
export function encodeStream(type: number, requestId: number, data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += RECORD_SPLIT) parts.push(encodeRecord(type, requestId, data.subarray(off, off + RECORD_SPLIT)));
  return Buffer.concat(parts);
}

export function encodeBeginRequest(requestId: number, role: number = ROLE.RESPONDER, keepConn = false): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(role & 0xffff, 0);
  body[2] = keepConn ? FLAG_KEEP_CONN : 0;
  return encodeRecord(TYPE.BEGIN_REQUEST, requestId, body);
}

export function decodeBeginRequest(content: Buffer): { readonly role: number; readonly keepConn: boolean } | undefined {
  if (content.length < 8) return undefined;
  return { role: content.readUInt16BE(0), keepConn: (content[2]! & FLAG_KEEP_CONN) !== 0 };
}

/** END_REQUEST's body: appStatus (32 bits, as the application's exit status) and protocolStatus. */
export function endRequestBody(appStatus: number, protocolStatus: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(appStatus >>> 0, 0);
  body[4] = protocolStatus & 0xff;
  return body;
}

export function encodeEndRequest(requestId: number, appStatus = 0, protocolStatus: number = PROTOCOL_STATUS.REQUEST_COMPLETE): Buffer {
  return encodeRecord(TYPE.END_REQUEST, requestId, endRequestBody(appStatus, protocolStatus));
}

export function decodeEndRequest(content: Buffer): { readonly appStatus: number; readonly protocolStatus: number } | undefined {
  if (content.length < 8) return undefined;
  return { appStatus: content.readUInt32BE(0), protocolStatus: content[4]! };
}

export function encodeUnknownType(type: number): Buffer {
  const body = Buffer.alloc(8);
  body[0] = type & 0xff;
  return encodeRecord(TYPE.UNKNOWN_TYPE, 0, body);
}

/** A length of a name-value pair: one byte below 128, else four with the top bit set. */
function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0);
  return b;
}

/** Name-value pairs as PARAMS, GET_VALUES and GET_VALUES_RESULT carry them (names and values latin1). */
export function encodePairs(pairs: Iterable<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(encodeLength(n.length), encodeLength(v.length), n, v);
  }
  return Buffer.concat(parts);
}

export type PairsResult = { readonly ok: true; readonly pairs: Array<[string, string]> } | { readonly ok: false; readonly reason: string };

/** Decodes name-value pairs; a length that runs past the data is an error, never a throw. */
export function decodePairs(data: Buffer): PairsResult {
  const pairs: Array<[string, string]> = [];
  let at = 0;
  const length = (): number | undefined => {
    if (at >= data.length) return undefined;
    const first = data[at]!;
    if (first < 0x80) {
      at += 1;
      return first;
    }
    if (at + 4 > data.length) return undefined;
    const n = data.readUInt32BE(at) & 0x7fffffff;
    at += 4;
    return n;
  };
  while (at < data.length) {
    const nameLen = length();
    const valueLen = nameLen === undefined ? undefined : length();
    if (nameLen === undefined || valueLen === undefined) return { ok: false, reason: `name-value pair at byte ${at}: its length runs past the data` };
    if (at + nameLen + valueLen > data.length) return { ok: false, reason: `name-value pair at byte ${at}: ${nameLen} + ${valueLen} bytes, ${data.length - at} left` };
    pairs.push([data.toString('latin1', at, at + nameLen), data.toString('latin1', at + nameLen, at + nameLen + valueLen)]);
    at += nameLen + valueLen;
  }
  return { ok: true, pairs };
}

export function typeName(type: number): string {
  const found = Object.entries(TYPE_BY_NAME).find(([, t]) => t === type);
  return found ? found[0] : `type ${type}`;
}
