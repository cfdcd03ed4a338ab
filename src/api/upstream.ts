/**
 * The chaos upstream as a library: `startUpstream()` starts what `badgateway serve` starts (the
 * HTTP listener with every fault at /<fault-id>, the listener faults, the DNS responder, and the
 * control API if asked for) and returns one handle to address, steer, watch and close it.
 */
import { InputError } from '../errors.js';
import type { FaultDef } from '../faults/fault.js';
import type { Catalogue } from '../faults/registry.js';
import { loadCatalogue } from './suite.js';
import { startChaos } from '../harness/chaos.js';
import { EventBus, type Stamped } from '../upstream/events.js';
import type { MixSpec, RouteSpec, RouterSpec } from '../upstream/upstream.js';

import type { RunPki } from '../tls/pki.js';
type Params = Readonly<Record<string, string | number>>;

export interface StartUpstreamOptions {
  /** Address of every listener. Default 127.0.0.1. */
  readonly host?: string;
  /** Port of the HTTP listener. Default 0: a free port. */
  readonly port?: number;
  /** Also serve on this unix socket path. */
  readonly unixPath?: string;
  /** Custom faults to add to the built-in ones (see `defineFault`). */
  readonly faults?: readonly FaultDef[];
  /** Custom fault files (YAML) to load. */
  readonly faultsFiles?: readonly string[];
  /** The fault for requests nothing else routes. Default `healthy`. */
  readonly defaultFault?: string;
  readonly defaultParams?: Params;
  readonly routes?: readonly RouteSpec[];
  /** Weighted random faults for requests no route matches; with `seed` it replays. */
  readonly mix?: readonly MixSpec[];
  readonly seed?: number;
  /** Serve each exchange fault at /<fault-id>. Default true (what `url()` relies on). */
  readonly faultPaths?: boolean;
  /** The request header that picks a fault by id; false turns it off. Default `x-badgateway-fault`. */
  readonly faultHeader?: string | false;
  /** Listener faults to start (ids). Default: all of them (a unix-socket one only when it has a path). */
  readonly listenerFaults?: readonly string[];
  /** Where each unix-socket listener fault listens (e.g. `{ 'fcgi-pool-full': '/tmp/x/full.sock' }`), by fault id. */
  readonly listenerFaultPaths?: Readonly<Record<string, string>>;
  /** The DNS responder for the test zone. Default on, a free port; false turns it off. */
  readonly dns?:
    | boolean
    | {
        readonly port?: number;
        readonly zone?: string;
        /** A TCP connection without a complete query for this long is closed, with a `guard` event. Default 10,000 ms. */
        readonly tcpIdleTimeoutMs?: number;
        /** TCP connections open at once; more are closed at accept, with a `guard` event. Default 256. */
        readonly maxTcpConnections?: number;
      };
  /**
   * The control API (HTTP + WebSocket events). Default off; true for 127.0.0.1 and a free port.
   * `eventBufferBytes` bounds the events sent to one event-stream client and not yet confirmed
   * read (a pong answers a ping sent each quarter of it) before it is closed with code 1008
   * (default 1 MiB).
   */
  readonly control?: boolean | { readonly host?: string; readonly port?: number; readonly token?: string; readonly eventBufferBytes?: number };
  /** Longest a peer may take to send a request head (408 and a `guard` event past it; never during a fault's script). Default 30000 ms. */
  readonly headTimeoutMs?: number;
  /** Largest request head (431 and a `guard` event past it). Default 65536 bytes. */
  readonly maxHeadBytes?: number;
  /** Most connections the HTTP (and unix) listener holds; more are closed at accept, with a `guard` event. Default: the descriptor limit minus a reserve. */
  readonly maxConnections?: number;
  /**
   * TLS: with the certificates of `createRunPki(dir)`, the TLS listener faults (tls-*) start with
   * the others, and with `port` (0: a free one) a TLS listener serves every route as the HTTP one does.
   */
  readonly tls?: { readonly pki: RunPki; readonly port?: number };
}

export interface ListenerAddress {
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

/** The upstream's events as they happen: subscribe, or iterate with `for await`. */
export interface UpstreamEvents extends AsyncIterable<Stamped> {
  /** Calls `fn` for every event until the returned function is called. */
  subscribe(fn: (e: Stamped) => void): () => void;
}

export interface Upstream extends AsyncDisposable {
  /** The HTTP listener. */
  readonly http: ListenerAddress;
  /** The unix socket, when `unixPath` was given. */
  readonly unixPath: string | undefined;
  /** Each listener fault's address, by fault id (e.g. `connect-refused`). */
  readonly listeners: Readonly<Record<string, ListenerAddress>>;
  /** Each unix-socket listener fault's path, by fault id (e.g. `fcgi-pool-full`), when started with one. */
  readonly listenerPaths: Readonly<Record<string, string>>;
  /** The DNS responder, unless turned off. `name('dns-nxdomain')` is the name that plays a DNS fault. */
  readonly dns: { readonly host: string; readonly port: number; readonly zone: string; name(faultOrLabel: string): string } | undefined;
  /** The control API's base URL, when started. */
  readonly controlUrl: string | undefined;
  /**
   * Where a request meets this fault: `http://127.0.0.1:PORT/empty-reply?bytes=10` for an
   * exchange fault (params from the query string), the listener's own URL for a listener fault,
   * and `http://<name>:PORT/` for a DNS fault (the name resolves only through `dns`).
   */
  url(faultId: string, params?: Params): string;
  readonly events: UpstreamEvents;
  /** Every request no route matches now gets this fault. Throws (and changes nothing) on an unknown id or param. */
  setFault(faultId: string, params?: Params): void;
  /** Replace the whole routing table (routes, default, mix). */
  setRouting(spec: RouterSpec): void;
  readonly catalogue: Catalogue;
  close(): Promise<void>;
}

/** Events waiting for a slow `for await` reader, at most: older ones are dropped (the emitter never waits). */
const EVENT_QUEUE_MAX = 10_000;

export async function startUpstream(opts: StartUpstreamOptions = {}): Promise<Upstream> {
  const catalogue = await loadCatalogue(opts);
  const bus = new EventBus();
  const iterators = new Set<() => void>();
  const dnsOpt = opts.dns ?? true;
  const controlOpt = opts.control ?? false;
  const chaos = await startChaos({
    host: opts.host,
    port: opts.port,
    unixPath: opts.unixPath,
    catalogue,
    events: bus,
    routes: opts.routes,
    defaultFault: opts.defaultFault,
    defaultParams: opts.defaultParams,
    mix: opts.mix,
    seed: opts.seed,
    faultPaths: opts.faultPaths,
    faultHeader: opts.faultHeader,
    listenerFaults: opts.listenerFaults,
    listenerFaultPaths: opts.listenerFaultPaths,
    headTimeoutMs: opts.headTimeoutMs,
    maxHeadBytes: opts.maxHeadBytes,
    maxConnections: opts.maxConnections,
    ...(opts.tls ? { tls: { pki: opts.tls.pki }, tlsPort: opts.tls.port } : {}),
    dnsPort: dnsOpt === false ? false : dnsOpt === true ? 0 : (dnsOpt.port ?? 0),
    dnsZone: typeof dnsOpt === 'object' ? dnsOpt.zone : undefined,
    dnsTcpIdleTimeoutMs: typeof dnsOpt === 'object' ? dnsOpt.tcpIdleTimeoutMs : undefined,
    dnsMaxTcpConnections: typeof dnsOpt === 'object' ? dnsOpt.maxTcpConnections : undefined,
    control: controlOpt === false ? false : controlOpt === true ? {} : controlOpt,
  });
  const up = chaos.upstream;
  const listeners: Record<string, ListenerAddress> = {};
  const listenerPaths: Record<string, string> = {};
  for (const l of up.listeners) {
    if (l.fault === undefined) continue;
    if (l.kind === 'unix') listenerPaths[l.fault] = l.path!;
    else listeners[l.fault] = { host: l.host!, port: l.port!, url: l.url! };
  }
  const dns = chaos.dns;
  const dnsLabel = (id: string) => {
    const def = catalogue.has(id) ? catalogue.get(id) : undefined;
    return def?.layer === 'dns' ? def.name : id;
  };

  const close = async () => {
    for (const end of iterators) end();
    await chaos.close();
  };
  return {
    http: { host: up.http.host, port: up.http.port, url: up.http.url },
    unixPath: opts.unixPath,
    listeners,
    listenerPaths,
    dns: dns && { host: dns.host, port: dns.port, zone: dns.zone, name: (id: string) => dns.nameFor(dnsLabel(id)) },
    controlUrl: chaos.control?.url,
    url(faultId, params) {
      const def = catalogue.get(faultId);
      // A unix-socket listener fault as nginx spells its address.
      if (def.layer === 'listener') return listeners[faultId]?.url ?? (listenerPaths[faultId] !== undefined ? `unix:${listenerPaths[faultId]}` : notStarted(faultId));
      if (def.layer === 'dns') {
        if (!dns) throw new InputError('BG_BAD_OPTION', `fault "${faultId}" is played by the DNS responder, which this upstream started without (dns: false).`);
        return `http://${dns.nameFor(def.name)}:${up.http.port}/`;
      }
      if (opts.faultPaths === false) throw new InputError('BG_BAD_OPTION', `url("${faultId}") needs faultPaths (the /<fault-id> routes), which this upstream started without; use setFault() or a route instead.`);
      catalogue.compile(faultId, params ?? {}); // an unknown param fails here, not as a silently healthy answer
      const query = params && Object.keys(params).length ? `?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}` : '';
      return `${up.http.url}/${faultId}${query}`;
    },
    events: {
      subscribe: (fn) => bus.subscribe(fn),
      [Symbol.asyncIterator]: () => eventIterator(bus, iterators),
    },
    setFault(faultId, params) {
      up.setRouting({ ...up.routing, defaultFault: faultId, defaultParams: params });
    },
    setRouting: (spec) => up.setRouting(spec),
    catalogue,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function notStarted(faultId: string): never {
  throw new InputError('BG_BAD_OPTION', `listener fault "${faultId}" was not started; leave listenerFaults out (all of them) or list it (a unix-socket one, such as fcgi-pool-full, needs its path in listenerFaultPaths too).`);
}

/** A `for await` over the bus: a bounded queue per reader, ended by `return()` or by close(). */
function eventIterator(bus: EventBus, iterators: Set<() => void>): AsyncIterator<Stamped> {
  const queue: Stamped[] = [];
  let wake: ((r: IteratorResult<Stamped>) => void) | undefined;
  let done = false;
  const end = () => {
    done = true;
    unsubscribe();
    iterators.delete(end);
    wake?.({ value: undefined, done: true });
    wake = undefined;
  };
  const unsubscribe = bus.subscribe((e) => {
    if (wake) {
      const w = wake;
      wake = undefined;
      w({ value: e, done: false });
      return;
    }
    if (queue.length >= EVENT_QUEUE_MAX) queue.shift();
    queue.push(e);
  });
  iterators.add(end);
  return {
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (wake = resolve));
    },
    return() {
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}
