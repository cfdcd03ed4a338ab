/**
 * The upstream's HTTP/2 side (h2c with prior knowledge): a connection reads the client preface,
 * its SETTINGS and the frames up to a request's HEADERS, is routed by `:path` exactly as an
 * HTTP/1 request is routed by its path (the fault header too), and runs a fault with
 * `protocol: h2` on that stream. The server's preface, an empty SETTINGS frame, goes out as soon as
 * the client's preface is read, before routing (HAProxy sends no request until it has it); a
 * fault's `h2-settings` step writes a second SETTINGS frame, whose bad values are as much a
 * connection error as in the first. A script that ends with the connection open serves the connection's next request: one
 * stream at a time, as a server with SETTINGS_MAX_CONCURRENT_STREAMS 1 would, so a request the
 * client multiplexes beside a hanging one waits behind it.
 */
import { isPeerError, runScript } from '../faults/executor.js';
import type { CompiledFault, FaultDef } from '../faults/fault.js';
import { H2Conn, H2ProtocolError, type H2Stream } from '../faults/h2-conn.js';
import { HeadGuardError } from '../faults/conn.js';
import { ERROR_CODE, FLAG, FRAME_TYPE } from '../h2/frames.js';
import { headerValue, type RequestHead } from '../wire/request-head.js';
import type { EventBus, UpstreamEvent } from './events.js';
import type { Router, Selection } from './router.js';
import { namesAFault, shortId, unknownFaultText } from './unknown-fault.js';

type GuardEvent = Extract<UpstreamEvent, { type: 'guard' }>;

export interface H2ServeContext {
  readonly router: Router;
  /** An h2 fault named at request time, params from the query string; throws `rejected` errors for params it cannot run with. */
  readonly byName: (id: string, head: RequestHead) => CompiledFault | undefined;
  readonly rejected: (err: unknown) => { readonly fault: string; readonly why: string } | undefined;
  readonly faultDef: (id: string) => FaultDef | undefined;
  readonly ids: () => string[];
  readonly events: EventBus;
  readonly guard: (e: GuardEvent) => void;
  readonly headTimeoutMs: number;
  readonly faultPaths: boolean;
  readonly overrideHeader: string | undefined;
  readonly linger: (conn: H2Conn) => void;
  readonly bug: (conn: H2Conn, fault: string | undefined, err: unknown) => void;
}

function firstSegment(path: string): string | undefined {
  return /^\/([a-z0-9][a-z0-9-]*)(?:\/|$)/.exec(path)?.[1];
}

/** An answer of the upstream's own (not a fault) on the request's stream: text/plain, END_STREAM; the connection stays open. */
function ownAnswer(conn: H2Conn, stream: H2Stream, status: number, code: string, text: string): void {
  conn.ensurePreface();
  const body = Buffer.from(`badgateway: ${code}: ${text}\n`, 'utf8');
  const block = conn.encoder.encode([
    [':status', String(status)],
    ['content-type', 'text/plain; charset=utf-8'],
    ['content-length', String(body.length)],
    ['x-badgateway-error', code],
  ]);
  conn.writeFrame(FRAME_TYPE.HEADERS, FLAG.END_HEADERS, stream.id, block);
  // Small enough for any window the client can have given (a body of a few hundred bytes).
  conn.writeFrame(FRAME_TYPE.DATA, FLAG.END_STREAM, stream.id, body);
}

export async function serveH2(conn: H2Conn, listener: string, ctx: H2ServeContext): Promise<void> {
  let faultId: string | undefined;
  try {
    for (;;) {
      let stream: H2Stream | undefined;
      try {
        stream = await conn.readRequest(true);
      } catch (err) {
        conn.headSince = -1;
        if (err instanceof HeadGuardError) {
          ctx.guard({ type: 'guard', guard: 'head-timeout', conn: conn.id, listener, limit: ctx.headTimeoutMs });
          if (conn.requests > 0 || conn.buffered > 0) conn.goaway(ERROR_CODE.NO_ERROR, 'no request within the head timeout');
          ctx.linger(conn);
          return;
        }
        if (err instanceof H2ProtocolError) {
          ctx.guard({ type: 'guard', guard: 'h2-protocol', conn: conn.id, listener, reason: err.message.slice(0, 200) });
          conn.goaway(err.h2code, err.message);
          ctx.linger(conn);
          return;
        }
        if (!isPeerError(err)) throw err;
        conn.destroy();
        return;
      }
      if (stream === undefined) {
        conn.destroy();
        return;
      }
      faultId = undefined;
      const head = stream.head;
      const inHeader = ctx.overrideHeader === undefined ? undefined : headerValue(head, ctx.overrideHeader);
      let sel: Selection | undefined;
      try {
        if (inHeader !== undefined && ctx.byName(inHeader, head) === undefined) unknown(ctx, conn, stream, inHeader, 'header');
        else {
          sel = ctx.router.select(head);
          if (sel.via === 'default' && ctx.faultPaths) {
            const id = firstSegment(head.path);
            const named = id === undefined ? undefined : ctx.byName(id, head);
            if (named) sel = { fault: named, via: 'route' };
            else if (id !== undefined && namesAFault(id, ctx.ids())) {
              unknown(ctx, conn, stream, id, 'path');
              sel = undefined;
            }
          }
        }
      } catch (err) {
        const r = ctx.rejected(err);
        if (r === undefined) throw err;
        if (ctx.events.active) ctx.events.emit({ type: 'rejected', conn: conn.id, fault: r.fault, why: r.why });
        ownAnswer(conn, stream, 400, 'BG_INVALID_FAULT', `${r.why}. Parameters come from the query string of :path; \`badgateway faults <id>\` lists a fault's parameters.`);
        sel = undefined;
      }
      if (sel === undefined) {
        conn.finishStream();
        continue;
      }
      faultId = sel.fault.def.id;
      const fault = faultId;
      if (ctx.events.active) ctx.events.emit({ type: 'request', conn: conn.id, method: head.method, target: head.target, fault, via: sel.via, streamId: stream.id });
      const onStep = ctx.events.active ? (s: { index: number; op: string }) => ctx.events.emit({ type: 'step', conn: conn.id, fault, ...s }) : undefined;
      const ran = runScript(conn, sel.fault.steps, onStep);
      const end = typeof ran === 'string' ? ran : await ran;
      if (end === 'closed') return;
      if (conn.socket.writableEnded) {
        await conn.untilGone();
        conn.destroy();
        return;
      }
      conn.finishStream();
    }
  } catch (err) {
    if (isPeerError(err) && !(err instanceof H2ProtocolError)) {
      conn.destroy();
      return;
    }
    if (err instanceof H2ProtocolError) {
      // The client broke HTTP/2 while a script read its frames: a connection error, as any server answers it.
      conn.goaway(err.h2code, err.message);
      ctx.linger(conn);
      return;
    }
    ctx.bug(conn, faultId, err);
  }
}

function unknown(ctx: H2ServeContext, conn: H2Conn, stream: H2Stream, id: string, via: 'path' | 'header'): void {
  if (ctx.events.active) ctx.events.emit({ type: 'unknown-fault', conn: conn.id, id: shortId(id), via });
  ownAnswer(conn, stream, 404, 'BG_UNKNOWN_FAULT', unknownFaultText(id, via, ctx.faultDef(id), ctx.ids(), 'h2'));
}
