/**
 * The upstream's FastCGI side: a connection on a FastCGI listener (TCP or unix socket) reads
 * BEGIN_REQUEST and PARAMS, is routed like an HTTP request (the path of REQUEST_URI, else
 * SCRIPT_NAME; the fault header as its HTTP_* param; query params from QUERY_STRING), and runs
 * a fault with `protocol: fastcgi`. With FCGI_KEEP_CONN it reads the next request on the same
 * connection; without it, it closes after the script, as PHP-FPM does.
 */
import { encodeEndRequest, encodeStream, TYPE } from '../fastcgi/records.js';
import type { FcgiRequest } from '../fastcgi/parser.js';
import { HeadGuardError } from '../faults/conn.js';
import { isPeerError, runScript } from '../faults/executor.js';
import type { CompiledFault, FaultDef } from '../faults/fault.js';
import { FcgiProtocolError, type FcgiConn } from '../faults/fcgi-conn.js';
import { headerValue, type RequestHead } from '../wire/request-head.js';
import type { EventBus, UpstreamEvent } from './events.js';
import type { Router, Selection } from './router.js';
import { namesAFault, shortId, unknownFaultText } from './unknown-fault.js';

type GuardEvent = Extract<UpstreamEvent, { type: 'guard' }>;

export interface FcgiServeContext {
  readonly router: Router;
  /** A FastCGI fault named at request time, params from the query string; throws `rejected` errors for params it cannot run with. */
  readonly byName: (id: string, head: RequestHead) => CompiledFault | undefined;
  /** The reason a byName error is a rejection of the request's params (answered 400), or undefined for any other error. */
  readonly rejected: (err: unknown) => { readonly fault: string; readonly why: string } | undefined;
  readonly faultDef: (id: string) => FaultDef | undefined;
  readonly ids: () => string[];
  readonly events: EventBus;
  readonly guard: (e: GuardEvent) => void;
  readonly maxParamsBytes: number;
  readonly headTimeoutMs: number;
  readonly faultPaths: boolean;
  readonly overrideHeader: string | undefined;
  /** Ends a connection whose peer broke the protocol: FIN, and what it still sends drained for a while (see answerAndLinger). */
  readonly linger: (conn: FcgiConn) => void;
  /** A bug: reported, and the connection reset. */
  readonly bug: (conn: FcgiConn, fault: string | undefined, err: unknown) => void;
}

function param(req: FcgiRequest, name: string): string | undefined {
  let found: string | undefined;
  // The last one wins, as in PHP's $_SERVER.
  for (const [n, v] of req.params) if (n === name) found = v;
  return found;
}

/**
 * The request as the router sees it: the target is the path of REQUEST_URI (else SCRIPT_NAME, else
 * /) with QUERY_STRING (else REQUEST_URI's own query); HTTP_* params are headers (HTTP_X_FOO is
 * x-foo), CONTENT_TYPE and CONTENT_LENGTH too.
 */
export function fcgiRequestHead(req: FcgiRequest): RequestHead {
  const uri = param(req, 'REQUEST_URI');
  const from = uri !== undefined && uri !== '' ? uri : (param(req, 'SCRIPT_NAME') ?? '');
  const q = from.indexOf('?');
  const path = (q === -1 ? from : from.slice(0, q)) || '/';
  const qs = param(req, 'QUERY_STRING');
  const query = qs !== undefined && qs !== '' ? qs : q === -1 ? '' : from.slice(q + 1);
  const headers: Array<readonly [string, string]> = [];
  for (const [n, v] of req.params) {
    if (n.startsWith('HTTP_')) headers.push([n.slice(5).toLowerCase().replace(/_/g, '-'), v]);
    else if (n === 'CONTENT_TYPE' || n === 'CONTENT_LENGTH') headers.push([n.toLowerCase().replace(/_/g, '-'), v]);
  }
  return { method: param(req, 'REQUEST_METHOD') ?? 'GET', target: query === '' ? path : `${path}?${query}`, path, version: param(req, 'SERVER_PROTOCOL') ?? 'HTTP/1.1', headers };
}

/** A FastCGI answer from the upstream itself (not a fault): CGI output, the empty STDOUT, END_REQUEST. */
function ownAnswer(requestId: number, status: string, code: string, text: string): Buffer {
  const out = Buffer.from(`Status: ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Badgateway-Error: ${code}\r\n\r\nbadgateway: ${code}: ${text}\n`, 'utf8');
  return Buffer.concat([encodeStream(TYPE.STDOUT, requestId, out), encodeStream(TYPE.STDOUT, requestId, Buffer.alloc(0)), encodeEndRequest(requestId)]);
}

function firstSegment(path: string): string | undefined {
  return /^\/([a-z0-9][a-z0-9-]*)(?:\/|$)/.exec(path)?.[1];
}

export async function serveFastcgi(conn: FcgiConn, listener: string, ctx: FcgiServeContext): Promise<void> {
  let faultId: string | undefined;
  try {
    for (;;) {
      let req: FcgiRequest | undefined;
      try {
        req = await conn.readRequest(true);
      } catch (err) {
        conn.headSince = -1;
        if (err instanceof HeadGuardError) {
          ctx.guard({ type: 'guard', guard: 'head-timeout', conn: conn.id, listener, limit: ctx.headTimeoutMs });
          // No FastCGI record says "too slow": the connection closes, as PHP-FPM's does after request_terminate_timeout.
          ctx.linger(conn);
          return;
        }
        if (err instanceof FcgiProtocolError) {
          if (err.limit === 'params-bytes') ctx.guard({ type: 'guard', guard: 'head-too-big', conn: conn.id, listener, limit: ctx.maxParamsBytes });
          else ctx.guard({ type: 'guard', guard: 'fcgi-protocol', conn: conn.id, listener, reason: err.message.slice(0, 200) });
          ctx.linger(conn);
          return;
        }
        if (!isPeerError(err)) throw err;
        conn.destroy();
        return;
      }
      if (req === undefined) {
        conn.destroy();
        return;
      }
      faultId = undefined;
      const head = fcgiRequestHead(req);
      const inHeader = ctx.overrideHeader === undefined ? undefined : headerValue(head, ctx.overrideHeader);
      let sel: Selection | undefined;
      let refusal: Buffer | undefined;
      try {
        if (inHeader !== undefined && ctx.byName(inHeader, head) === undefined) refusal = unknown(ctx, conn, req, inHeader, 'header');
        else {
          sel = ctx.router.select(head);
          if (sel.via === 'default' && ctx.faultPaths) {
            const id = firstSegment(head.path);
            const named = id === undefined ? undefined : ctx.byName(id, head);
            if (named) sel = { fault: named, via: 'route' };
            else if (id !== undefined && namesAFault(id, ctx.ids())) refusal = unknown(ctx, conn, req, id, 'path');
          }
        }
      } catch (err) {
        const r = ctx.rejected(err);
        if (r === undefined) throw err;
        if (ctx.events.active) ctx.events.emit({ type: 'rejected', conn: conn.id, fault: r.fault, why: r.why });
        refusal = ownAnswer(req.requestId, '400 Bad Request', 'BG_INVALID_FAULT', `${r.why}. Parameters come from QUERY_STRING; \`badgateway faults <id>\` lists a fault's parameters.`);
      }
      if (refusal !== undefined || sel === undefined) {
        await conn.readStdin();
        conn.write(refusal ?? Buffer.alloc(0));
        conn.finishRequest();
        if (!req.keepConn) {
          conn.close();
          return;
        }
        continue;
      }
      faultId = sel.fault.def.id;
      const fault = faultId;
      if (ctx.events.active) ctx.events.emit({ type: 'request', conn: conn.id, method: head.method, target: head.target, fault, via: sel.via, requestId: req.requestId });
      const onStep = ctx.events.active ? (s: { index: number; op: string }) => ctx.events.emit({ type: 'step', conn: conn.id, fault, ...s }) : undefined;
      const ran = runScript(conn, sel.fault.steps, onStep);
      const end = typeof ran === 'string' ? ran : await ran;
      if (end === 'closed') return;
      if (conn.socket.writableEnded) {
        await conn.untilGone();
        conn.destroy();
        return;
      }
      // Without FCGI_KEEP_CONN the application closes after the request (FastCGI 1.0, section 5.1); a
      // script that ended with the request unfinished leaves nothing the next request could follow.
      if (!req.keepConn || conn.parser.current !== undefined) {
        conn.close();
        return;
      }
    }
  } catch (err) {
    if (isPeerError(err)) {
      conn.destroy();
      return;
    }
    ctx.bug(conn, faultId, err);
  }
}

function unknown(ctx: FcgiServeContext, conn: FcgiConn, req: FcgiRequest, id: string, via: 'path' | 'header'): Buffer {
  if (ctx.events.active) ctx.events.emit({ type: 'unknown-fault', conn: conn.id, id: shortId(id), via });
  return ownAnswer(req.requestId, '404 Not Found', 'BG_UNKNOWN_FAULT', unknownFaultText(id, via, ctx.faultDef(id), ctx.ids(), 'fastcgi'));
}
