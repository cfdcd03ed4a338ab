/**
 * What a gateway adapter is. Everything here is pure: config text from a route
 * table, reasons from log lines. Running the gateway is a runtime's job.
 */
import type { Reason } from './reasons.js';

export type { Reason } from './reasons.js';

/** How the gateway reaches the upstream for one route. */
export type RouteTarget =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  /** By name, resolved at request time through the configured resolver. */
  | { readonly kind: 'dns'; readonly name: string; readonly port: number };

export interface GatewayRoute {
  /** Scenario id: the route serves /s/<id>/. */
  readonly id: string;
  readonly target: RouteTarget;
  /** Keep a pool of idle upstream connections and reuse them (nginx: upstream keepalive + HTTP/1.1). */
  readonly keepalive?: boolean;
  /** Pass WebSocket upgrades through. */
  readonly websocket?: boolean;
  /**
   * What the gateway speaks to `target`: `fastcgi` renders the gateway's FastCGI client (nginx
   * fastcgi_pass, Apache mod_proxy_fcgi, ...), sending REQUEST_URI = the client's URI with its query
   * string, by whose path the upstream routes. `h2`: plain HTTP/2 to the upstream, cleartext with
   * prior knowledge (HAProxy `proto h2`, Caddy `versions h2c 2`, Apache mod_proxy_http2 `h2c://`),
   * the path kept as the client sent it; `grpc`: the gateway's gRPC proxying (nginx `grpc_pass`),
   * over the same HTTP/2 listener. Absent: http.
   */
  readonly protocol?: 'http' | 'fastcgi' | 'h2' | 'grpc';
  /**
   * FastCGI only: the SCRIPT_FILENAME to send instead of the gateway's usual one (a real php-fpm
   * runs this file; the chaos upstream routes by REQUEST_URI and ignores it).
   */
  readonly scriptFilename?: string;
  /**
   * Several servers behind the route (a scenario's `upstreams:`): the adapter renders an upstream
   * group of them, with the gateway's own retry and passive-health defaults, instead of `target`
   * (which is then the first server's).
   */
  readonly pool?: ReadonlyArray<PoolServer>;
  /** The upstream speaks TLS (a TLS scenario): how the gateway is to talk to it. Absent: plain. */
  readonly tls?: RouteTls;
}

/** How a gateway speaks TLS to a route's upstream (set by plan.ts gatewayRoutes for TLS scenarios). */
export interface RouteTls {
  /** 'default' renders no verification directive: the gateway's own default. */
  readonly verify: 'default' | 'on' | 'off';
  /** PEM of the CA that signed the run's certificates (absolute path, readable by the gateway). */
  readonly caFile: string;
  /** Name to send as SNI and to verify the certificate against (RunPki.serverName). */
  readonly serverName: string;
  /** A client certificate to present (mTLS), when the scenario's fault asks for one. */
  readonly clientCert?: { readonly certFile: string; readonly keyFile: string };
}

/** One server of a route's pool. */
export interface PoolServer {
  readonly target: RouteTarget;
  readonly weight: number;
  readonly backup: boolean;
}

export interface RenderInput {
  readonly listen: { readonly host: string; readonly port: number };
  /** Directory that holds everything the gateway writes: pid, logs, temp files. */
  readonly prefix: string;
  readonly routes: readonly GatewayRoute[];
  readonly resolver?: { readonly host: string; readonly port: number };
  readonly timeouts: { readonly connectMs: number; readonly readMs: number; readonly sendMs: number; readonly resolverMs: number };
  /** Where to send syslog lines, when the adapter has a `syslogFile`: a UDP socket the harness owns. */
  readonly logSink?: LogSink;
  /**
   * A second listener for clients that speak HTTP/2 in clear text with prior knowledge (h2c), with
   * the same routes: gRPC clients do, and a gateway hands their trailers on only over HTTP/2.
   * Given when some route is `grpc` (or `h2` with a gRPC request); adapters with supportsGrpc render it.
   */
  readonly h2Listen?: { readonly host: string; readonly port: number };
}

/** A syslog socket the harness owns (UDP); what arrives there is appended to the adapter's `syslogFile`. */
export interface LogSink {
  readonly host: string;
  readonly port: number;
}

export interface RenderedConfig {
  /** Files to write, by path relative to the prefix. */
  readonly files: Readonly<Record<string, string>>;
  /** The main config file, relative to the prefix. */
  readonly main: string;
}

/**
 * One gateway log line, normalized. `R` narrows the reasons one adapter's parser gives: typed with
 * the reasons its table documents (see ReasonInfo), a parser cannot give an undocumented one.
 */
export interface LogEntry<R extends Reason = Reason> {
  readonly raw: string;
  readonly level: string;
  /** The normalized reason (src/gateways/reasons.ts), when the line is one we know. */
  readonly reason?: R;
  /** The request target the line is about (for attribution), e.g. /s/empty-reply/?bgp=3. */
  readonly target?: string;
  /** The gateway's connection id, to attribute lines that do not name the request. */
  readonly connection?: string;
  /**
   * The request id the line carries, for attribution (src/harness/request-id.ts): the
   * `X-Request-Id` a probe sent (bg-<run>-<n>), or the Root of its `X-Amzn-Trace-Id` (ALB's trace_id).
   */
  readonly requestId?: string;
}

/**
 * One reason as one gateway reports it. An adapter keeps its table as
 * `const REASONS = [...] as const satisfies readonly ReasonInfo[]` and types its parser with
 * `LogEntry<(typeof REASONS)[number]['reason']>`, so a reason the parser gives and the table
 * lacks is a type error.
 */
export interface ReasonInfo<R extends Reason = Reason> {
  readonly reason: R;
  /** What the log line means on this gateway, in plain words (REASONS has the meaning every gateway shares). */
  readonly meaning: string;
  readonly causes: readonly string[];
  /** Directives that govern this outcome. */
  readonly directives: readonly string[];
  /** Built-in scenarios that reproduce it. */
  readonly scenarios: readonly string[];
  /**
   * What the gateway's log line looks like, for the field guide and `explain`: a whole line, or the
   * message part when the adapter has `exampleLine` to make a whole line of it.
   */
  readonly example?: string;
}

export interface GatewayAdapter {
  readonly id: string;
  /** The binary the process runtime runs. */
  readonly binary: string;
  /** How to get that binary, for the error when it is not on PATH. */
  readonly installHint: string;
  /**
   * The versions the whole built-in suite was measured on, as `parseVersion` gives them, and the
   * image each ran from; absent when none were. A run on a version outside them is reported as
   * "not measured on <version>", not judged (src/scenarios/scenario.ts `resolveExpectation`).
   */
  readonly measuredOn?: readonly MeasuredVersion[];
  /**
   * Default image for the container runtime: the gateway's official image, pulled when missing;
   * the local image when the rendered config does not fit the official one's layout (Apache).
   */
  readonly defaultImage: string;
  /** The image `scripts/build-gateway-image.sh <id>` builds without a registry; used when the default cannot be had. */
  readonly localImage: string;
  /**
   * Why the gateway cannot run though its binary is there, with what to install: a Node proxy
   * whose npm packages are missing. Undefined when it can run. The process runtime asks first.
   */
  requires?(): string | undefined;
  /** Arguments that make the binary print its version. */
  readonly versionArgs: readonly string[];
  /**
   * Arguments that make the binary print what it was built with, when that decides behaviour too
   * (Caddy's `build-info`: the Go toolchain). Their output follows versionArgs' for parseVersion.
   */
  readonly buildInfoArgs?: readonly string[];
  /**
   * What `<binary> <versionArgs>` prints (then, with buildInfoArgs, what they print), as a sample
   * `parseVersion` must read: the contract test requires it of every registered adapter.
   */
  readonly versionExample?: string;
  parseVersion(output: string): string | undefined;
  render(input: RenderInput): RenderedConfig;
  /**
   * Arguments to run the gateway in the foreground with a config under a prefix. `run.listen` is
   * the address it must listen on, for a gateway that takes it on its command line rather than in
   * its config (Varnish's -a).
   */
  args(prefix: string, configPath: string, run?: { readonly listen: { readonly host: string; readonly port: number } }): string[];
  /** Arguments that only test the configuration. */
  testArgs(prefix: string, configPath: string): string[];
  /** Environment for the gateway's process, e.g. to keep its home and data directories under the prefix. */
  env?(prefix: string): Readonly<Record<string, string>>;
  /** Log files the gateway writes under its prefix, relative paths. */
  readonly logFiles: readonly string[];
  /**
   * For a gateway whose log lives in memory, not in a file (Varnish's shared-memory log): a
   * command that prints the whole log so far and exits, run where the gateway runs (on the host
   * for the process runtime, inside the container for the container runtime) each time the
   * harness reads the logs. Its output replaces `file` under the prefix (one of `logFiles`).
   */
  readonly logDump?: LogDump;
  /**
   * The gateway logs over syslog: the harness opens a UDP socket before rendering (passed as
   * `logSink`) and appends every line that arrives to this file under the prefix (one of `logFiles`).
   */
  readonly syslogFile?: string;
  parseLogLine(line: string): LogEntry | undefined;
  /**
   * For an adapter whose `ReasonInfo.example`s are the message part only (what an operator greps
   * for): the whole log line that message sits in, as this adapter's parser reads it. The contract
   * test (test/gateways/contract.test.ts) reads every example back through it.
   */
  exampleLine?(example: string): string;
  /**
   * False when the gateway cannot resolve upstream names through a resolver of our choosing
   * (it uses the system resolver only): DNS-layer scenarios and routes by DNS name are skipped. Default true.
   */
  readonly supportsResolver?: boolean;
  /** Why, when the gateway's way of resolving says more than "the system resolver only" (the skip reason of those scenarios). */
  readonly noResolverWhy?: string;
  /** False when the gateway cannot reach an upstream over a unix socket: scenarios with `upstream: unix` are skipped. Default true. */
  readonly supportsUnixUpstream?: boolean;
  /**
   * True when the gateway pools idle upstream connections by address, shared between routes
   * (Varnish): the harness then gives each keepalive route an upstream of its own (a port of its
   * own), so one scenario's pooled connections never carry another scenario's request.
   */
  readonly sharesConnectionPools?: boolean;
  /** True when the adapter renders FastCGI routes (GatewayRoute.protocol); FastCGI scenarios are skipped without it. Default false. */
  readonly supportsFastcgi?: boolean;
  /** True when render() speaks TLS to a route with `tls` (RouteTls); TLS scenarios are skipped without it. Default false. */
  readonly supportsTlsUpstream?: boolean;
  /** True when the adapter renders `protocol: 'h2'` routes (HTTP/2 to the upstream); HTTP/2 scenarios that are not gRPC are skipped without it. Default false. */
  readonly supportsH2Upstream?: boolean;
  /** True when the adapter renders `protocol: 'grpc'` routes; gRPC scenarios (`request.grpc`) are skipped without it. Default false. */
  readonly supportsGrpc?: boolean;
  /** Why, when the adapter has more to say than "no HTTP/2 upstream in badgateway" (e.g. nginx speaks HTTP/2 upstream only in grpc_pass). */
  readonly noH2UpstreamWhy?: string;
  /** True when render() draws a route's `pool` as an upstream group; pool scenarios are skipped otherwise. Default false. */
  readonly supportsPools?: boolean;
  /** False when the container runtime cannot run this gateway yet (default true). */
  readonly supportsContainer?: boolean;
  /**
   * The runtimes that can run this gateway, when not every one can: a profile of a gateway
   * nobody can start here (AWS ALB, Cloudflare) lists only `external`, and a run with another
   * runtime is refused before anything starts (src/gateways/profile.ts runtimeRefusal).
   */
  readonly runtimes?: readonly string[];
  readonly reasons: readonly ReasonInfo[];
  /** A user's own config: replace the documented placeholders. Throws InputError naming what is missing. */
  fromUserConfig(text: string, file: string, values: UserConfigValues): RenderedConfig;
}

/** See GatewayAdapter.logDump. */
export interface LogDump {
  /** A binary on the gateway's PATH (checked with the gateway's own binary before it starts). */
  readonly binary: string;
  args(prefix: string): readonly string[];
  /** Where its output goes, relative to the prefix. */
  readonly file: string;
  /**
   * How long after a request's response the gateway may still be writing that request's records:
   * the harness waits this long before a dump.
   */
  readonly settleMs: number;
}

/** One version the built-in suite was measured on. */
export interface MeasuredVersion {
  /** As the adapter's parseVersion gives it, e.g. `1.26.3` or Caddy's `2.6.2+go1.24.4`. */
  readonly version: string;
  /** The image it ran from, e.g. `badgateway/nginx:trixie` (scripts/build-gateway-image.sh); for a version measured only as a process, `process: <where the binary came from>`; for a Node proxy, the runtime and Node. */
  readonly image: string;
}


export interface UserConfigValues {
  readonly listen: { readonly host: string; readonly port: number };
  readonly prefix: string;
  /** The chaos upstream: it routes /s/<scenario>/ to that scenario's fault. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** A second upstream that always answers healthy (for retry and failover configs). */
  readonly healthy: { readonly host: string; readonly port: number };
  readonly resolver?: { readonly host: string; readonly port: number };
  /** See RenderInput.logSink. */
  readonly logSink?: LogSink;
}
