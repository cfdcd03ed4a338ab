/**
 * The chaos upstream: HTTP/1 listeners (TCP and unix sockets) whose every
 * request is routed to a fault script, plus the listener-level faults. It
 * survives everything it injects: each socket has its error listener from the
 * start, each script runs under the connection's abort signal, and close()
 * destroys every tracked socket.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Conn, DEFAULT_MAX_HEAD_BYTES, HeadGuardError, HeadTooBigError } from '../faults/conn.js';
import { isPeerError, reportBugOnce, runScript } from '../faults/executor.js';
import type { CompiledFault, FaultDef, FaultProtocol } from '../faults/fault.js';
import { FcgiConn } from '../faults/fcgi-conn.js';
import { serveFastcgi, type FcgiServeContext } from './fastcgi.js';
import { H2Conn } from '../faults/h2-conn.js';
import { serveH2, type H2ServeContext } from './h2.js';
import { stepsHeld } from '../faults/steps.js';
import { Catalogue } from '../faults/registry.js';
import { InputError } from '../errors.js';
import { headerValue, wantsKeepAlive, type RequestHead } from '../wire/request-head.js';
import { EventBus, type UpstreamEvent } from './events.js';
import { closeServer, defaultMaxConnections, descriptorLimit, listen } from './listen.js';
import { startListenerFault, startUnixListenerFault, type ListenerFaultHandle, type UnixListenerFaultHandle } from './listener-faults.js';
import { Router, type MixEntry, type Route, type Selection } from './router.js';
import { namesAFault, shortId, unknownFaultResponse, type UnknownVia } from './unknown-fault.js';
import { serveCut, startTlsListener, type TlsConn, type TlsListenerHandle } from '../tls/listener.js';
import type { RunPki } from '../tls/pki.js';

export interface RouteSpec {
  readonly pathPrefix?: string;
  readonly header?: { readonly name: string; readonly value?: string };
  readonly fault: string;
  readonly params?: Readonly<Record<string, string | number>>;
  /**
   * Which listeners the route serves: a route goes to the FastCGI listeners when its fault speaks
   * FastCGI, to the HTTP ones otherwise. Saying it is a check: a route whose fault speaks the other
   * protocol is refused. Absent: whatever the fault speaks.
   */
  readonly protocol?: FaultProtocol;
  /** Served on the TLS listener (tlsPort) only: a TLS scenario's route. The TLS listener serves the routes without it too. */
  readonly tls?: boolean;
}

export interface MixSpec {
  readonly fault: string;
  readonly weight: number;
  readonly params?: Readonly<Record<string, string | number>>;
}

export interface UpstreamOptions {
  readonly host?: string;
  /** Port of the main HTTP listener; 0 (default) picks a free one. */
  readonly port?: number;
  /** Also listen on this unix socket path, with the same routing. */
  readonly unixPath?: string;
  /**
   * Serve FastCGI on this TCP port (0: a free one), as PHP-FPM does: requests are routed like
   * HTTP ones (the path of REQUEST_URI, else SCRIPT_NAME) to faults with `protocol: fastcgi`.
   * Default: no FastCGI listener.
   */
  readonly fastcgiPort?: number;
  /** Serve FastCGI on this unix socket path too (or only), as PHP-FPM's usual `listen = /run/php/….sock`. */
  readonly fastcgiUnixPath?: string;
  /**
   * The certificates TLS listeners present (src/tls/pki.ts): needed by `tlsPort` and by the
   * TLS listener faults (`listener: tls`), which the default list leaves out without it.
   */
  readonly tls?: { readonly pki: RunPki };
  /** Serve HTTP over TLS on this TCP port too (0: a free one), with the same routing as the HTTP listener and the run's healthy certificate. Needs `tls`. */
  readonly tlsPort?: number;
  /**
   * Serve HTTP/2 over cleartext (h2c, prior knowledge: the client starts with the HTTP/2 preface)
   * on this TCP port (0: a free one): requests are routed by `:path` as HTTP/1 ones by path, to
   * faults with `protocol: h2` (h2-*, grpc-*). Default: no HTTP/2 listener.
   */
  readonly h2Port?: number;
  /**
   * Serve HTTP/2 over TLS on this TCP port too (0: a free one), ALPN `h2`, with the run's healthy
   * certificate and the same routing as the h2c listener, plus the routes that say `tls`. Needs `tls`.
   */
  readonly h2TlsPort?: number;
  /**
   * Listen on this many more TCP ports for HTTP (and for FastCGI with fastcgiPort, and HTTP/2 with
   * h2Port), each a free port with the same routing: StartedUpstream.httpPorts / fastcgiPorts / h2Ports. libuv (1.45+) accepts
   * one connection per listening socket per event-loop turn, so a burst of connects to one port
   * waits turn after turn in the kernel's accept queue; spread over several ports it is accepted
   * as many at a time. The harness gives each scenario's route one of them. Default 0.
   */
  readonly extraListeners?: number;
  readonly catalogue?: Catalogue;
  readonly routes?: readonly RouteSpec[];
  /** The fault for requests no route matches. Default: healthy. */
  readonly defaultFault?: string;
  readonly defaultParams?: Readonly<Record<string, string | number>>;
  /** The fault for FastCGI requests no route matches (protocol: fastcgi). Default: fcgi-healthy. */
  readonly fastcgiDefaultFault?: string;
  readonly fastcgiDefaultParams?: Readonly<Record<string, string | number>>;
  /** The fault for HTTP/2 requests no route matches (protocol: h2). Default: h2-healthy. */
  readonly h2DefaultFault?: string;
  readonly h2DefaultParams?: Readonly<Record<string, string | number>>;
  readonly mix?: readonly MixSpec[];
  readonly seed?: number;
  /** Route /<fault-id> to each exchange fault of the catalogue (after explicit routes). Default true. */
  readonly faultPaths?: boolean;
  /** A request header that names the fault to run; false turns the override off. Default x-badgateway-fault. */
  readonly faultHeader?: string | false;
  /** Listener faults to start (fault ids from the catalogue), each on its own port. Default: every one the catalogue has. */
  readonly listenerFaults?: readonly string[];
  /** Fixed ports for listener faults, by fault id (default: a free port each). */
  readonly listenerFaultPorts?: Readonly<Record<string, number>>;
  /**
   * Where a unix-socket listener fault (`socket: unix`, e.g. fcgi-pool-full) listens, by fault id.
   * Such a fault starts only with a path: the default list leaves out the ones without one.
   */
  readonly listenerFaultPaths?: Readonly<Record<string, string>>;
  readonly events?: EventBus;
  /**
   * Longest a peer may take to send the request head the upstream routes on, in ms: counted from
   * accept for a connection's first request, from the head's first byte for later ones (an idle
   * kept-alive connection is not a slow head). Past it the peer gets a 408 (none if it sent
   * nothing at all) and the connection closes, with a `guard` event. Never applies while a fault's script runs, even to its own
   * `read: head`. Default 30000; from 1 to 2147483647.
   */
  readonly headTimeoutMs?: number;
  /**
   * Largest request head in bytes, request line and blank line included; a larger one gets a 431
   * and a `guard` event. A fault's own `read: head` keeps to it too (it bounds memory). Default
   * 65536; from 64 to 1048576.
   */
  readonly maxHeadBytes?: number;
  /**
   * Most connections the HTTP and unix listeners hold at once; beyond it a new connection is closed
   * at accept, with a `guard` event. Default: the process's descriptor limit minus a reserve (see
   * defaultMaxConnections), so the control API and the DNS responder still answer when the HTTP
   * side is full; at most the descriptor limit.
   */
  readonly maxConnections?: number;
  /** Told of every guard event, whether or not `events` has subscribers (subscribing to it costs every request an event). */
  readonly onGuard?: (e: GuardEvent) => void;
}

export type GuardEvent = Extract<UpstreamEvent, { type: 'guard' }>;

/** The guards a listener applies, resolved from UpstreamOptions. */
export interface ListenerGuards {
  readonly headTimeoutMs: number;
  readonly maxHeadBytes: number;
  readonly maxConnections: number;
}

export const DEFAULT_HEAD_TIMEOUT_MS = 30_000;
/** Node's timers hold at most this; the guard itself needs none that long, but one bound for every duration is easier to document. */
const MAX_TIMER_MS = 2_147_483_647;
const MIN_HEAD_BYTES = 64;
const MAX_HEAD_BYTES = 1024 * 1024;

export interface ListenerInfo {
  /** `http`, `unix`, `fastcgi`, `fastcgi-unix`, or the id of the listener fault it plays. */
  readonly name: string;
  /** What it speaks, when not HTTP/1. */
  readonly protocol?: 'fastcgi' | 'h2';
  readonly kind: 'tcp' | 'unix';
  /** Speaks TLS: the healthy TLS listener (`tls`) or a TLS listener fault; its url is https://. */
  readonly tls?: boolean;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly fault?: string;
  readonly url?: string;
}

export interface RouterSpec {
  readonly routes: readonly RouteSpec[];
  readonly defaultFault: string;
  readonly defaultParams?: Readonly<Record<string, string | number>>;
  readonly mix?: readonly MixSpec[];
  readonly seed?: number;
  /** The fault for FastCGI requests no route matches (a fault with `protocol: fastcgi`). Default: fcgi-healthy. */
  readonly fastcgiDefaultFault?: string;
  readonly fastcgiDefaultParams?: Readonly<Record<string, string | number>>;
  /** The fault for HTTP/2 requests no route matches (a fault with `protocol: h2`). Default: h2-healthy. */
  readonly h2DefaultFault?: string;
  readonly h2DefaultParams?: Readonly<Record<string, string | number>>;
}

export interface StartedUpstream extends AsyncDisposable {
  readonly listeners: readonly ListenerInfo[];
  readonly http: { readonly host: string; readonly port: number; readonly url: string };
  /** Every HTTP TCP port, http.port first, then the extraListeners ones. */
  readonly httpPorts: readonly number[];
  /** Every FastCGI TCP port (empty without fastcgiPort), the first one first. */
  readonly fastcgiPorts: readonly number[];
  /** Every HTTP/2 cleartext port (empty without h2Port), the first one first. */
  readonly h2Ports: readonly number[];
  readonly events: EventBus;
  readonly catalogue: Catalogue;
  /** The routing table as given (ids, not compiled scripts). */
  readonly routing: RouterSpec;
  /** Replace the routing table; throws InputError (and changes nothing) when a fault id or param is wrong. */
  setRouting(spec: RouterSpec): void;
  /** Open connections right now. */
  readonly openConnections: number;
  /** The limits the HTTP and unix listeners apply (defaults filled in). */
  readonly guards: ListenerGuards;
  close(): Promise<void>;
}

/** Bounds of the upstream's cache of compiled faults (see compile in startUpstream). */
const CACHE_MAX_ENTRIES = 512;
const CACHE_MAX_BYTES = 16 * 1024 * 1024;
/** Most records before a FastCGI request's PARAMS end: nginx sends a few (BEGIN_REQUEST, one or two PARAMS, the empty one). */
const FCGI_MAX_START_RECORDS = 1024;

/** A request named a fault with params it cannot run with; `why` names them and their limit. */
class ParamsRejected extends Error {
  constructor(
    readonly fault: string,
    readonly why: string,
  ) {
    super(why);
  }
}

function rejectedResponse(why: string): Buffer {
  const body = Buffer.from(`badgateway: BG_INVALID_FAULT: ${why}. Parameters come from the request's query string; \`badgateway faults <id>\` lists a fault's parameters.\n`, 'utf8');
  const head = `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\nX-Badgateway-Error: BG_INVALID_FAULT\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
const REQUEST_TIMEOUT = Buffer.from('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
const HEAD_TOO_BIG = Buffer.from('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
/** How long a connection a guard answered may drain what its peer still sends before it is destroyed. */
const LINGER_MS = 2000;
/** At most one connection-cap event per this long while the cap refuses connections. */
const CAP_EVENT_EVERY_MS = 1000;

/** UpstreamOptions' guard settings checked and defaulted; a value out of range is an InputError that says what to give. */
export function resolveGuards(opts: Pick<UpstreamOptions, 'headTimeoutMs' | 'maxHeadBytes' | 'maxConnections'>): ListenerGuards {
  const whole = (name: string, value: number | undefined, min: number, max: number, fallback: number, hint: string) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InputError('BG_BAD_OPTION', `${name} ${String(value)}: give a whole number from ${min} to ${max}${hint}.`);
    }
    return value;
  };
  const limit = descriptorLimit();
  return {
    headTimeoutMs: whole('headTimeoutMs', opts.headTimeoutMs, 1, MAX_TIMER_MS, DEFAULT_HEAD_TIMEOUT_MS, ' (ms; default 30000)'),
    maxHeadBytes: whole('maxHeadBytes', opts.maxHeadBytes, MIN_HEAD_BYTES, MAX_HEAD_BYTES, DEFAULT_MAX_HEAD_BYTES, ' (bytes; default 65536)'),
    maxConnections: whole(
      'maxConnections',
      opts.maxConnections,
      1,
      limit,
      defaultMaxConnections(limit),
      `: this process may open at most ${limit} descriptors (ulimit -n), and the default, ${defaultMaxConnections(limit)}, keeps some for the control API and DNS; raise the limit for more`,
    ),
  };
}

export async function startUpstream(opts: UpstreamOptions = {}): Promise<StartedUpstream> {
  const host = opts.host ?? '127.0.0.1';
  const catalogue = opts.catalogue ?? new Catalogue();
  const events = opts.events ?? new EventBus();
  const guards = resolveGuards(opts);
  const lifetime = new AbortController();
  const conns = new Set<Conn>();
  const servers: Server[] = [];
  const listenerFaults: Array<ListenerFaultHandle | UnixListenerFaultHandle | TlsListenerHandle> = [];
  const listeners: ListenerInfo[] = [];
  const faultPaths = opts.faultPaths ?? true;

  // Compiled scripts are cached by id and params: the override header and query params compile
  // on demand. Params come from any request's query string, so the cache is bounded in entries
  // and in the bytes its scripts hold (a repeat holds its pattern, not its bytes); the oldest go first.
  const compiled = new Map<string, { fault: CompiledFault; held: number }>();
  let cachedBytes = 0;
  const compile = (id: string, params: Readonly<Record<string, string | number>> = {}): CompiledFault => {
    const key = Object.keys(params).length === 0 ? id : `${id}?${JSON.stringify(params)}`;
    const hit = compiled.get(key);
    if (hit) return hit.fault;
    const fault = catalogue.compile(id, params);
    const held = stepsHeld(fault.steps);
    // One script larger than the whole budget runs uncached: it is compiled again per request.
    if (held > CACHE_MAX_BYTES) return fault;
    while (compiled.size > 0 && (compiled.size >= CACHE_MAX_ENTRIES || cachedBytes + held > CACHE_MAX_BYTES)) {
      const [oldest, entry] = compiled.entries().next().value!;
      compiled.delete(oldest);
      cachedBytes -= entry.held;
    }
    compiled.set(key, { fault, held });
    cachedBytes += held;
    return fault;
  };
  /**
   * A fault named at request time (header or /<id> path), with declared params taken from the
   * query string. Params it cannot run with (out of range, not a number) throw ParamsRejected:
   * the request gets a 400 that names them, never the fault with other values than asked.
   */
  const byName = (id: string, head: RequestHead, protocol: FaultProtocol = 'http'): CompiledFault | undefined => {
    if (!catalogue.has(id)) return undefined;
    const def = catalogue.get(id);
    if (def.layer !== 'exchange' || (def.protocol ?? 'http') !== protocol) return undefined;
    const params = queryParams(head, def.params);
    try {
      return compile(id, params);
    } catch (err) {
      if (err instanceof InputError && err.code === 'BG_INVALID_FAULT') throw new ParamsRejected(id, err.message);
      throw err;
    }
  };

  let routing: RouterSpec = {
    routes: opts.routes ?? [],
    defaultFault: opts.defaultFault ?? 'healthy',
    defaultParams: opts.defaultParams,
    mix: opts.mix,
    seed: opts.seed,
    ...(opts.fastcgiDefaultFault === undefined ? {} : { fastcgiDefaultFault: opts.fastcgiDefaultFault, fastcgiDefaultParams: opts.fastcgiDefaultParams }),
    ...(opts.h2DefaultFault === undefined ? {} : { h2DefaultFault: opts.h2DefaultFault, h2DefaultParams: opts.h2DefaultParams }),
  };
  const speaks = (f: CompiledFault): FaultProtocol => f.def.protocol ?? 'http';
  /** A route or mix entry applies to the listeners that speak its fault's protocol; each protocol has its own default. */
  const buildRouter = (spec: RouterSpec, protocol: FaultProtocol = 'http', overTls = false) => {
    const routes: Route[] = spec.routes.filter((r) => overTls || !r.tls).map((r) => {
      if (r.tls && r.protocol === 'fastcgi') throw new InputError('BG_WRONG_PROTOCOL', `the route ${r.pathPrefix ?? r.header?.name ?? ''} says tls and protocol fastcgi; badgateway serves FastCGI without TLS.`);
      const fault = compile(r.fault, r.params);
      if (r.protocol !== undefined && speaks(fault) !== r.protocol) {
        throw new InputError('BG_WRONG_PROTOCOL', `the route ${r.pathPrefix ?? r.header?.name ?? ''} says protocol ${r.protocol}, but its fault ${r.fault} speaks ${speaks(fault)}; drop protocol: or give a fault that speaks ${r.protocol} (the FastCGI ones are named fcgi-*, the HTTP/2 ones h2-* and grpc-*).`);
      }
      return { pathPrefix: r.pathPrefix, header: r.header, fault };
    });
    const mix: MixEntry[] | undefined = spec.mix?.map((m) => {
      if (!(m.weight >= 0)) throw new InputError('BG_INVALID_MIX', `mix weight for ${m.fault} must be a number >= 0, got ${m.weight}`);
      return { fault: compile(m.fault, m.params), weight: m.weight };
    });
    const fastcgi = protocol === 'fastcgi';
    const defaultFault =
      protocol === 'fastcgi'
        ? compile(spec.fastcgiDefaultFault ?? 'fcgi-healthy', spec.fastcgiDefaultParams)
        : protocol === 'h2'
          ? compile(spec.h2DefaultFault ?? 'h2-healthy', spec.h2DefaultParams)
          : compile(spec.defaultFault, spec.defaultParams);
    if (speaks(defaultFault) !== protocol) {
      throw new InputError(
        'BG_WRONG_PROTOCOL',
        fastcgi
          ? `the FastCGI default fault ${defaultFault.def.id} speaks ${speaks(defaultFault) === 'h2' ? 'HTTP/2' : 'HTTP'}; give a fault with protocol: fastcgi (the built-in ones are named fcgi-*).`
          : protocol === 'h2'
            ? `the HTTP/2 default fault ${defaultFault.def.id} does not speak HTTP/2; give a fault with protocol: h2 (the built-in ones are named h2-* and grpc-*).`
            : `the default fault ${defaultFault.def.id} speaks ${speaks(defaultFault) === 'h2' ? 'HTTP/2' : 'FastCGI'}; the default serves the HTTP/1 listeners, so give an HTTP fault (FastCGI and HTTP/2 listeners have their own defaults, fastcgiDefaultFault and h2DefaultFault).`,
      );
    }
    const own = <T extends { fault: CompiledFault }>(xs: readonly T[] | undefined) => xs?.filter((x) => speaks(x.fault) === protocol);
    return { routes: own(routes)!, defaultFault, mix: own(mix), seed: spec.seed };
  };
  const router = new Router(buildRouter(routing), byName, opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault'));
  const servesFastcgi = opts.fastcgiPort !== undefined || opts.fastcgiUnixPath !== undefined;
  const fcgiByName = (id: string, head: RequestHead) => byName(id, head, 'fastcgi');
  const tlsRouter = opts.tlsPort === undefined ? undefined : new Router(buildRouter(routing, 'http', true), byName, opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault'));
  const fcgiRouter = servesFastcgi ? new Router(buildRouter(routing, 'fastcgi'), fcgiByName, opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault')) : undefined;
  const h2ByName = (id: string, head: RequestHead) => byName(id, head, 'h2');
  const h2Router = opts.h2Port !== undefined ? new Router(buildRouter(routing, 'h2'), h2ByName, opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault')) : undefined;
  const h2TlsRouter = opts.h2TlsPort !== undefined ? new Router(buildRouter(routing, 'h2', true), h2ByName, opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault')) : undefined;

  const guard = (e: GuardEvent) => {
    opts.onGuard?.(e);
    if (events.active) events.emit(e);
  };
  /**
   * A guard's answer, then FIN; what the peer still sends is drained for a while, since closing
   * with unread bytes would turn the FIN into an RST that can discard the answer before it is read.
   */
  const answerAndLinger = (conn: Conn, answer: Buffer) => {
    conn.write(answer);
    conn.halfClose();
    const timer = setTimeout(() => conn.destroy(), LINGER_MS);
    void conn.untilGone().then(() => {
      clearTimeout(timer);
      conn.destroy();
    });
  };

  /** `fixed`: the fault every request gets, unrouted (a TLS listener fault serves healthy after its handshake). */
  const serve = async (conn: Conn, listener: string, fixed?: CompiledFault) => {
    const overrideHeader = opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault');
    let faultId: string | undefined;
    try {
      for (;;) {
        let head: RequestHead | undefined;
        try {
          // Keep-alive fast path: a head already buffered is parsed without a promise.
          head = conn.tryHead() ?? (await conn.readHead(true));
        } catch (err) {
          conn.headSince = -1;
          if (err instanceof HeadGuardError || err instanceof HeadTooBigError) {
            const timeout = err instanceof HeadGuardError;
            guard({ type: 'guard', guard: timeout ? 'head-timeout' : 'head-too-big', conn: conn.id, listener, limit: timeout ? guards.headTimeoutMs : guards.maxHeadBytes });
            // A connection that sent nothing at all is closed without a word: to a gateway that
            // opened it ahead of need, that is an idle upstream connection closing, not a 408 it never asked for.
            if (timeout && conn.buffered === 0) conn.close();
            else answerAndLinger(conn, timeout ? REQUEST_TIMEOUT : HEAD_TOO_BIG);
            return;
          }
          if (!isPeerError(err)) throw err;
          if ((err as { code?: string }).code === 'BG_BAD_REQUEST') {
            conn.write(BAD_REQUEST);
            conn.close();
          } else conn.destroy();
          return;
        }
        if (head === undefined) {
          conn.destroy();
          return;
        }
        faultId = undefined;
        // A fault named by id that cannot run by name gets a 404, not the default fault: a 200
        // would read as "the fault did nothing". The header is always an explicit request.
        const inHeader = overrideHeader === undefined ? undefined : headerValue(head, overrideHeader);
        if (inHeader !== undefined && !runsByName(inHeader)) return await answerUnknown(conn, inHeader, 'header');
        let sel: Selection;
        try {
          sel = fixed ? { fault: fixed, via: 'default' } : (listener === 'tls' ? tlsRouter! : router).select(head);
          if (sel.via === 'default' && faultPaths && !fixed) {
            const id = firstSegment(head.path);
            const named = id === undefined ? undefined : byName(id, head);
            if (named) sel = { fault: named, via: 'route' };
            // A path only when it reads as a fault id (see namesAFault): other paths keep the default.
            else if (id !== undefined && namesAFault(id, catalogue.ids())) return await answerUnknown(conn, id, 'path');
          }
        } catch (err) {
          if (err instanceof ParamsRejected) return await answerRejected(conn, err);
          throw err;
        }
        faultId = sel.fault.def.id;
        const fault = faultId;
        if (events.active) events.emit({ type: 'request', conn: conn.id, method: head.method, target: head.target, fault, via: sel.via });
        const onStep = events.active ? (s: { index: number; op: string }) => events.emit({ type: 'step', conn: conn.id, fault, ...s }) : undefined;
        const ran = runScript(conn, sel.fault.steps, onStep);
        const end = typeof ran === 'string' ? ran : await ran;
        if (end === 'closed') return;
        if (conn.socket.writableEnded) {
          // The script half-closed: wait for the peer to finish, then let go.
          await conn.untilGone();
          conn.destroy();
          return;
        }
        if (!wantsKeepAlive(conn.current ?? head)) {
          // The client asked for close (or spoke HTTP/1.0): RFC 9112 section 9.6 has the server close after answering.
          conn.close();
          return;
        }
      }
    } catch (err) {
      if (isPeerError(err)) {
        conn.destroy();
        return;
      }
      // A bug, not a peer that left: the gateway sees a reset, as from a backend that crashed, and
      // the upstream keeps serving everyone else.
      if (events.active) events.emit({ type: 'error', conn: conn.id, fault: faultId, message: (err as Error)?.message ?? String(err) });
      reportBugOnce(err, faultId === undefined ? 'the chaos upstream' : `fault ${faultId}`);
      try {
        conn.socket.resetAndDestroy();
      } catch {
        conn.destroy(); // a unix socket: no RST to send
      }
    }
  };
  /** Whether `id` names a fault that a request can run: an exchange fault of the catalogue. */
  const runsByName = (id: string) => {
    const def = catalogue.has(id) ? catalogue.get(id) : undefined;
    return def?.layer === 'exchange' && (def.protocol ?? 'http') === 'http';
  };
  /** The rest of the request is read first, so the close after the 404 is a FIN the client sees after the answer, not a reset. */
  const answerUnknown = async (conn: Conn, id: string, via: UnknownVia) => {
    if (events.active) events.emit({ type: 'unknown-fault', conn: conn.id, id: shortId(id), via });
    await conn.readBody();
    const def = catalogue.has(id) ? catalogue.get(id) : undefined;
    conn.write(unknownFaultResponse(id, via, def, catalogue.ids()));
    conn.close();
  };

  /** Like answerUnknown: the request is read to its end, then a 400 that says which param is wrong and why, then a FIN. */
  const answerRejected = async (conn: Conn, err: ParamsRejected) => {
    if (events.active) events.emit({ type: 'rejected', conn: conn.id, fault: err.fault, why: err.why });
    await conn.readBody();
    conn.write(rejectedResponse(err.why));
    conn.close();
  };

  // The connection cap's event: the first refusal is told at once, later ones counted and told at most once a second.
  let capRefused = 0;
  let capToldAt = -Infinity;
  let capTimer: NodeJS.Timeout | undefined;
  const tellCap = (listener: string) => {
    capTimer = undefined;
    if (capRefused === 0) return;
    capToldAt = performance.now();
    guard({ type: 'guard', guard: 'connection-cap', listener, limit: guards.maxConnections, refused: capRefused });
    capRefused = 0;
  };
  const refuseAtCap = (socket: Socket, listener: string) => {
    socket.on('error', () => {});
    socket.destroy();
    capRefused++;
    const since = performance.now() - capToldAt;
    if (since >= CAP_EVENT_EVERY_MS) tellCap(listener);
    else capTimer ??= setTimeout(() => tellCap(listener), CAP_EVENT_EVERY_MS - since);
  };

  // One sweep over the connections instead of a timer per head: most heads arrive whole in one
  // packet, and a timer armed and cleared per request would cost the keep-alive path.
  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const c of conns) if (c.headSince > 0 && now - c.headSince >= guards.headTimeoutMs) c.failHead(new HeadGuardError('request head timed out'));
    },
    Math.min(1000, Math.max(10, Math.floor(guards.headTimeoutMs / 4))),
  );
  sweeper.unref();

  const fcgiContext: FcgiServeContext | undefined =
    fcgiRouter === undefined
      ? undefined
      : {
          router: fcgiRouter,
          byName: fcgiByName,
          rejected: (err) => (err instanceof ParamsRejected ? { fault: err.fault, why: err.why } : undefined),
          faultDef: (id) => (catalogue.has(id) ? catalogue.get(id) : undefined),
          ids: () => catalogue.ids(),
          events,
          guard,
          maxParamsBytes: guards.maxHeadBytes,
          headTimeoutMs: guards.headTimeoutMs,
          faultPaths,
          overrideHeader: opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault'),
          linger: (conn) => answerAndLinger(conn, Buffer.alloc(0)),
          bug: (conn, fault, err) => {
            if (events.active) events.emit({ type: 'error', conn: conn.id, fault, message: (err as Error)?.message ?? String(err) });
            reportBugOnce(err, fault === undefined ? 'the chaos upstream (FastCGI)' : `fault ${fault}`);
            try {
              conn.socket.resetAndDestroy();
            } catch {
              conn.destroy(); // a unix socket: no RST to send
            }
          },
        };

  const h2ContextFor = (h2router: Router | undefined): H2ServeContext | undefined =>
    h2router === undefined
      ? undefined
      : {
          router: h2router,
          byName: h2ByName,
          rejected: (err) => (err instanceof ParamsRejected ? { fault: err.fault, why: err.why } : undefined),
          faultDef: (id) => (catalogue.has(id) ? catalogue.get(id) : undefined),
          ids: () => catalogue.ids(),
          events,
          guard,
          headTimeoutMs: guards.headTimeoutMs,
          faultPaths,
          overrideHeader: opts.faultHeader === false ? undefined : (opts.faultHeader ?? 'x-badgateway-fault'),
          linger: (conn) => answerAndLinger(conn, Buffer.alloc(0)),
          bug: (conn, fault, err) => {
            if (events.active) events.emit({ type: 'error', conn: conn.id, fault, message: (err as Error)?.message ?? String(err) });
            reportBugOnce(err, fault === undefined ? 'the chaos upstream (HTTP/2)' : `fault ${fault}`);
            void conn.reset().catch(() => conn.destroy());
          },
        };
  const h2Context = h2ContextFor(h2Router);
  const h2TlsContext = h2ContextFor(h2TlsRouter);

  const onConnection = (listenerName: string, speaks: FaultProtocol = 'http', fixed?: CompiledFault) => (socket: Socket, tls?: TlsConn) => {
    if (lifetime.signal.aborted) {
      // Accepted while stopping: close() has already walked the tracked sockets.
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    if (conns.size >= guards.maxConnections) return refuseAtCap(socket, listenerName);
    // PARAMS are the FastCGI request head: the same size bound, and a record count bound besides.
    const conn =
      speaks === 'fastcgi'
        ? new FcgiConn(socket, { maxParamsBytes: guards.maxHeadBytes, maxStartRecords: FCGI_MAX_START_RECORDS })
        : speaks === 'h2'
          ? new H2Conn(socket, { maxHeadBytes: guards.maxHeadBytes, ...(tls ? { reset: tls.reset } : {}) })
          : new Conn(socket, { maxHeadBytes: guards.maxHeadBytes, ...(tls ? { reset: tls.reset } : {}) });
    conn.headSince = performance.now();
    conns.add(conn);
    socket.once('close', () => {
      conns.delete(conn);
      if (events.active) events.emit({ type: 'close', conn: conn.id, requests: conn.requests });
    });
    socket.setNoDelay(true);
    if (events.active) events.emit({ type: 'connection', conn: conn.id, listener: listenerName, remote: `${socket.remoteAddress ?? 'unix'}:${socket.remotePort ?? ''}` });
    if (conn instanceof FcgiConn) void serveFastcgi(conn, listenerName, fcgiContext!);
    else if (conn instanceof H2Conn) void serveH2(conn, listenerName, listenerName === 'h2-tls' ? h2TlsContext! : h2Context!);
    else void serve(conn, listenerName, fixed);
  };

  const close = async () => {
    if (lifetime.signal.aborted) return;
    lifetime.abort();
    clearInterval(sweeper);
    clearTimeout(capTimer);
    await Promise.all([
      ...servers.map((s) => closeServer(s)),
      ...listenerFaults.map((l) => l.close()),
      (async () => {
        for (const c of conns) c.socket.destroy();
      })(),
    ]);
  };
  // Once listening, an accept error (the descriptor table full, ENOBUFS) reaches the server's
  // 'error' event: without a listener it would crash the process; the listener keeps listening.
  const keepListening = (server: Server) => server.on('error', () => {});
  const extra = opts.extraListeners ?? 0;
  const httpPorts: number[] = [];
  const fastcgiPorts: number[] = [];
  const h2Ports: number[] = [];

  try {
  if (!Number.isInteger(extra) || extra < 0 || extra > 1024) throw new InputError('BG_BAD_OPTION', `extraListeners must be a whole number from 0 to 1024, not ${extra}: the HTTP (and FastCGI and HTTP/2) ports to listen on besides the first.`);
    // A TCP listener on firstPort and `extra` more on free ports, all with the same routing.
    const tcpListeners = async (name: 'http' | 'fastcgi' | 'h2', firstPort: number, scheme: string, what: string, ports: number[]) => {
      for (let i = 0; i <= extra; i++) {
        const server = createServer({ allowHalfOpen: true, noDelay: true }, name === 'http' ? onConnection('http') : onConnection(name, name));
        servers.push(server);
        await listen(server, { host, port: i === 0 ? firstPort : 0 }, what);
        keepListening(server);
        const p = (server.address() as { port: number }).port;
        listeners.push({ name, ...(name === 'http' ? {} : { protocol: name }), kind: 'tcp', host, port: p, url: `${scheme}://${fmtHost(host)}:${p}` });
        ports.push(p);
      }
    };
    await tcpListeners('http', opts.port ?? 0, 'http', 'the chaos upstream', httpPorts);
    if (opts.unixPath !== undefined) {
      const unix = createServer({ allowHalfOpen: true }, onConnection('unix'));
      servers.push(unix);
      await listen(unix, { path: opts.unixPath }, 'the chaos upstream (unix socket)');
      keepListening(unix);
      listeners.push({ name: 'unix', kind: 'unix', path: opts.unixPath });
    }
    // fcgi:// as Apache's mod_proxy_fcgi spells a FastCGI backend.
    if (opts.fastcgiPort !== undefined) await tcpListeners('fastcgi', opts.fastcgiPort, 'fcgi', 'the chaos upstream (FastCGI)', fastcgiPorts);
    if (opts.fastcgiUnixPath !== undefined) {
      const fcgiUnix = createServer({ allowHalfOpen: true }, onConnection('fastcgi-unix', 'fastcgi'));
      servers.push(fcgiUnix);
      await listen(fcgiUnix, { path: opts.fastcgiUnixPath }, 'the chaos upstream (FastCGI unix socket)');
      keepListening(fcgiUnix);
      listeners.push({ name: 'fastcgi-unix', protocol: 'fastcgi', kind: 'unix', path: opts.fastcgiUnixPath });
    }
    if (opts.tlsPort !== undefined) {
      if (opts.tls === undefined) throw new InputError('BG_BAD_OPTION', 'tlsPort needs tls: { pki } (src/tls/pki.ts createRunPki): the certificates the TLS listener presents.');
      const serveTls = onConnection('tls');
      const h = await startTlsListener({ host, port: opts.tlsPort, pki: opts.tls.pki, handshakeTimeoutMs: guards.headTimeoutMs, what: 'the chaos upstream (TLS)', onSecure: (c) => serveTls(c.tls, c) });
      listenerFaults.push(h);
      listeners.push({ name: 'tls', kind: 'tcp', tls: true, host, port: h.port, url: `https://${fmtHost(host)}:${h.port}` });
    }
    // h2c:// as Apache's mod_proxy_http2 spells a cleartext HTTP/2 backend.
    if (opts.h2Port !== undefined) await tcpListeners('h2', opts.h2Port, 'h2c', 'the chaos upstream (HTTP/2)', h2Ports);
    if (opts.h2TlsPort !== undefined) {
      if (opts.tls === undefined) throw new InputError('BG_BAD_OPTION', 'h2TlsPort needs tls: { pki } (src/tls/pki.ts createRunPki): the certificates the HTTP/2 TLS listener presents.');
      const serveH2Tls = onConnection('h2-tls', 'h2');
      const h = await startTlsListener({ host, port: opts.h2TlsPort, pki: opts.tls.pki, alpn: ['h2'], handshakeTimeoutMs: guards.headTimeoutMs, what: 'the chaos upstream (HTTP/2 over TLS)', onSecure: (c) => serveH2Tls(c.tls, c) });
      listenerFaults.push(h);
      listeners.push({ name: 'h2-tls', protocol: 'h2', kind: 'tcp', tls: true, host, port: h.port, url: `https://${fmtHost(host)}:${h.port}` });
    }
    const paths = opts.listenerFaultPaths ?? {};
    const startable = (f: FaultDef) => f.layer === 'listener' && (f.socket === 'unix' ? Object.hasOwn(paths, f.id) : f.listener !== 'tls' || opts.tls !== undefined);
    for (const fault of opts.listenerFaults ?? catalogue.list().filter(startable).map((f) => f.id)) {
      const def = catalogue.get(fault);
      if (def.layer !== 'listener') throw new InputError('BG_NOT_LISTENER_FAULT', `fault "${fault}" is a ${def.layer} fault, not a listener fault; listener faults: ${listenerFaultIds(catalogue).join(', ')}`);
      if (def.listener === 'tls') {
        if (opts.tls === undefined) throw new InputError('BG_BAD_OPTION', `listener fault "${fault}" speaks TLS: give the upstream its certificates (tls: { pki }, from createRunPki).`);
        const spec = def.tls ?? {};
        const healthy = onConnection(fault, 'http', compile('healthy'));
        const h = await startTlsListener({
          host,
          port: opts.listenerFaultPorts?.[fault] ?? 0,
          pki: opts.tls.pki,
          spec,
          handshakeTimeoutMs: guards.headTimeoutMs,
          what: `the ${fault} fault`,
          onConn: (remote) => {
            if (events.active) events.emit({ type: 'listener-fault', listener: fault, fault, remote });
          },
          onSecure: (c) => (spec.cut ? void serveCut(c, spec.cut, guards.maxHeadBytes) : healthy(c.tls, c)),
        });
        listenerFaults.push(h);
        listeners.push({ name: fault, kind: 'tcp', tls: true, host, port: h.port, fault, url: `https://${fmtHost(host)}:${h.port}` });
        continue;
      }
      if (def.socket === 'unix') {
        const path = Object.hasOwn(paths, fault) ? paths[fault] : undefined;
        if (path === undefined) throw new InputError('BG_BAD_OPTION', `listener fault "${fault}" listens on a unix socket: give its path (listenerFaultPaths, or serve's --listener-fault-path ${fault}=PATH).`);
        listenerFaults.push(await startUnixListenerFault(def.listener, path));
        listeners.push({ name: fault, kind: 'unix', path, fault, ...(def.protocol === 'fastcgi' ? { protocol: 'fastcgi' as const } : {}) });
        continue;
      }
      const h = await startListenerFault(def.listener, host, opts.listenerFaultPorts?.[fault] ?? 0, (remote) => {
        if (events.active) events.emit({ type: 'listener-fault', listener: fault, fault, remote });
      });
      listenerFaults.push(h);
      listeners.push({ name: fault, kind: 'tcp', host, port: h.port, fault, url: `http://${fmtHost(host)}:${h.port}` });
    }
  } catch (err) {
    await close();
    throw err;
  }

  const httpInfo = listeners[0]!;
  return {
    listeners,
    http: { host, port: httpInfo.port!, url: httpInfo.url! },
    httpPorts,
    fastcgiPorts,
    h2Ports,
    events,
    catalogue,
    get routing() {
      return routing;
    },
    setRouting(spec: RouterSpec) {
      const built = buildRouter(spec);
      const fcgiBuilt = fcgiRouter === undefined ? undefined : buildRouter(spec, 'fastcgi');
      const tlsBuilt = tlsRouter === undefined ? undefined : buildRouter(spec, 'http', true);
      const h2Built = h2Router === undefined ? undefined : buildRouter(spec, 'h2');
      const h2TlsBuilt = h2TlsRouter === undefined ? undefined : buildRouter(spec, 'h2', true);
      router.update(built);
      if (tlsBuilt !== undefined) tlsRouter!.update(tlsBuilt);
      if (fcgiBuilt !== undefined) fcgiRouter!.update(fcgiBuilt);
      if (h2Built !== undefined) h2Router!.update(h2Built);
      if (h2TlsBuilt !== undefined) h2TlsRouter!.update(h2TlsBuilt);
      routing = spec;
    },
    get openConnections() {
      return conns.size;
    },
    guards,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The ids of the catalogue's listener faults (each plays one ListenerBehavior on a port of its own). */
export function listenerFaultIds(catalogue: Catalogue): string[] {
  return catalogue.list().filter((f) => f.layer === 'listener').map((f) => f.id);
}

function firstSegment(path: string): string | undefined {
  const m = /^\/([a-z0-9][a-z0-9-]*)(?:\/|$)/.exec(path);
  return m?.[1];
}

function queryParams(head: RequestHead, declared: Readonly<Record<string, string | number>> | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!declared) return out;
  const q = head.target.indexOf('?');
  if (q === -1) return out;
  for (const [k, v] of new URLSearchParams(head.target.slice(q + 1))) {
    if (!(k in declared)) continue;
    const n = Number(v);
    out[k] = typeof declared[k] === 'number' && Number.isFinite(n) ? n : v;
  }
  return out;
}

function fmtHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
