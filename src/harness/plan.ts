/**
 * Plan: what a run through one gateway needs, decided before anything starts. Pure: from an
 * adapter and scenarios to the scenarios that run (and why the others are skipped), the
 * upstream's routes and listener faults, and, once the chaos side has addresses, the gateway's
 * route table and each probe's request.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { DnsAnswer, DnsBehavior } from '../faults/fault.js';
import type { GatewayAdapter, GatewayRoute, RouteTarget, RouteTls } from '../gateways/gateway.js';
import { routePath } from '../gateways/paths.js';
import type { ProbeRequest } from '../probe/http-probe.js';
import type { Scenario } from '../scenarios/scenario.js';
import { isTlsListenerFault } from '../scenarios/tls-key.js';
import type { RunPki } from '../tls/pki.js';
import type { RouteSpec } from '../upstream/upstream.js';
import { probeTag } from './attribute.js';
import { poolListenerFaults, poolRoute } from './upstream-pool.js';

/** Where the gateway reaches a started backend, and over what. */
export interface BackendRoute {
  readonly target: RouteTarget;
  readonly protocol: 'http' | 'fastcgi';
  /** php-fpm: the script file the gateway names as SCRIPT_FILENAME. */
  readonly scriptFilename?: string;
}

export interface PlanContext {
  /** The run uses the user's own config: it has one TCP upstream and no per-scenario routes. */
  readonly userConfig: boolean;
}

export interface RunPlan {
  readonly adapter: GatewayAdapter;
  readonly scenarios: readonly Scenario[];
  readonly skipped: ReadonlyArray<{ readonly scenario: Scenario; readonly why: string }>;
  /** Exchange faults, routed by the upstream's HTTP listener under each scenario's path. */
  readonly upstreamRoutes: readonly RouteSpec[];
  /** Listener faults to start (fault ids), one port each. */
  readonly listenerFaults: readonly string[];
  /** Some scenario reaches the upstream over a unix socket. */
  readonly needsUnix: boolean;
  /** Some scenario needs the DNS responder. */
  readonly needsDns: boolean;
  /** Some FastCGI scenario reaches the upstream's FastCGI TCP listener. */
  readonly needsFastcgi: boolean;
  /** Some FastCGI scenario reaches the upstream's FastCGI unix socket. */
  readonly needsFastcgiUnix: boolean;
  /** Some scenario is a TLS scenario: the run makes its PKI (src/tls/pki.ts). */
  readonly needsTls: boolean;
  /** Some exchange scenario has `tls: true`: the upstream's healthy TLS listener. */
  readonly needsTlsPort: boolean;
  /** Some HTTP/2 or gRPC scenario reaches the upstream's h2c listener. */
  readonly needsH2: boolean;
  /** Some HTTP/2 or gRPC scenario has `tls: true`: the upstream's HTTP/2 TLS listener (ALPN h2). */
  readonly needsH2TlsPort: boolean;
  /** Scenarios of process-layer faults: each gets a supervised backend of its own (src/process/). */
  readonly processScenarios: readonly Scenario[];
  /** TCP ports the shared HTTP (and FastCGI) listener spreads its routes over (see sharedListeners). */
  readonly sharedListeners: number;
}

/** Where the chaos side listens, once started: all the plan needs to route the gateway. */
export interface ChaosAddresses {
  readonly host: string;
  readonly httpPort: number;
  /** Every port of the shared HTTP listener (httpPort first): routes are dealt out over them. */
  readonly httpPorts?: readonly number[];
  /** Every port of the FastCGI TCP listener (fastcgiPort first). */
  readonly fastcgiPorts?: readonly number[];
  readonly unixPath?: string;
  /** Port of each listener fault, by fault id. */
  readonly listenerPorts: ReadonlyMap<string, number>;
  /** Path of each unix-socket listener fault (`socket: unix`), by fault id. */
  readonly listenerPaths?: ReadonlyMap<string, string>;
  /** The full DNS name for a label under the responder's zone. */
  readonly dnsName?: (label: string) => string;
  /** HTTP port of an upstream of its own, by scenario id: keepalive routes of a gateway that shares pools by address (see ownUpstreams). */
  readonly ownHttpPorts?: ReadonlyMap<string, number>;
  /** HTTP port of each exchange member of a pool scenario, by poolKey (src/harness/upstream-pool.ts). */
  readonly poolPorts?: ReadonlyMap<string, number>;
  /** The upstream's FastCGI TCP listener, when the plan needs it. */
  readonly fastcgiPort?: number;
  /** The upstream's FastCGI unix socket, when the plan needs it. */
  readonly fastcgiUnixPath?: string;
  /** Where each backend scenario's real server answers, by scenario id. */
  readonly backends?: ReadonlyMap<string, BackendRoute>;
  /** The upstream's healthy TLS listener, when the plan needs it. */
  readonly tlsPort?: number;
  /** The run's PKI, when the plan has TLS scenarios: what a TLS route verifies against and presents. */
  readonly tls?: Pick<RunPki, 'caFile' | 'serverName' | 'clientCertFile' | 'clientKeyFile'>;
  /** The upstream's HTTP/2 listener (h2c, prior knowledge), when the plan needs it. */
  readonly h2Port?: number;
  /** Every port of the HTTP/2 cleartext listener (h2Port first): routes are dealt out over them. */
  readonly h2Ports?: readonly number[];
  /** The upstream's HTTP/2 TLS listener (ALPN h2), when the plan needs it. */
  readonly h2TlsPort?: number;
  /** Port of each process scenario's supervised backend, by scenario id. */
  readonly processPorts?: ReadonlyMap<string, number>;
}

/** A TLS scenario: its exchange fault is served over TLS (`tls: true`), or its fault is a TLS listener (the tls-* faults). */
export function isTls(s: Scenario): boolean {
  return s.tls === true || isTlsListenerFault(s.faultDef);
}

/** How the gateway speaks TLS to a TLS scenario's upstream: verification as the scenario says, a client certificate when its fault asks for one. */
export function routeTls(s: Scenario, pki: NonNullable<ChaosAddresses['tls']>): RouteTls {
  const def = s.faultDef;
  const wantsClientCert = def.layer === 'listener' && def.tls?.clientCert !== undefined;
  return {
    verify: s.tlsVerify ?? 'default',
    caFile: pki.caFile,
    serverName: pki.serverName,
    ...(wantsClientCert ? { clientCert: { certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } } : {}),
  };
}

/** A FastCGI scenario: its fault speaks FastCGI (the fcgi-* faults, fcgi-pool-full's socket, or a php-fpm backend), so the gateway reaches it as its FastCGI client. */
export function isFastcgi(s: Scenario): boolean {
  return (s.faultDef.layer === 'exchange' || s.faultDef.layer === 'listener') && s.faultDef.protocol === 'fastcgi';
}

/** An HTTP/2 scenario: its fault speaks HTTP/2 (h2-*, grpc-*), so the gateway reaches the upstream's h2c listener as an HTTP/2 (or gRPC) client. */
export function isH2(s: Scenario): boolean {
  return s.faultDef.layer === 'exchange' && s.faultDef.protocol === 'h2';
}

/** A gRPC scenario: an HTTP/2 one whose request is a gRPC call (`request.grpc`). */
export function isGrpc(s: Scenario): boolean {
  return isH2(s) && s.request.grpc === true;
}

/**
 * The scenarios that get an upstream of their own: for a gateway that pools idle upstream
 * connections by address across routes (`sharesConnectionPools`, Varnish), each keepalive route
 * over TCP, so the connections one scenario leaves in the pool (a stale one, on purpose) never
 * serve another scenario's request.
 */
export function ownUpstreams(plan: RunPlan): Scenario[] {
  if (!plan.adapter.sharesConnectionPools) return [];
  return plan.scenarios.filter((s) => !s.pool && s.faultDef.layer === 'exchange' && !isFastcgi(s) && !isH2(s) && s.upstream === 'tcp' && s.keepalive);
}

/**
 * Why this adapter cannot run this scenario in this context, or undefined when it can. The one
 * place skip reasons come from: a new capability flag on adapters adds its case here.
 */
export function skipReason(adapter: GatewayAdapter, s: Scenario, ctx: PlanContext): string | undefined {
  if (s.pool) {
    if (ctx.userConfig) return 'a pool needs an address for each of its servers; your config has one upstream';
    if (!adapter.supportsPools) return `${adapter.id} has no upstream pools in badgateway`;
    return undefined;
  }
  const layer = s.faultDef.layer;
  // A gRPC call to a listener fault (connect-refused, ...): isH2 below covers those to HTTP/2 faults.
  if (s.request.grpc && !isH2(s)) {
    if (ctx.userConfig) return 'a gRPC call needs a gRPC route and an HTTP/2 listener; your config has one HTTP upstream';
    if (adapter.supportsGrpc !== true) return `${adapter.id} has no gRPC upstream in badgateway`;
  }
  if (ctx.userConfig && s.backend) return `plays a real ${s.backend.kind} on a route of its own; your config has one upstream`;
  if (isFastcgi(s)) {
    if (ctx.userConfig) return 'a FastCGI fault needs a FastCGI upstream; your config has one HTTP upstream';
    if (adapter.supportsFastcgi !== true) return `${adapter.id} has no FastCGI upstream in badgateway`;
  }
  if (isTls(s)) {
    if (ctx.userConfig) return 'a TLS fault needs a TLS upstream of its own; your config has one plain HTTP upstream';
    if (adapter.supportsTlsUpstream !== true) return `${adapter.id} has no TLS upstream in badgateway`;
  }
  if (isH2(s)) {
    if (ctx.userConfig) return 'an HTTP/2 fault needs an HTTP/2 upstream; your config has one HTTP/1 upstream';
    if (isGrpc(s)) {
      if (adapter.supportsGrpc !== true) return `${adapter.id} has no gRPC upstream in badgateway`;
    } else if (adapter.supportsH2Upstream !== true) return adapter.noH2UpstreamWhy ?? `${adapter.id} has no HTTP/2 upstream in badgateway`;
  }
  if (ctx.userConfig && !(layer === 'exchange' && s.upstream === 'tcp')) {
    // A user's config has one upstream address: only faults served by the upstream's HTTP listener fit.
    return layer === 'exchange' ? `reaches the upstream by ${s.upstream}; your config has one TCP upstream` : `a ${layer} fault needs its own ${layer === 'dns' ? 'DNS name' : 'address'}; your config has one upstream`;
  }
  if (adapter.supportsResolver === false && (layer === 'dns' || (layer === 'exchange' && s.upstream === 'dns'))) {
    return adapter.noResolverWhy ?? `${adapter.id} resolves upstream names with the system resolver only; it cannot use badgateway's DNS responder`;
  }
  if (adapter.supportsUnixUpstream === false && layer === 'exchange' && s.upstream === 'unix') {
    return `${adapter.id} cannot reach an upstream over a unix socket`;
  }
  return undefined;
}

export function planRun(adapter: GatewayAdapter, all: readonly Scenario[], ctx: PlanContext): RunPlan {
  const scenarios: Scenario[] = [];
  const skipped: Array<{ scenario: Scenario; why: string }> = [];
  for (const s of all) {
    const why = skipReason(adapter, s, ctx);
    if (why === undefined) scenarios.push(s);
    else skipped.push({ scenario: s, why });
  }
  // A backend scenario's upstream is its own server, and a pool's members have upstreams of their own
  // (upstream-pool.ts): neither is a route on the shared chaos upstream.
  const exchange = scenarios.filter((s) => !s.pool && !s.backend && s.faultDef.layer === 'exchange');
  const http = exchange.filter((s) => !isFastcgi(s) && !isH2(s));
  const fastcgi = exchange.filter(isFastcgi);
  return {
    adapter,
    scenarios,
    skipped,
    upstreamRoutes: exchange.map((s) => ({
      pathPrefix: routePath(s.id).slice(0, -1),
      fault: s.fault,
      params: s.params,
      ...(isFastcgi(s) ? { protocol: 'fastcgi' as const } : isH2(s) ? { protocol: 'h2' as const } : {}),
      ...(s.tls === true ? { tls: true } : {}),
    })),
    listenerFaults: [...new Set([...scenarios.filter((s) => !s.pool && s.faultDef.layer === 'listener').map((s) => s.fault), ...poolListenerFaults(scenarios)])],
    needsUnix: http.some((s) => s.upstream === 'unix'),
    needsDns: scenarios.some((s) => !s.pool && (s.faultDef.layer === 'dns' || s.upstream === 'dns')),
    needsFastcgi: fastcgi.some((s) => s.upstream === 'tcp'),
    needsFastcgiUnix: fastcgi.some((s) => s.upstream === 'unix'),
    needsTls: scenarios.some(isTls),
    needsTlsPort: exchange.some((s) => s.tls === true && !isH2(s)),
    needsH2: exchange.some((s) => isH2(s) && s.tls !== true),
    needsH2TlsPort: exchange.some((s) => isH2(s) && s.tls === true),
    processScenarios: scenarios.filter((s) => !s.pool && s.faultDef.layer === 'process'),
    sharedListeners: sharedListeners(scenarios),
  };
}

/** Most ports of the shared HTTP (and FastCGI) listener: the default --concurrency, one port per scenario in flight. */
export const MAX_SHARED_LISTENERS = 64;

/**
 * How many ports the shared chaos upstream listens on for HTTP (and FastCGI): one per scenario, up
 * to MAX_SHARED_LISTENERS. libuv 1.45+ (Node 20.20) accepts one connection per listening socket
 * per event-loop turn, and with the whole suite starting at once a turn takes 100-300 ms on a
 * loaded machine: 25-50 connects to one port waited in the kernel's accept queue past nginx's 1 s
 * read timeout (504s at the run's start, measured with bench/accept-queue.mjs). With a port per
 * scenario, each turn accepts one connection for every scenario that has one waiting.
 */
export function sharedListeners(scenarios: readonly Scenario[]): number {
  return Math.max(1, Math.min(MAX_SHARED_LISTENERS, scenarios.length));
}

/** Where each unix-socket listener fault of the plan listens: a socket in `dir` (the run dir, which a container gateway has mounted). */
export function listenerFaultPaths(plan: RunPlan, dir: string): Record<string, string> {
  const unix = plan.scenarios.filter((s) => !s.pool && s.faultDef.layer === 'listener' && s.faultDef.socket === 'unix');
  return Object.fromEntries(unix.map((s) => [s.fault, join(dir, `${s.fault}.sock`)]));
}

/** The gateway's route table: one route per scenario, to the address that plays its fault. */
export function gatewayRoutes(plan: RunPlan, at: ChaosAddresses): GatewayRoute[] {
  // Routes to the shared listeners are dealt out over their ports in turn (sharedListeners).
  let nextHttp = 0;
  let nextFastcgi = 0;
  let nextH2 = 0;
  const httpPort = () => (at.httpPorts?.length ? at.httpPorts[nextHttp++ % at.httpPorts.length]! : at.httpPort);
  const fastcgiPort = () => (at.fastcgiPorts?.length ? at.fastcgiPorts[nextFastcgi++ % at.fastcgiPorts.length]! : at.fastcgiPort!);
  // An HTTP/2 scenario's gateway opens connections of its own (nginx one per gRPC call): spread too.
  const h2Port = () => (at.h2Ports?.length ? at.h2Ports[nextH2++ % at.h2Ports.length]! : at.h2Port!);
  return plan.scenarios.map((s) => {
    const def = s.faultDef;
    // A gRPC call goes through the gateway's gRPC proxying (nginx grpc_pass), whatever plays the upstream.
    const base = { id: s.id, keepalive: s.keepalive, websocket: s.request.websocket, ...(s.request.grpc ? { protocol: 'grpc' as const } : {}) };
    const tcp = (port: number): GatewayRoute => ({ ...base, target: { kind: 'tcp', host: at.host, port } });
    const dns = (label: string): GatewayRoute => ({ ...base, target: { kind: 'dns', name: at.dnsName!(label), port: httpPort() } });
    const backend = at.backends?.get(s.id);
    if (backend) return { ...base, target: backend.target, ...(backend.protocol === 'fastcgi' ? { protocol: 'fastcgi' as const, scriptFilename: backend.scriptFilename } : {}) };
    if (s.pool) return poolRoute(s, base, at.host, at.poolPorts ?? new Map(), at.listenerPorts);
    if (def.layer === 'listener' && def.socket === 'unix') return { ...base, ...(def.protocol === 'fastcgi' ? { protocol: 'fastcgi' as const } : {}), target: { kind: 'unix', path: at.listenerPaths!.get(s.fault)! } };
    // An HTTP/2 fault is served on the h2c listener only, or with tls: true on the HTTP/2 TLS listener (the loader allows upstream: tcp alone).
    if (isH2(s)) {
      const h2 = { ...base, protocol: isGrpc(s) ? ('grpc' as const) : ('h2' as const) };
      if (s.tls === true) return { ...h2, target: { kind: 'tcp', host: at.host, port: at.h2TlsPort! }, tls: routeTls(s, at.tls!) };
      return { ...h2, target: { kind: 'tcp', host: at.host, port: h2Port() } };
    }
    if (isTls(s)) {
      const tls = routeTls(s, at.tls!);
      return { ...tcp(def.layer === 'listener' ? at.listenerPorts.get(s.fault)! : at.tlsPort!), tls };
    }
    if (def.layer === 'listener') return tcp(at.listenerPorts.get(s.fault)!);
    if (def.layer === 'dns') return dns(scenarioDnsLabel(s)!);
    if (isFastcgi(s)) {
      const fcgi = { ...base, protocol: 'fastcgi' as const };
      return s.upstream === 'unix' ? { ...fcgi, target: { kind: 'unix', path: at.fastcgiUnixPath! } } : { ...fcgi, target: { kind: 'tcp', host: at.host, port: fastcgiPort() } };
    }
    if (def.layer === 'process') return tcp(at.processPorts!.get(s.id)!);
    if (s.upstream === 'unix') return { ...base, target: { kind: 'unix', path: at.unixPath! } };
    if (s.upstream === 'dns') return dns('ok');
    return tcp(at.ownHttpPorts?.get(s.id) ?? httpPort());
  });
}

/** A DNS label holds at most 63 bytes (RFC 1035); a longer scenario id is cut and made unique again. */
const MAX_LABEL = 63;

/**
 * The name a DNS-layer scenario's gateway resolves: its own, under the fault's name
 * (`dns-flapping.flapping.badgateway.test`), so each scenario has its own record, its own flap
 * clock and its own entry in the gateway's DNS cache, however many scenarios share the fault.
 * Undefined for a scenario that reaches no DNS fault.
 */
export function scenarioDnsLabel(s: Scenario): string | undefined {
  const def = s.faultDef;
  if (def.layer !== 'dns') return undefined;
  const id = s.id.length <= MAX_LABEL ? s.id : `${s.id.slice(0, MAX_LABEL - 9)}-${createHash('sha256').update(s.id).digest('hex').slice(0, 8)}`;
  return `${id}.${def.name}`;
}

/**
 * What a scenario's name answers from the gateway's start until its first request: a flap's
 * first phase, held. Its clock starts when the harness sets the flap itself, as the scenario's
 * first request goes out, so the phase each request meets does not depend on how long the gateway
 * took to start or how long the scenario waited for a free slot among the others.
 */
export function heldDnsBehavior(b: DnsBehavior): DnsAnswer {
  return b.kind === 'flap' ? b.phases[0]!.answer : b;
}

/** Some scenario is a gRPC call: the gateway needs a listener for h2c clients (RenderInput.h2Listen). */
export function needsH2Listen(plan: RunPlan): boolean {
  return plan.scenarios.some((s) => s.request.grpc === true);
}

/** The request a probe sends for a scenario through the gateway, tagged with the probe's number. */
export function probeRequest(s: Scenario, n: number, gateway: { readonly host: string; readonly port: number }): ProbeRequest {
  const path = s.request.path;
  return {
    host: gateway.host,
    port: gateway.port,
    method: s.request.method,
    target: `${routePath(s.id).slice(0, -1)}${path}${path.includes('?') ? '&' : '?'}${probeTag(n)}`,
    headers: s.request.headers,
    body: s.request.body === undefined ? undefined : Buffer.from(s.request.body, 'latin1'),
    websocket: s.request.websocket,
    ...(s.request.grpc ? { grpc: true } : {}),
    timeoutMs: s.request.timeoutMs,
  };
}
