/**
 * HAProxy: config rendering for a route table, log parsing into reasons.
 * Pure. HAProxy has no error log: every request ends in one log line, whose
 * termination state (%tsc, e.g. "SH--") says who ended the session and when.
 * It logs in raw format to a syslog socket the harness owns (UDP on loopback,
 * reachable from a container on the host network), which appends every line to
 * logs/haproxy.log under the prefix. No stats page, no admin socket.
 */
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, LogSink, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { haproxyServerTls, TLS_CONNECT_TIMEOUT_S } from './tls-render.js';
import { READY_PATH, routePath } from './paths.js';

/** Where the harness's syslog socket writes HAProxy's lines, relative to the prefix. */
const SYSLOG_FILE = 'logs/haproxy.log';

/**
 * The global `log` line: raw lines (no syslog header) over UDP to the harness's socket.
 * Not stdout: in a container, stdout reaches us through Docker's log stream, which
 * now and then loses or delays a line.
 */
function logLine(sink: LogSink | undefined): string {
  if (!sink) throw new Error('haproxy logs to a syslog socket the harness owns: logSink is required');
  return `log ${hostPort(sink.host, sink.port)} format raw local0 info`;
}

/**
 * One line per request. The leading "badgateway" tags our lines; %tsc is the
 * termination state, %rc the retries, %{+Q}r the request line (for ?bgp=<n>).
 */
export const HAPROXY_LOG_FORMAT = 'badgateway %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r';

function ms(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

function backendName(route: GatewayRoute): string {
  return `be_${route.id}`;
}

/** The fcgi-app every FastCGI backend uses. */
const FCGI_APP = 'badgateway';

/**
 * The FastCGI application: HAProxy builds REQUEST_URI (path and query, as the client sent them),
 * QUERY_STRING, SCRIPT_NAME, SCRIPT_FILENAME (docroot + path) and the rest itself. Nothing is
 * served from the docroot: the upstream routes by REQUEST_URI. log-stderr sends what the backend
 * writes to STDERR to the log as bare lines (no request in them), as nginx's error log has it.
 * Timeouts are the backend's (timeout connect, timeout server).
 */
function fcgiApp(prefix: string, routes: readonly GatewayRoute[]): string {
  // A real php-fpm runs the file it is named: a route's own script replaces the SCRIPT_FILENAME built from docroot.
  const scripts = routes
    .filter((r) => r.protocol === 'fastcgi' && r.scriptFilename !== undefined)
    .map((r) => `  set-param SCRIPT_FILENAME ${r.scriptFilename} if { path_beg ${routePath(r.id)} }\n`)
    .join('');
  return `fcgi-app ${FCGI_APP}
  docroot ${prefix}/htdocs
  path-info ^(/.+\\.php)(/.*)?$
  log-stderr global
${scripts}`;
}

function serverLine(route: GatewayRoute): string {
  const t = route.target;
  // FastCGI routes never have a DNS target (the loader refuses it).
  // h2 and grpc alike: HAProxy's HTTP/2 mux to the server in clear text (prior knowledge); gRPC needs nothing more.
  const proto = (route.protocol === 'fastcgi' ? ' proto fcgi' : route.protocol === 'h2' || route.protocol === 'grpc' ? ' proto h2' : '') + (route.tls ? haproxyServerTls(route.tls) : '');
  if (t.kind === 'tcp') return `server s ${hostPort(t.host, t.port)}${proto}`;
  if (t.kind === 'unix') return `server s unix@${t.path}${proto}`;
  // Resolved in the background by the `resolvers` section, not per request; until
  // the first valid answer the server stays in maintenance (init-addr none).
  return `server s ${t.name}:${t.port} resolvers badgateway init-addr none resolve-prefer ipv4${proto}`;
}

/**
 * A route's pool: one `server` per member (roundrobin by weight, `backup` only when every other
 * server is down). HAProxy's defaults are kept: retries 3, on a failed connect only
 * (retry-on conn-failure), to the same server since `option redispatch` is not set; no `check`,
 * so no server is ever marked down (observe and on-error need health checks) and a dead server
 * stays in the rotation.
 */
function poolServers(route: GatewayRoute): string[] {
  return route.pool!.map((m, i) => {
    const t = m.target;
    const addr = t.kind === 'tcp' ? hostPort(t.host, t.port) : t.kind === 'unix' ? `unix@${t.path}` : `${t.name}:${t.port} resolvers badgateway init-addr none resolve-prefer ipv4`;
    return `  server s${i} ${addr}${m.weight !== 1 ? ` weight ${m.weight}` : ''}${m.backup ? ' backup' : ''}${route.tls ? haproxyServerTls(route.tls) : ''}`;
  });
}

function backend(route: GatewayRoute, to: RenderInput['timeouts']): string {
  const lines = [`backend ${backendName(route)}`];
  if (route.protocol === 'fastcgi') {
    // Without option keep-conn the FastCGI mux does not ask for FCGI_KEEP_CONN: one connection per request.
    lines.push(`  use-fcgi-app ${FCGI_APP}`, `  ${serverLine(route)}`);
    return lines.join('\n');
  }
  // keepalive: share idle server connections across client sessions (nginx: an upstream
  // keepalive pool). Otherwise one server connection per request, like nginx's default.
  lines.push(route.keepalive ? '  http-reuse always' : '  option http-server-close');
  // The server-side handshake follows the TCP connect and runs under timeout server as well:
  // both get at least TLS_CONNECT_TIMEOUT_S, and never less than the run's own.
  if (route.tls) lines.push(`  timeout connect ${ms(Math.max(to.connectMs, TLS_CONNECT_TIMEOUT_S * 1000))}`, `  timeout server ${ms(Math.max(to.readMs, TLS_CONNECT_TIMEOUT_S * 1000))}`);
  // WebSocket upgrades pass through in HTTP mode without any directive; after the 101
  // the session is a tunnel governed by `timeout tunnel`.
  if (route.pool) lines.push(...poolServers(route));
  else lines.push(`  ${serverLine(route)}`);
  return lines.join('\n');
}

function render(input: RenderInput): RenderedConfig {
  const p = input.prefix;
  const to = input.timeouts;
  const resolvers = input.resolver
    ? `
resolvers badgateway
  nameserver ns ${hostPort(input.resolver.host, input.resolver.port)}
  accepted_payload_size 1232
  resolve_retries 1
  timeout resolve ${ms(to.resolverMs)}
  timeout retry ${ms(to.resolverMs)}
  hold valid 1s
  hold obsolete 1s
  hold nx 1s
  hold other 1s
  hold refused 1s
  hold timeout 1s
`
    : '';
  const conf = `# Rendered by badgateway for one suite run. Every path is under ${p}.
# No stats page and no admin socket; retries are left at their default (3).
global
  pidfile ${p}/haproxy.pid
  ${logLine(input.logSink)}
  maxconn 4096

defaults
  mode http
  log global
  log-format "${HAPROXY_LOG_FORMAT}"
  # Short timeouts keep a suite fast; scenarios that test them say so.
  timeout connect ${ms(to.connectMs)}
  timeout server ${ms(to.readMs)}
  timeout client 30s
  timeout http-request 10s
  timeout tunnel 30s
${resolvers}${input.routes.some((r) => r.protocol === 'fastcgi') ? `\n${fcgiApp(p, input.routes)}` : ''}
frontend badgateway
  bind ${hostPort(input.listen.host, input.listen.port)}
${input.h2Listen ? `  bind ${hostPort(input.h2Listen.host, input.h2Listen.port)} proto h2
` : ''}  http-request return status 200 content-type text/plain string "ready" if { path ${READY_PATH} }
${input.routes.map((r) => `  use_backend ${backendName(r)} if { path_beg ${routePath(r.id)} }`).join('\n')}

${input.routes.map((r) => backend(r, to)).join('\n\n')}
`;
  return { files: { 'haproxy.cfg': conf }, main: 'haproxy.cfg' };
}

/** `{{name}}` placeholders a user's config may use. */
export const HAPROXY_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen: 'the address HAProxy must listen on (required): bind {{listen}}',
  upstream: 'the chaos upstream, host:port (required): server s1 {{upstream}}',
  healthy: 'a second upstream that always answers 200, host:port: server s2 {{healthy}} backup',
  prefix: 'a directory of the run, for any path HAProxy writes',
  resolver: 'the DNS responder, host:port: nameserver ns {{resolver}}',
};

function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: HAPROXY_PLACEHOLDERS,
    hints: { listen: '`bind {{listen}}` in the frontend', upstream: '`server s1 {{upstream}}` in a backend' },
    forbidden: ['daemon', 'pidfile', 'stats socket'],
    forbiddenWhy: "badgateway keeps HAProxy in the foreground with its pid under the run's prefix, and no admin socket.",
  });
  // Our global section first: the pid file under the prefix and logs to the harness's
  // syslog socket, so attribution works when the user's proxies say `log global` (and use our log-format).
  const head = `# badgateway: ${file} with its placeholders filled in.\nglobal\n  pidfile ${v.prefix}/haproxy.pid\n  ${logLine(v.logSink)}\n\n`;
  return { files: { 'haproxy.cfg': head + body }, main: 'haproxy.cfg' };
}

// badgateway <client> [<accept date>] <frontend> <backend>/<server> <TR>/<Tw>/<Tc>/<Tr>/<Ta> <status> <bytes> <tsc> <ac>/<fc>/<bc>/<sc>/<rc> <sq>/<bq> "<request>"
// Also HAProxy's standard `option httplog` lines (with a syslog prefix, captured cookies and
// headers), so that `badgateway explain` understands a line pasted from production.
const LINE =
  /^(?:badgateway |.*?: )?(?<client>\S+:\d+) \[(?<date>[^\]]+)\] (?<frontend>\S+) (?<backend>[^/\s]+)\/(?<server>\S+) -?\d+\/-?\d+\/-?\d+\/-?\d+\/\+?-?\d+ (?<status>-?\d+) \+?\d+ (?:\S+ \S+ )?(?<tsc>\S{4}) \d+\/\d+\/\d+\/\d+\/\+?\d+ \d+\/\d+(?: \{[^}]*\})* "(?<request>.*)"$/;

/**
 * Server state changes the resolvers write (not tied to a request; the same message
 * also goes to stderr as "[WARNING]  (pid) : ...", which is left out to count it once).
 * A name that never resolved logs nothing: its server stays in maintenance.
 */
const DNS_STATE = /^Server (\S+)\/(\S+) is going DOWN for maintenance \((DNS NX status|DNS timeout status|DNS refused status|unspecified DNS error|No IP for server ?)\)/;
/** The reasons HAProxy's table documents: the only ones its parser may give. */
export type HaproxyReason = (typeof REASONS)[number]['reason'];

const DNS_REASON: Record<string, HaproxyReason> = {
  'DNS NX status': 'dns-nxdomain',
  'DNS timeout status': 'dns-timeout',
  'DNS refused status': 'dns-refused',
  'unspecified DNS error': 'dns-failed',
  'No IP for server': 'dns-failed',
  'No IP for server ': 'dns-failed',
};

/** The reason for a termination state (first two characters of %tsc) and the server field. */
export function reasonForTermination(ts: string, server: string, status: number): HaproxyReason | undefined {
  const who = ts[0]!;
  const when = ts[1]!;
  if (server === '<NOSRV>' && status === 503) return 'no-live-upstreams';
  switch (`${who}${when}`) {
    case 'SC':
      return 'connect-refused';
    case 'sC':
      return 'connect-timeout';
    case 'sH':
    case 'sD':
      return 'read-timeout';
    case 'SH':
      return 'upstream-closed-early';
    case 'SD':
      return 'upstream-truncated';
    case 'PH':
      return 'invalid-header';
    case 'PD':
      return 'invalid-chunked';
    default:
      return undefined;
  }
}

function parseLogLine(line: string): LogEntry<HaproxyReason> | undefined {
  const g = LINE.exec(line)?.groups;
  if (g) {
    const req = /^[A-Z]+ (\S+)(?: HTTP\/[\d.]+)?$/.exec(g.request!);
    const reason = reasonForTermination(g.tsc!, g.server!, Number(g.status));
    // The backend stands in for a connection id: resolver lines name the backend, not a request.
    return { raw: line, level: reason ? 'error' : 'info', reason, target: req?.[1], connection: g.backend };
  }
  const d = DNS_STATE.exec(line);
  if (d) return { raw: line, level: 'warning', reason: DNS_REASON[d[3]!], connection: d[1] };
  return undefined;
}

const REASONS = [
  {
    reason: 'connect-refused',
    example: 'be_x/s 0/0/-1/-1/3003 503 217 SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state SC: the server refused the connection (or the unix socket is missing). HAProxy retries `retries` times (3 by default, about 1 s apart) on the same server and then answers 503, not 502.',
    causes: ['the backend process is down or restarting', 'wrong port or socket path on the server line', 'the backend listens on another interface', 'a unix socket whose accept queue is full (EAGAIN, a PHP-FPM pool with every child busy): logged as SC too, its retries spent at once'],
    directives: ['retries (default 3)', 'option redispatch (retry on another server)', 'retry-on', 'timeout connect', 'health checks: check / inter / fall'],
    scenarios: ['connect-refused', 'fcgi-pool-full'],
  },
  {
    reason: 'connect-timeout',
    example: 'be_x/s 0/0/-1/-1/4004 503 217 sC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state sC: the TCP handshake did not complete within `timeout connect`; after `retries` attempts the client gets 503.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['timeout connect', 'retries', 'option redispatch'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'read-timeout',
    example: 'be_x/s 0/0/0/-1/1001 504 218 sH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state sH (before the header: 504) or sD (mid-body: the response is cut): the server sent nothing for `timeout server`. Over FastCGI (fcgi-app) the same: `timeout server` bounds the wait for the CGI head; HAProxy 2.6 and 3.0 also wait it out after an END_REQUEST that came without any STDOUT (3.2 answers 502, SH).',
    causes: ['a stuck or slow backend', 'a body that never completes'],
    directives: ['timeout server', 'timeout tunnel (after a WebSocket upgrade)'],
    scenarios: ['never-respond', 'slow-response', 'body-short-hold-open', 'fcgi-never-respond'],
  },
  {
    reason: 'upstream-closed-early',
    example: 'be_x/s 0/0/0/-1/1 502 209 SH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state SH: the server aborted (FIN or RST: HAProxy does not tell them apart in the log) before a complete response header; the client gets 502. Over FastCGI: the backend reset or closed before a complete CGI head, ended the request without one (3.2), or sent a record of a type FastCGI does not have.',
    causes: ['the backend crashed or reset while handling the request', 'the backend closed an idle keep-alive connection HAProxy was reusing', 'a non-HTTP service on the port'],
    directives: ['retry-on (e.g. empty-response, junk-response)', 'http-reuse', 'timeout http-keep-alive on the backend side'],
    scenarios: ['empty-reply', 'reset-after-request', 'partial-head-then-close', 'close-on-accept', 'reset-on-accept', 'keepalive-stale-get', 'keepalive-stale-post', 'fcgi-reset-after-params', 'fcgi-bad-type'],
  },
  {
    reason: 'upstream-truncated',
    example: 'be_x/s 0/0/0/1/2 200 200 SD-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state SD: the server aborted mid-body; the client already has the status line and gets a truncated body. Over FastCGI: the connection closed after the CGI head without END_REQUEST; HAProxy 2.6 does not check the record version, so a version-2 STDOUT record is relayed and then cut the same way.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: ['option http-buffer-request (request side only)'],
    scenarios: ['body-cut-fin-length', 'body-cut-fin-chunked', 'body-cut-reset-length', 'body-cut-reset-chunked', 'websocket-101-then-reset', 'fcgi-stdout-cut-close', 'fcgi-bad-version'],
  },
  {
    reason: 'invalid-header',
    example: 'be_x/s 0/0/0/-1/1 502 209 PH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state PH: HAProxy itself blocked the response before sending anything to the client: a malformed or non-HTTP/1.x reply, a bad header line, two different Content-Lengths, a 101 without Upgrade, a bad first chunk size parsed with the header, or a header block larger than the buffer. The client gets 502. Over FastCGI the same for the CGI head: a line without a colon, or a head larger than the buffer (a 100 KiB header: HAProxy 3.0 and later answer 502; 2.6.12 crashes on it, see fcgi-huge-header).',
    causes: ['a header line without a colon or with forbidden characters', 'a garbage status line, HTTP/0.9, TLS or HTTP/2 on a plain HTTP/1.1 server line', 'a response header over tune.bufsize - tune.maxrewrite, or more than tune.http.maxhdr lines'],
    directives: ['option accept-invalid-http-response (renamed accept-unsafe-violations-in-http-response in later versions)', 'tune.bufsize', 'tune.maxrewrite', 'tune.http.maxhdr (101 headers by default)', 'ssl / proto h2 (server line)'],
    scenarios: ['header-no-colon', 'header-space-before-colon', 'header-control-char', 'header-too-big', 'too-many-headers', 'duplicate-content-length', 'garbage-status-line', 'http09-reply', 'tls-to-plain', 'http2-to-plain', 'invalid-chunk-size', 'websocket-101-no-upgrade', 'fcgi-invalid-header-line'],
  },
  {
    reason: 'invalid-chunked',
    example: 'be_x/s 0/0/0/1/2 200 200 PD-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    meaning: 'termination state PD: HAProxy aborted the response mid-body because the body framing is invalid (a bad chunk size after the header was sent); the client gets a truncated body. A bad first chunk that arrives with the header is blocked as PH instead (invalid-header, 502).',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'no-live-upstreams',
    example: 'be_x/<NOSRV> 0/-1/-1/-1/0 503 217 SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    meaning: 'no usable server in the backend (<NOSRV>): every server is down or in maintenance, e.g. because its name never resolved. The client gets 503 at once.',
    causes: ['the server name never resolved (NXDOMAIN, SERVFAIL, REFUSED, no A record, a silent resolver): HAProxy keeps the server in maintenance and logs nothing per request', 'health checks marked every server down'],
    directives: ['resolvers / hold nx / hold other / hold valid', 'init-addr', 'backup (server)'],
    scenarios: ['dns-nxdomain', 'dns-nodata', 'dns-servfail', 'dns-refused', 'dns-silent', 'dns-flapping'],
  },
  {
    reason: 'dns-nxdomain',
    example: 'Server be_x/s is going DOWN for maintenance (DNS NX status).',
    meaning: 'the resolvers got NXDOMAIN for a server name that had resolved before: HAProxy puts the server in maintenance, and requests get 503 (no server). A name that never resolved logs nothing (see no-live-upstreams).',
    causes: ['a deleted or mistyped DNS record'],
    directives: ['resolvers', 'hold nx', 'hold valid', 'init-addr'],
    scenarios: ['dns-flapping'],
  },
  {
    reason: 'dns-timeout',
    example: 'Server be_x/s is going DOWN for maintenance (DNS timeout status).',
    meaning: 'the resolvers got no answer within `timeout retry` x `resolve_retries`.',
    causes: ['the resolver is down or unreachable'],
    directives: ['resolvers: timeout resolve, timeout retry, resolve_retries, hold timeout'],
    scenarios: [],
  },
  {
    reason: 'dns-refused',
    example: 'Server be_x/s is going DOWN for maintenance (DNS refused status).',
    meaning: 'the resolver refused the query.',
    causes: ['a resolver that does not serve this zone or this client'],
    directives: ['resolvers', 'hold refused'],
    scenarios: [],
  },
  {
    reason: 'dns-failed',
    example: 'Server be_x/s is going DOWN for maintenance (unspecified DNS error).',
    meaning: 'the resolvers could not resolve the server name for another reason (SERVFAIL, an answer without a usable record).',
    causes: ['a broken authoritative server', 'no A record for the name'],
    directives: ['resolvers', 'hold other', 'resolve-prefer'],
    scenarios: [],
  },
] as const satisfies readonly ReasonInfo[];

export const haproxy: GatewayAdapter = {
  id: 'haproxy',
  supportsTlsUpstream: true,
  binary: 'haproxy',
  installHint: 'apt-get install haproxy (Debian/Ubuntu), dnf install haproxy (Fedora), brew install haproxy (macOS)',
  // Debian's packages, one image per release (scripts/build-gateway-image.sh haproxy --release ...).
  measuredOn: [
    { version: '2.6.12', image: 'badgateway/haproxy:bookworm' },
    { version: '3.0.11', image: 'badgateway/haproxy:trixie' },
    { version: '3.2.26', image: 'badgateway/haproxy:sid' },
  ],
  defaultImage: 'haproxy:lts',
  localImage: 'badgateway/haproxy:bookworm',
  versionArgs: ['-v'],
  versionExample: 'HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch - will stop receiving fixes around Q2 2027.\n',
  parseVersion: (output) => /HA-?Proxy version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1],
  render,
  supportsPools: true,
  supportsFastcgi: true,
  supportsH2Upstream: true,
  supportsGrpc: true,
  // -db: foreground, no daemon, no master-worker; SIGTERM stops it at once.
  args: (_prefix, configPath) => ['-db', '-f', configPath],
  testArgs: (_prefix, configPath) => ['-c', '-q', '-f', configPath],
  logFiles: [SYSLOG_FILE],
  syslogFile: SYSLOG_FILE,
  parseLogLine,
  // Request examples start at the backend (the client, date and frontend say nothing); resolver lines are whole.
  exampleLine: (example) => (example.startsWith('Server ') ? example : `badgateway 127.0.0.1:1 [01/Jan/2000:00:00:00.000] badgateway ${example}`),
  reasons: REASONS,
  fromUserConfig,
};

export default haproxy;
