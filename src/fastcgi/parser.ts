/**
 * An incremental reader of what a FastCGI client (a gateway) sends: records split anywhere,
 * assembled into requests (BEGIN_REQUEST, PARAMS to the empty record, then STDIN), with the
 * management records answered. Pure: bytes in, events out. Hostile bytes never throw: the first
 * problem is an `error` event, and every later call returns it again.
 *
 * One request at a time per connection, as PHP-FPM serves them (FCGI_MPXS_CONNS is 0): a
 * BEGIN_REQUEST for a second id while one is active is answered END_REQUEST with
 * FCGI_CANT_MPX_CONN, and records of ids that are not active are ignored, as the spec says.
 */
import {
  decodeBeginRequest,
  decodeHeader,
  decodePairs,
  encodeEndRequest,
  encodePairs,
  encodeRecord,
  encodeUnknownType,
  FCGI_VERSION_1,
  HEADER_LEN,
  MAX_KNOWN_TYPE,
  PROTOCOL_STATUS,
  ROLE,
  TYPE,
  typeName,
} from './records.js';

export interface FcgiRequest {
  readonly requestId: number;
  readonly role: number;
  /** FCGI_KEEP_CONN: the client keeps the connection for more requests; without it the application closes after END_REQUEST. */
  readonly keepConn: boolean;
  /** The PARAMS pairs in the order sent. */
  readonly params: ReadonlyArray<readonly [string, string]>;
}

export type FcgiEvent =
  /** BEGIN_REQUEST and PARAMS up to their empty record: a request to route. */
  | { readonly kind: 'request'; readonly request: FcgiRequest }
  /** A STDIN record of the active request: its size, or the empty record that ends STDIN. */
  | { readonly kind: 'stdin'; readonly requestId: number; readonly bytes: number; readonly end: boolean }
  | { readonly kind: 'abort'; readonly requestId: number }
  /** Bytes to write back at once: a management answer (GET_VALUES_RESULT, UNKNOWN_TYPE) or an END_REQUEST refusing a request. */
  | { readonly kind: 'reply'; readonly bytes: Buffer; readonly why: string }
  /** A protocol error or a bound crossed; `limit` names the bound. Sticky. */
  | { readonly kind: 'error'; readonly reason: string; readonly limit?: 'params-bytes' | 'records' };

export interface ParserLimits {
  /** Most bytes of PARAMS content one request may send (the FastCGI counterpart of the request-head limit). */
  readonly maxParamsBytes: number;
  /** Most records before a request's PARAMS end (and management records on the whole connection): a flood of tiny records costs a bounded amount. */
  readonly maxStartRecords: number;
}

export const DEFAULT_LIMITS: ParserLimits = { maxParamsBytes: 64 * 1024, maxStartRecords: 1024 };

/** What GET_VALUES_RESULT answers: this upstream serves one request at a time per connection. */
const VALUES: Readonly<Record<string, string>> = { FCGI_MAX_CONNS: '1024', FCGI_MAX_REQS: '1024', FCGI_MPXS_CONNS: '0' };
const EMPTY = Buffer.alloc(0);

interface Active {
  readonly requestId: number;
  readonly role: number;
  readonly keepConn: boolean;
  params: Buffer[];
  paramsBytes: number;
  paramsDone: boolean;
  stdinDone: boolean;
}

export class FcgiParser {
  private buf: Buffer = EMPTY;
  private active: Active | undefined;
  private failed: FcgiEvent | undefined;
  private startRecords = 0;
  private managementRecords = 0;

  constructor(private readonly limits: ParserLimits = DEFAULT_LIMITS) {}

  /** Bytes held and not yet parsed: at most one partial record once next() has returned undefined. */
  get buffered(): number {
    return this.buf.length;
  }

  /** The request being served (BEGIN_REQUEST seen, not yet finished), if any. */
  get current(): { readonly requestId: number; readonly paramsDone: boolean; readonly stdinDone: boolean } | undefined {
    return this.active;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The active request is over (its END_REQUEST is written): later records of its id are ignored. */
  finishRequest(): void {
    this.active = undefined;
    this.startRecords = 0;
  }

  /** The next event, or undefined when more bytes are needed. */
  next(): FcgiEvent | undefined {
    while (!this.failed) {
      if (this.buf.length < HEADER_LEN) return undefined;
      const h = decodeHeader(this.buf);
      if (h.version !== FCGI_VERSION_1) return this.fail(`a record of version ${h.version}; FastCGI 1.0 has version 1`);
      const size = HEADER_LEN + h.contentLength + h.paddingLength;
      if (this.buf.length < size) return undefined;
      const content = this.buf.subarray(HEADER_LEN, HEADER_LEN + h.contentLength);
      this.buf = size === this.buf.length ? EMPTY : this.buf.subarray(size);
      const e = this.record(h.type, h.requestId, content);
      if (e) return e;
    }
    return this.failed;
  }

  private fail(reason: string, limit?: 'params-bytes' | 'records'): FcgiEvent {
    this.failed = limit === undefined ? { kind: 'error', reason } : { kind: 'error', reason, limit };
    this.buf = EMPTY;
    return this.failed;
  }

  private record(type: number, requestId: number, content: Buffer): FcgiEvent | undefined {
    if (requestId === 0) return this.management(type, content);
    const a = this.active;
    // Counted: what builds a request (and every BEGIN_REQUEST, each of which may be answered). Records
    // of other ids are dropped as they come and cost no memory; the head guard bounds their time.
    if (type === TYPE.BEGIN_REQUEST || (a !== undefined && a.requestId === requestId && !a.paramsDone)) {
      if (++this.startRecords > this.limits.maxStartRecords) return this.fail(`more than ${this.limits.maxStartRecords} records before a request's PARAMS ended`, 'records');
    }
    switch (type) {
      case TYPE.BEGIN_REQUEST: {
        if (a !== undefined && a.requestId === requestId) return this.fail(`BEGIN_REQUEST for request ${requestId}, which is already active`);
        const begin = decodeBeginRequest(content);
        if (begin === undefined) return this.fail(`BEGIN_REQUEST with ${content.length} bytes of content; it has 8`);
        // One request at a time: a second one is refused, the first goes on.
        if (a !== undefined) return { kind: 'reply', bytes: encodeEndRequest(requestId, 0, PROTOCOL_STATUS.CANT_MPX_CONN), why: `request ${requestId} while ${a.requestId} is active: FCGI_CANT_MPX_CONN` };
        if (begin.role !== ROLE.RESPONDER) return { kind: 'reply', bytes: encodeEndRequest(requestId, 0, PROTOCOL_STATUS.UNKNOWN_ROLE), why: `role ${begin.role}: only the responder role is served (FCGI_UNKNOWN_ROLE)` };
        this.active = { requestId, role: begin.role, keepConn: begin.keepConn, params: [], paramsBytes: 0, paramsDone: false, stdinDone: false };
        return undefined;
      }
      case TYPE.PARAMS: {
        if (a === undefined || a.requestId !== requestId || a.paramsDone) return undefined;
        if (content.length > 0) {
          a.paramsBytes += content.length;
          if (a.paramsBytes > this.limits.maxParamsBytes) return this.fail(`PARAMS larger than ${this.limits.maxParamsBytes} bytes`, 'params-bytes');
          // A copy: the content is a view of the read buffer, which would be held whole otherwise.
          a.params.push(Buffer.from(content));
          return undefined;
        }
        a.paramsDone = true;
        this.startRecords = 0;
        const pairs = decodePairs(a.params.length === 1 ? a.params[0]! : Buffer.concat(a.params));
        a.params = [];
        if (!pairs.ok) return this.fail(`PARAMS of request ${requestId}: ${pairs.reason}`);
        return { kind: 'request', request: { requestId, role: a.role, keepConn: a.keepConn, params: pairs.pairs } };
      }
      case TYPE.STDIN: {
        if (a === undefined || a.requestId !== requestId || a.stdinDone) return undefined;
        if (!a.paramsDone) return this.fail(`STDIN of request ${requestId} before its PARAMS ended`);
        if (content.length === 0) a.stdinDone = true;
        return { kind: 'stdin', requestId, bytes: content.length, end: content.length === 0 };
      }
      case TYPE.ABORT_REQUEST:
        return a !== undefined && a.requestId === requestId ? { kind: 'abort', requestId } : undefined;
      case TYPE.DATA:
        return undefined;
      case TYPE.END_REQUEST:
      case TYPE.STDOUT:
      case TYPE.STDERR:
      case TYPE.GET_VALUES_RESULT:
      case TYPE.UNKNOWN_TYPE:
        return this.fail(`${typeName(type).toUpperCase().replace(/-/g, '_')} for request ${requestId}: an application sends it, a client never does`);
      default:
        return this.fail(`a record of unknown type ${type} for request ${requestId}`);
    }
  }

  private management(type: number, content: Buffer): FcgiEvent | undefined {
    if (++this.managementRecords > this.limits.maxStartRecords) return this.fail(`more than ${this.limits.maxStartRecords} management records on one connection`, 'records');
    if (type === TYPE.GET_VALUES) {
      const asked = decodePairs(content);
      if (!asked.ok) return this.fail(`GET_VALUES: ${asked.reason}`);
      const known = asked.pairs.filter(([name]) => Object.hasOwn(VALUES, name)).map(([name]) => [name, VALUES[name]!] as const);
      return { kind: 'reply', bytes: encodeRecord(TYPE.GET_VALUES_RESULT, 0, encodePairs(known)), why: 'GET_VALUES' };
    }
    if (type >= 1 && type <= MAX_KNOWN_TYPE && type !== TYPE.GET_VALUES) {
      return this.fail(`${typeName(type).toUpperCase().replace(/-/g, '_')} with request id 0, which only management records use`);
    }
    return { kind: 'reply', bytes: encodeUnknownType(type), why: `management record of unknown type ${type}` };
  }
}
