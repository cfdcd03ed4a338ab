/**
 * The route table the gateway rendering tests share: one route of each kind
 * (by address, unix socket, DNS name, pooled, websocket) behind one listener.
 */
import type { GatewayRoute, LogSink, RenderInput } from '../../src/gateways/gateway.js';

/** By address. */
export const ROUTE_TCP: GatewayRoute = { id: 'a', target: { kind: 'tcp', host: '127.0.0.1', port: 9000 } };
/** Over a unix socket. */
export const ROUTE_UNIX: GatewayRoute = { id: 'b', target: { kind: 'unix', path: '/tmp/run/up.sock' } };
/** By a DNS name that does not resolve, through the resolver. */
export const ROUTE_DNS: GatewayRoute = { id: 'c', target: { kind: 'dns', name: 'nxdomain.badgateway.test', port: 9000 } };
/** By address, with pooled upstream connections. */
export const ROUTE_KEEPALIVE: GatewayRoute = { id: 'd', target: { kind: 'tcp', host: '127.0.0.1', port: 9000 }, keepalive: true };
/** By address, passing WebSocket upgrades. */
export const ROUTE_WEBSOCKET: GatewayRoute = { id: 'e', target: { kind: 'tcp', host: '127.0.0.1', port: 9000 }, websocket: true };

/** Every shared route, in the order a rendered config lists them. */
export const ROUTES: readonly GatewayRoute[] = [ROUTE_TCP, ROUTE_UNIX, ROUTE_DNS, ROUTE_KEEPALIVE, ROUTE_WEBSOCKET];

export type RouteId = 'a' | 'b' | 'c' | 'd' | 'e';

export interface RenderInputOptions {
  /** Shared routes to leave out, by id. */
  readonly drop?: readonly RouteId[];
  /** Routes to put in place of shared ones, by id (each keeps its position). */
  readonly replace?: Partial<Record<RouteId, GatewayRoute>>;
  /** False: no resolver (a gateway that uses the system resolver only). */
  readonly resolver?: false;
  readonly logSink?: LogSink;
}

/**
 * Listen on 127.0.0.1:8080 under /tmp/p, resolver 127.0.0.1:5353, connect 1 s,
 * read 1.5 s, and the shared routes, less what `opts` drops or replaces.
 */
export function renderInput(opts: RenderInputOptions = {}): RenderInput {
  const routes = ROUTES.filter((r) => !opts.drop?.includes(r.id as RouteId)).map((r) => opts.replace?.[r.id as RouteId] ?? r);
  return {
    listen: { host: '127.0.0.1', port: 8080 },
    prefix: '/tmp/p',
    ...(opts.resolver === false ? {} : { resolver: { host: '127.0.0.1', port: 5353 } }),
    ...(opts.logSink ? { logSink: opts.logSink } : {}),
    timeouts: { connectMs: 1000, readMs: 1500, sendMs: 1000, resolverMs: 1000 },
    routes,
  };
}
