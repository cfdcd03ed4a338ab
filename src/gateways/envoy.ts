/**
 * Envoy: a static bootstrap for a route table, access-log parsing into reasons.
 * Pure. One listener on the given address (HTTP connection manager, router
 * filter), one route and one cluster per scenario, no admin interface (the
 * bootstrap has no `admin` block, so nothing listens but the listener).
 *
 * Envoy has no error log for requests: every request ends in one access-log
 * line, whose %RESPONSE_FLAGS% (UF, UC, UT, UPE, UH, ...) and
 * %RESPONSE_CODE_DETAILS% (e.g. `upstream_reset_before_response_started{connection_termination}`)
 * say what happened upstream. The line carries the request path, so ?bgp=<n>
 * attributes it directly.
 *
 * No expectation in scenarios/ was measured on Envoy yet (no binary or image
 * where this was built): runs report what they see without a verdict.
 */
import { stringify } from 'yaml';
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';

/** The access log, relative to the prefix. */
export const ENVOY_ACCESS_LOG = 'logs/access.log';

/**
 * Envoy's default access-log format, then the fields that say why:
 * %RESPONSE_CODE_DETAILS%, %UPSTREAM_TRANSPORT_FAILURE_REASON% and the cluster.
 * Keeping the default format as the head means `explain` reads production lines the same way.
 */
export const ENVOY_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %RESPONSE_CODE_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %UPSTREAM_CLUSTER%\n';

const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fileLog: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  cares: 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
};

/** A protobuf Duration in JSON/YAML form. */
function dur(ms: number): string {
  return `${ms / 1000}s`;
}

function clusterName(route: GatewayRoute): string {
  return `c_${route.id}`;
}

function socketAddress(host: string, port: number) {
  return { socket_address: { address: host, port_value: port } };
}

function cluster(route: GatewayRoute, input: RenderInput): Record<string, unknown> {
  const t = route.target;
  const address = t.kind === 'tcp' ? socketAddress(t.host, t.port) : t.kind === 'unix' ? { pipe: { path: t.path } } : socketAddress(t.name, t.port);
  const c: Record<string, unknown> = {
    name: clusterName(route),
    connect_timeout: dur(input.timeouts.connectMs),
    type: t.kind === 'dns' ? 'STRICT_DNS' : 'STATIC',
    load_assignment: { cluster_name: clusterName(route), endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': T.httpOptions,
        explicit_http_config: { http_protocol_options: {} },
        // Envoy pools upstream connections by default; only keepalive routes should.
        // One request per connection is nginx's default (no upstream keepalive).
        ...(route.keepalive ? {} : { common_http_protocol_options: { max_requests_per_connection: 1 } }),
      },
    },
  };
  if (t.kind === 'dns') {
    // Resolved in the background (every dns_refresh_rate), not per request, through the
    // c-ares resolver pointed at badgateway's DNS responder. A name with no address leaves
    // the cluster without hosts: requests get 503 with flag UH.
    Object.assign(c, {
      dns_lookup_family: 'V4_ONLY',
      dns_refresh_rate: '1s',
      respect_dns_ttl: false,
      ...(input.resolver
        ? {
            typed_dns_resolver_config: {
              name: 'envoy.network.dns_resolver.cares',
              typed_config: {
                '@type': T.cares,
                resolvers: [socketAddress(input.resolver.host, input.resolver.port)],
                dns_resolver_options: { no_default_search_domain: true },
                // One query, bounded like nginx's resolver_timeout (whole seconds, at least 1). Envoy's
                // default (5 s, 4 tries, the timeout doubling per try) would hold startup for over a
                // minute on a silent resolver: listeners open only once every DNS cluster's first
                // resolution has finished (wait_for_warm_on_init).
                query_timeout_seconds: Math.max(1, Math.ceil(input.timeouts.resolverMs / 1000)),
                query_tries: 1,
              },
            },
          }
        : {}),
    });
  }
  return c;
}

function route(r: GatewayRoute, input: RenderInput): Record<string, unknown> {
  return {
    match: { prefix: routePath(r.id) },
    route: {
      cluster: clusterName(r),
      // No whole-response deadline (Envoy's default is 15 s); instead an idle timeout per
      // attempt, which keeps running once the response streams: nginx's proxy_read_timeout.
      timeout: '0s',
      retry_policy: { num_retries: 0, per_try_idle_timeout: dur(input.timeouts.readMs) },
      ...(r.websocket ? { upgrade_configs: [{ upgrade_type: 'websocket', enabled: true }] } : {}),
    },
  };
}

/** The bootstrap as a plain object (rendered to YAML). */
export function envoyBootstrap(input: RenderInput): Record<string, unknown> {
  const hcm = {
    '@type': T.hcm,
    stat_prefix: 'badgateway',
    codec_type: 'HTTP1',
    // WebSocket upgrades are off unless a route turns them on.
    upgrade_configs: [{ upgrade_type: 'websocket', enabled: false }],
    access_log: [
      {
        name: 'envoy.access_loggers.file',
        typed_config: { '@type': T.fileLog, path: `${input.prefix}/${ENVOY_ACCESS_LOG}`, log_format: { text_format_source: { inline_string: ENVOY_LOG_FORMAT } } },
      },
    ],
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': T.router } }],
    route_config: {
      name: 'badgateway',
      virtual_hosts: [
        {
          name: 'badgateway',
          domains: ['*'],
          routes: [
            // Answered by Envoy itself once the listener routes requests.
            { match: { path: READY_PATH }, direct_response: { status: 200, body: { inline_string: 'ready\n' } } },
            ...input.routes.map((r) => route(r, input)),
          ],
        },
      ],
    },
  };
  return {
    // No `admin` block: Envoy then runs without its admin interface.
    static_resources: {
      listeners: [
        {
          name: 'badgateway',
          address: socketAddress(input.listen.host, input.listen.port),
          filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }],
        },
      ],
      clusters: input.routes.map((r) => cluster(r, input)),
    },
  };
}

function render(input: RenderInput): RenderedConfig {
  const head = `# Rendered by badgateway for one suite run. Every path Envoy writes is under ${input.prefix}.\n# No admin interface; one listener on ${hostPort(input.listen.host, input.listen.port)}.\n`;
  return { files: { 'envoy.yaml': head + stringify(envoyBootstrap(input), { lineWidth: 0, aliasDuplicateObjects: false }) }, main: 'envoy.yaml' };
}

/** `{{name}}` placeholders a user's config may use. */
export const ENVOY_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen_host: 'the listener address (required with listen_port): socket_address: { address: {{listen_host}}, port_value: {{listen_port}} }',
  listen_port: 'the listener port',
  upstream_host: 'the chaos upstream host (required with upstream_port): socket_address: { address: {{upstream_host}}, port_value: {{upstream_port}} }',
  upstream_port: 'the chaos upstream port',
  healthy_host: 'a second upstream that always answers 200: its host',
  healthy_port: 'its port',
  resolver_host: 'the DNS responder host (c-ares resolvers)',
  resolver_port: 'the DNS responder port',
  prefix: "a directory of the run, for any path Envoy writes; write the access log to {{prefix}}/logs/access.log to get reasons",
  listen: 'host:port of the listener, where a single string is wanted',
  upstream: 'host:port of the chaos upstream, where a single string is wanted',
};

function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: ENVOY_PLACEHOLDERS,
    hints: {
      listen: '`socket_address: { address: {{listen_host}}, port_value: {{listen_port}} }` in the listener',
      upstream: '`socket_address: { address: {{upstream_host}}, port_value: {{upstream_port}} }` in a cluster endpoint',
    },
    // Envoy addresses are a host and a port_value, so the shared host:port placeholders come split too.
    requiredAny: { listen: ['listen_host', 'listen_port'], upstream: ['upstream_host', 'upstream_port'] },
    forbidden: ['admin:'],
    forbiddenWhy: 'badgateway runs Envoy without an admin interface, so that nothing listens but the listener.',
    extra: {
      listen_host: v.listen.host,
      listen_port: String(v.listen.port),
      upstream_host: v.upstream.host,
      upstream_port: String(v.upstream.port),
      healthy_host: v.healthy.host,
      healthy_port: String(v.healthy.port),
      ...(v.resolver ? { resolver_host: v.resolver.host, resolver_port: String(v.resolver.port) } : {}),
    },
  });
  return { files: { 'envoy.yaml': `# badgateway: ${file} with its placeholders filled in.\n${body}` }, main: 'envoy.yaml' };
}

/** Tokens of the part after the response flags: quoted strings stay whole. */
function tokens(rest: string): Array<{ text: string; quoted: boolean }> {
  const out: Array<{ text: string; quoted: boolean }> = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rest); m; m = re.exec(rest)) out.push(m[1] !== undefined ? { text: m[1], quoted: true } : { text: m[2]!, quoted: false });
  return out;
}

/** The default access-log head: [time] "METHOD PATH PROTOCOL" CODE FLAGS ... (also Istio's, which adds fields after the flags). */
const HEAD = /^(?:.*?\s)?\[(\d{4}-\d\d-\d\dT[^\]]+)\] "([A-Z]+|-) (\S+) (\S+)" (\d{1,3}) (\S+)(.*)$/;
const DETAILS = /^(?:via_upstream|direct_response|no_healthy_upstream|cluster_not_found|route_not_found|upstream_[a-z_]+(?:\{[^}]*\})?|[a-z][a-z0-9_.]*\{[^}]*\}|[a-z]+(?:_[a-z0-9]+)+)$/;

/** The reasons Envoy's table documents: the only ones its parser may give. */
export type EnvoyReason = (typeof REASONS)[number]['reason'];

/** The reason for a line's flags and details. Flags may be comma-separated (URX,UF). */
export function envoyReason(flags: readonly string[], details: string, transportFailure: string): EnvoyReason | undefined {
  const has = (f: string) => flags.includes(f);
  const inner = /\{([^}]*)\}/.exec(details)?.[1] ?? '';
  const after = details.startsWith('upstream_reset_after_response_started');
  const failure = `${inner} ${transportFailure}`;
  if (has('UF') || /connection_failure|connect_error/.test(inner)) {
    if (/refused|(?:error|error:_?)\s?111\b|_111\b/i.test(failure)) return 'connect-refused';
    if (/timeout|timed.out|\b110\b/i.test(failure)) return 'connect-timeout';
    return 'connect-failed';
  }
  if (/connection_timeout/.test(inner)) return 'connect-timeout';
  // Details: the route timeout is `response_timeout`; a try's are `upstream_per_try_timeout` / `upstream_per_try_idle_timeout`.
  if (has('UT') || /^(?:response_timeout|upstream_per_try_timeout|upstream_per_try_idle_timeout)$/.test(details)) return 'read-timeout';
  if (has('UPE') || /protocol_error/.test(inner)) return after ? 'invalid-chunked' : 'invalid-header';
  if (has('UR') || /remote_reset/.test(inner)) return 'upstream-reset';
  if (has('UC') || /connection_termination/.test(inner)) return after ? 'upstream-truncated' : 'upstream-closed-early';
  if (has('UH') || details === 'no_healthy_upstream') return 'no-live-upstreams';
  return undefined;
}

function parseLogLine(line: string): LogEntry<EnvoyReason> | undefined {
  const m = HEAD.exec(line);
  if (!m) return undefined;
  const [, , , path, , , flagField, rest] = m;
  const flags = flagField === '-' ? [] : flagField!.split(',');
  const toks = tokens(rest!);
  const details = toks.find((t) => !t.quoted && DETAILS.test(t.text))?.text ?? '';
  // The transport failure reason is quoted (ours and Istio's): the first quoted token that reads like one.
  const transportFailure = toks.find((t) => t.quoted && /connect|tls|error|refused|timeout|reset/i.test(t.text) && !/^[\w.-]+\/[\d.]+/.test(t.text))?.text ?? '';
  const reason = envoyReason(flags, details, transportFailure);
  return { raw: line, level: reason ? 'error' : 'info', reason, target: path === '-' ? undefined : path };
}

const LINE = (code: number, flags: string, details: string, failure = '-') =>
  `[2026-11-24T10:00:00.000Z] "GET /s/x/ HTTP/1.1" ${code} ${flags} 0 ${code === 200 ? 5 : 91} 3 - "-" "curl/8.5.0" "5b2f..." "127.0.0.1:8080" "127.0.0.1:9000" ${details} "${failure}" c_x`;

const REASONS = [
  {
    reason: 'connect-refused',
    example: LINE(503, 'UF', 'upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}', 'delayed_connect_error:_Connection_refused'),
    meaning: 'flag UF (upstream connection failure) with a transport failure reason of "Connection refused" (older versions: "delayed connect error: 111"): nothing listens at the upstream address, or the unix socket is missing. Envoy answers 503 "upstream connect error or disconnect/reset before headers", not 502.',
    causes: ['the backend process is down or restarting', 'wrong port or socket path in the cluster endpoint', 'the backend listens on another interface'],
    directives: ['retry_policy retry_on: connect-failure (route)', 'outlier_detection (cluster)', 'health_checks (cluster)'],
    scenarios: ['connect-refused'],
  },
  {
    reason: 'connect-timeout',
    example: LINE(503, 'UF', 'upstream_reset_before_response_started{connection_timeout}'),
    meaning: 'flag UF with reset reason connection_timeout: the TCP handshake did not complete within the cluster\'s connect_timeout (5 s by default). The client gets 503.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['connect_timeout (cluster)', 'retry_policy retry_on: connect-failure'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'connect-failed',
    example: LINE(503, 'UF', 'upstream_reset_before_response_started{remote_connection_failure}'),
    meaning: 'flag UF without a transport failure reason that says refused or timed out: the upstream connection failed before a request was sent.',
    causes: ['the backend is down', 'a TLS handshake failure on a TLS cluster'],
    directives: ['connect_timeout (cluster)', 'transport_socket (cluster)', 'retry_policy retry_on: connect-failure'],
    scenarios: [],
  },
  {
    reason: 'read-timeout',
    example: LINE(504, 'UT', 'upstream_per_try_idle_timeout'),
    meaning: 'flag UT (upstream request timeout): no response bytes for the route\'s timeout (whole response, 15 s by default), per_try_timeout or per_try_idle_timeout. Before the response head the client gets 504 "upstream request timeout"; after it, the response is cut. badgateway renders per_try_idle_timeout (nginx\'s proxy_read_timeout) and turns the whole-response timeout off.',
    causes: ['a stuck or slow backend', 'a long computation without streaming', 'a body that never completes'],
    directives: ['timeout (route, default 15s)', 'retry_policy per_try_timeout / per_try_idle_timeout', 'idle_timeout (route)', 'stream_idle_timeout (connection manager)'],
    scenarios: ['never-respond', 'slow-response'],
  },
  {
    reason: 'upstream-reset',
    example: LINE(503, 'UR', 'upstream_reset_before_response_started{remote_reset}'),
    meaning: 'flag UR (upstream remote reset): the upstream reset the stream. Before the response head the client gets 503; after it, a truncated body.',
    causes: ['the backend process crashed or was killed', 'the backend reset a connection Envoy was reusing'],
    directives: ['retry_policy retry_on: reset', 'common_http_protocol_options idle_timeout (cluster)'],
    scenarios: [],
  },
  {
    reason: 'upstream-closed-early',
    example: LINE(503, 'UC', 'upstream_reset_before_response_started{connection_termination}'),
    meaning: 'flag UC (upstream connection termination) before the response head: the upstream connection closed before a complete response header. The client gets 503 "upstream connect error or disconnect/reset before headers. reset reason: connection termination".',
    causes: ['the backend crashed while handling the request', 'the backend closed an idle pooled connection as Envoy reused it', 'a non-HTTP service on the port'],
    directives: ['retry_policy retry_on: reset (or connect-failure, 5xx)', 'common_http_protocol_options idle_timeout (cluster, shorter than the backend\'s)', 'max_requests_per_connection'],
    scenarios: ['empty-reply'],
  },
  {
    reason: 'upstream-truncated',
    example: LINE(200, 'UC', 'upstream_reset_after_response_started{connection_termination}'),
    meaning: 'flag UC after the response started: the upstream connection closed mid-body; the client already has the status line and gets a truncated body.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: ['retry_policy (only before the response starts)'],
    scenarios: [],
  },
  {
    reason: 'invalid-header',
    example: LINE(502, 'UPE', 'upstream_reset_before_response_started{protocol_error}'),
    meaning: 'flag UPE (upstream protocol error) before the response head: Envoy\'s HTTP/1 codec rejected the response (a malformed status line or header, conflicting framing headers, a header block over max_response_headers_kb or max_headers_count, a non-HTTP reply). The client gets 502.',
    causes: ['a hand-written HTTP server', 'TLS or HTTP/2 on a cluster Envoy treats as plain HTTP/1.1', 'very large response headers'],
    directives: ['max_response_headers_kb / max_headers_count (cluster common_http_protocol_options)', 'http_protocol_options (cluster)', 'transport_socket (for a TLS backend)'],
    scenarios: [],
  },
  {
    reason: 'invalid-chunked',
    example: LINE(200, 'UPE', 'upstream_reset_after_response_started{protocol_error}'),
    meaning: 'flag UPE after the response started: the body framing is invalid (e.g. a bad chunk size); the client gets a truncated body.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'no-live-upstreams',
    example: LINE(503, 'UH', 'no_healthy_upstream'),
    meaning: 'flag UH: the cluster has no healthy host. For a DNS cluster this is what a name that does not resolve looks like: Envoy resolves in the background and leaves the cluster empty, so requests get 503 "no healthy upstream" at once.',
    causes: ['the cluster\'s name resolves to nothing (NXDOMAIN, SERVFAIL, no A record, a silent resolver)', 'health checks or outlier detection ejected every host'],
    directives: ['dns_refresh_rate / dns_failure_refresh_rate / respect_dns_ttl (cluster)', 'typed_dns_resolver_config (cluster)', 'health_checks, outlier_detection'],
    scenarios: ['dns-nxdomain'],
  },
] as const satisfies readonly ReasonInfo[];

export const envoy: GatewayAdapter = {
  id: 'envoy',
  binary: 'envoy',
  installHint: 'Debian and npm do not package it; official binaries come with the envoyproxy/envoy image, brew install envoy (macOS)',
  defaultImage: 'envoyproxy/envoy:v1.39-latest',
  // No Debian package and no build script: without a registry, load an image and pass --image.
  localImage: 'envoyproxy/envoy:v1.39-latest',
  versionArgs: ['--version'],
  versionExample: 'envoy  version: 5f1a2b3c4d5e6f708192a3b4c5d6e7f809102030/1.39.5/Clean/RELEASE/BoringSSL\n',
  parseVersion: (output) => /version: [0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(output)?.[1],
  render,
  // One worker thread (one connection pool per cluster, like the other gateways' single
  // worker); no hot-restart shared memory, so several Envoys can run side by side. Access-log
  // lines are buffered and written every --file-flush-interval-msec (10 s by default): flush
  // every 10 ms so they are on disk when the run reads the log, 100 ms after the last probe.
  args: (_prefix, configPath) => ['-c', configPath, '--concurrency', '1', '--disable-hot-restart', '--log-level', 'info', '--file-flush-interval-msec', '10'],
  testArgs: (_prefix, configPath) => ['--mode', 'validate', '-c', configPath, '--disable-hot-restart'],
  logFiles: [ENVOY_ACCESS_LOG],
  parseLogLine,
  reasons: REASONS,
  fromUserConfig,
};

export default envoy;
