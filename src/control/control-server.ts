/**
 * The control API of the chaos upstream: read the fault catalogue and the
 * listeners, change the routing while it runs, and watch its events over a
 * WebSocket. Loopback by default; any other bind needs a bearer token.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { z } from 'zod';
import { BadgatewayError, InputError, type ErrorCode } from '../errors.js';
import type { FaultDef } from '../faults/fault.js';
import { closeServer, listen } from '../upstream/listen.js';
import type { ServedSuite } from './served-suite.js';
import type { RouterSpec, StartedUpstream } from '../upstream/upstream.js';
import { bearerToken, isLiteralHost, isLocalOrigin, isLoopback, TokenCheck } from './auth.js';
import { EventFanout, type EventStreamOptions } from './event-stream.js';
import { faultDetail, faultSummary, type DnsInfo } from './fault-view.js';
import { defaultFaultSchema, MAX_MIX_ENTRIES, MAX_ROUTES, parseBody, routerSpecSchema } from './routing-schema.js';

export interface ControlOptions {
  /** Default 127.0.0.1. Anything but loopback needs `token`. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Bearer token every request must carry. */
  readonly token?: string;
  readonly upstream: StartedUpstream;
  /** The DNS responder, so DNS faults can show the name that plays them. */
  readonly dns?: DnsInfo;
  /** Bounds of the WebSocket event stream (how much may wait for a slow client). */
  readonly events?: EventStreamOptions;
  /** The suite `serve --suite` serves (GET /api/suite): what `run --upstream-control` checks against its own. */
  readonly suite?: ServedSuite;
}

export interface StartedControl extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Larger bodies get 413: a routing table is a few KiB at most. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** How long a WebSocket client gets to answer our close frame before its socket is destroyed. */
const WS_CLOSE_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
const EVENTS_PATH = '/api/events';

/** A failed request: its status and the stable code a client can branch on. */
class HttpError extends BadgatewayError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

type Handler = (req: IncomingMessage, match: RegExpExecArray) => unknown;

interface Endpoint {
  readonly pattern: RegExp;
  readonly methods: Readonly<Partial<Record<'GET' | 'PUT', Handler>>>;
}

export async function startControl(opts: ControlOptions): Promise<StartedControl> {
  const host = opts.host ?? '127.0.0.1';
  const { upstream, dns } = opts;
  if (opts.token === '') {
    throw new InputError('BG_CONTROL_TOKEN_EMPTY', 'the control API token is empty; give a non-empty one (BADGATEWAY_CONTROL_TOKEN, or the first line of --control-token-file FILE), or none on a loopback address');
  }
  if (opts.token === undefined && !isLoopback(host)) {
    throw new InputError(
      'BG_CONTROL_TOKEN_REQUIRED',
      `the control API would listen on ${host} without a token, so anyone who can reach that address could change what the upstream does. ` +
        'Set BADGATEWAY_CONTROL_TOKEN or pass --control-token-file FILE (a token given as --control-token is visible to every local user in ps), or bind the control API to 127.0.0.1.',
    );
  }
  const tokenCheck = opts.token === undefined ? undefined : new TokenCheck(opts.token);

  const endpoints: Endpoint[] = [
    {
      pattern: /^\/api\/faults$/,
      methods: { GET: () => upstream.catalogue.list().map(faultSummary) },
    },
    {
      pattern: /^\/api\/faults\/([^/]+)$/,
      methods: {
        GET: (_req, m) => {
          const id = decodePathSegment(m[1]!);
          let def: FaultDef;
          try {
            def = upstream.catalogue.get(id);
          } catch (err) {
            // The catalogue's message names the closest ids; keep it, only the status changes.
            if (err instanceof InputError) throw new HttpError(404, err.code, err.message);
            throw err;
          }
          return faultDetail(def, { catalogue: upstream.catalogue, listeners: upstream.listeners, dns });
        },
      },
    },
    {
      pattern: /^\/api\/listeners$/,
      methods: { GET: () => ({ listeners: upstream.listeners, dns }) },
    },
    {
      pattern: /^\/api\/routing$/,
      methods: {
        GET: () => upstream.routing,
        PUT: async (req) => {
          const body = await readJson(req);
          checkTableSize(body);
          const spec: RouterSpec = checked(routerSpecSchema, body);
          applyRouting(upstream, spec);
          return upstream.routing;
        },
      },
    },
    {
      pattern: /^\/api\/routing\/default$/,
      methods: {
        PUT: async (req) => {
          const body = checked(defaultFaultSchema, await readJson(req));
          applyRouting(upstream, { ...upstream.routing, defaultFault: body.fault, defaultParams: body.params });
          return upstream.routing;
        },
      },
    },
    {
      pattern: /^\/api\/suite$/,
      methods: {
        GET: () => {
          if (!opts.suite) throw new HttpError(404, 'BG_CONTROL_NOT_FOUND', 'this upstream serves no suite: it was started without --suite (badgateway serve --suite DIR)');
          return { suite: opts.suite };
        },
      },
    },
    {
      pattern: /^\/api\/stats$/,
      methods: { GET: () => ({ openConnections: upstream.openConnections, eventClients: clients.size }) },
    },
    {
      pattern: /^\/api\/events$/,
      methods: {
        GET: () => {
          throw new HttpError(426, 'BG_CONTROL_UPGRADE_REQUIRED', `${EVENTS_PATH} is a WebSocket: connect with ws://<host>:<port>${EVENTS_PATH}`, {
            upgrade: 'websocket',
          });
        },
      },
    },
  ];

  /** Throws the 401/403 for a request that may not talk to us. */
  const admit = (req: IncomingMessage, url: URL, allowQueryToken: boolean) => {
    if (tokenCheck) {
      // Browsers cannot set headers on a WebSocket, so the upgrade may carry the token in the query instead.
      const given = bearerToken(req.headers.authorization) ?? (allowQueryToken ? (url.searchParams.get('token') ?? undefined) : undefined);
      if (!tokenCheck.matches(given)) {
        throw new HttpError(
          401,
          'BG_CONTROL_UNAUTHORIZED',
          given === undefined ? 'this control API needs a token: send Authorization: Bearer <token>' : 'wrong token for this control API',
          { 'www-authenticate': 'Bearer realm="badgateway"' },
        );
      }
      return;
    }
    // Without a token only loopback can connect, but a web page in a local browser still could.
    if (!isLiteralHost(req.headers.host)) {
      throw new HttpError(403, 'BG_CONTROL_BAD_HOST', `Host "${req.headers.host ?? ''}" refused: without a token the control API answers only requests addressed to an IP address or localhost`);
    }
    if (!isLocalOrigin(req.headers.origin)) {
      throw new HttpError(403, 'BG_CONTROL_BAD_ORIGIN', `Origin "${req.headers.origin ?? ''}" refused: without a token the control API answers only pages served from this machine`);
    }
  };

  const route = async (req: IncomingMessage): Promise<unknown> => {
    const url = requestUrl(req);
    admit(req, url, false);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    for (const ep of endpoints) {
      const m = ep.pattern.exec(path);
      if (!m) continue;
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler = method === 'GET' || method === 'PUT' ? ep.methods[method] : undefined;
      if (!handler) {
        const allowed = Object.keys(ep.methods).flatMap((k) => (k === 'GET' ? ['GET', 'HEAD'] : [k]));
        throw new HttpError(405, 'BG_CONTROL_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, {
          allow: allowed.join(', '),
        });
      }
      return handler(req, m);
    }
    throw new HttpError(404, 'BG_CONTROL_NOT_FOUND', `no endpoint ${path}; the control API has ${ENDPOINT_LIST}`);
  };

  const sockets = new Set<Socket>();
  const clients = new Set<WebSocket>();
  const fanout = new EventFanout(upstream.events, opts.events);
  let closing: Promise<void> | undefined;

  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS }, (req, res) => {
    route(req).then(
      (body) => sendJson(res, 200, body),
      (err: unknown) => sendError(res, err),
    );
  });
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  // Clients never need to send us anything, so a small frame limit costs nothing.
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 4096 });
  // The socket already has its error listener from 'connection'; Node keeps it across the upgrade.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      if (closing) throw new HttpError(503, 'BG_CONTROL_CLOSING', 'the control API is shutting down');
      const url = requestUrl(req);
      admit(req, url, true);
      if (url.pathname !== EVENTS_PATH) throw new HttpError(404, 'BG_CONTROL_NOT_FOUND', `no WebSocket at ${url.pathname}; the event stream is ${EVENTS_PATH}`);
    } catch (err) {
      rejectUpgrade(socket, err);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // From here ws owns the socket; close() ends it through ws, gracefully first.
      sockets.delete(socket as Socket);
      clients.add(ws);
      ws.on('error', () => {});
      ws.once('close', () => clients.delete(ws));
      fanout.add(ws, socket);
    });
  });
  // Without a listener Node drops a CONNECT without a word; answer it as any method we do not serve.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    rejectUpgrade(socket, new HttpError(405, 'BG_CONTROL_METHOD_NOT_ALLOWED', `CONNECT is not allowed; the control API has ${ENDPOINT_LIST}`));
  });

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const stopped = closeServer(server);
      for (const s of sockets) s.destroy();
      await Promise.all([...clients].map((ws) => closeClient(ws, WS_CLOSE_TIMEOUT_MS)));
      wss.close();
      await stopped;
    })());

  try {
    await listen(server, { host, port: opts.port ?? 0 }, 'the control API');
  } catch (err) {
    wss.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const ENDPOINT_LIST = [
  'GET /api/faults',
  'GET /api/faults/<id>',
  'GET /api/listeners',
  'GET|PUT /api/routing',
  'PUT /api/routing/default',
  'GET /api/stats',
  'GET /api/suite',
  `WebSocket ${EVENTS_PATH}`,
].join(', ');

/**
 * Every request walks the routes in order and a PUT compiles each entry, so a table of
 * thousands (a 1 MiB body holds ~20,000) would slow every request; refused before the
 * shape is even checked.
 */
function checkTableSize(body: unknown): void {
  if (body === null || typeof body !== 'object') return;
  const { routes, mix } = body as { routes?: unknown; mix?: unknown };
  for (const [name, list, max] of [['routes', routes, MAX_ROUTES], ['mix', mix, MAX_MIX_ENTRIES]] as const) {
    if (Array.isArray(list) && list.length > max) {
      throw new HttpError(400, 'BG_CONTROL_ROUTING_TOO_LARGE', `${name} has ${list.length} entries; the control API takes at most ${max}. A route matches a path prefix or a header, so a few cover any test.`);
    }
  }
}

/** setRouting changes nothing when it throws, so a rejected table leaves the running one in place. */
function applyRouting(upstream: StartedUpstream, spec: RouterSpec): void {
  try {
    upstream.setRouting(spec);
  } catch (err) {
    if (err instanceof InputError) throw new HttpError(400, err.code, err.message);
    throw err;
  }
}

function checked<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = parseBody(schema, body);
  if (!r.ok) throw new HttpError(400, 'BG_CONTROL_BAD_BODY', r.message);
  return r.value;
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://control.invalid');
  } catch {
    throw new HttpError(400, 'BG_CONTROL_BAD_URL', `cannot parse the request target "${req.url ?? ''}"`);
  }
}

function decodePathSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'BG_CONTROL_BAD_URL', `bad percent-encoding in "${s}"`);
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new HttpError(413, 'BG_CONTROL_BODY_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return reject(tooLarge());
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop collecting; the 413 goes out with Connection: close and Node discards the rest.
        req.off('data', onData);
        req.off('end', onEnd);
        parts.length = 0;
        reject(tooLarge());
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      const text = Buffer.concat(parts).toString('utf8');
      if (text.trim() === '') return reject(new HttpError(400, 'BG_CONTROL_BAD_JSON', 'the request body is empty; send a JSON object'));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, 'BG_CONTROL_BAD_JSON', `the request body is not JSON: ${(err as Error).message}`));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

function errorBody(err: unknown): { status: number; headers: Readonly<Record<string, string>>; body: { error: { code: string; message: string } } } {
  if (err instanceof HttpError) return { status: err.status, headers: err.headers, body: { error: { code: err.code, message: err.message } } };
  if (err instanceof InputError) return { status: 400, headers: {}, body: { error: { code: err.code, message: err.message } } };
  const code = err instanceof BadgatewayError ? err.code : 'BG_CONTROL_INTERNAL';
  return { status: 500, headers: {}, body: { error: { code, message: err instanceof Error ? err.message : String(err) } } };
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = errorBody(err);
  sendJson(res, e.status, e.body, e.headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** An upgrade we refuse gets a plain HTTP answer on the raw socket, then the socket goes. */
function rejectUpgrade(socket: Duplex, err: unknown): void {
  const e = errorBody(err);
  const text = JSON.stringify(e.body) + '\n';
  const lines = [
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}`,
    'connection: close',
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    ...Object.entries(e.headers).filter(([k]) => k !== 'connection').map(([k, v]) => `${k}: ${v}`),
  ];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

/** A close frame first, so the client knows why; destroyed if it does not answer in time. */
function closeClient(ws: WebSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const kill = setTimeout(() => ws.terminate(), timeoutMs);
    ws.once('close', () => {
      clearTimeout(kill);
      resolve();
    });
    ws.close(1001, 'badgateway control API is shutting down');
  });
}
