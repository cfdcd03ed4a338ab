/**
 * Caddy 2 (reverse_proxy with the http transport): config rendering for a route
 * table, log parsing into reasons. Pure. The config is JSON (Caddy's native
 * format, no adapter in between): admin endpoint off, no config persistence,
 * no automatic HTTPS, storage and logs under the prefix.
 *
 * Caddy logs JSON, one object per line. A failed proxy attempt ends in an
 * `http.log.error` line that carries the request (with ?bgp=<n>) and the Go
 * error text; the access log (`http.log.access`) carries the request and the
 * status. An error after the response head was relayed ("aborting with
 * incomplete response") is logged by the proxy handler without the request, so
 * it cannot be attributed: the client-side fields tell that story.
 */
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, RouteTarget, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';
import { caddyTransportTls, TLS_CONNECT_TIMEOUT_S } from './tls-render.js';

/** Caddy's log, relative to the prefix. */
export const CADDY_LOG = 'logs/caddy.log';

function dur(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function dialFor(route: GatewayRoute): string {
  return dialOf(route.target);
}

function dialOf(t: RouteTarget): string {
  if (t.kind === 'tcp') return hostPort(t.host, t.port);
  if (t.kind === 'unix') return `unix/${t.path}`;
  return `${t.name}:${t.port}`;
}

/**
 * A route's pool. Caddy's defaults are kept for retries and passive health: try_duration 0 and
 * no retries (a failed request is not tried on another upstream), no fail_duration (no
 * upstream is ever marked down). Two choices are ours. The selection policy is round_robin,
 * not Caddy's default random, so a sequence meets the servers in turn as it does through the
 * other gateways; a weight is the upstream listed that many times (round_robin walks the list),
 * as weighted_round_robin exists only from Caddy 2.8. Caddy has no backup server: a pool with
 * backups gets the `first` policy (the first available upstream, in order), primaries before
 * backups, which is Caddy's own way to say failover, and which with the defaults above never
 * moves past the first primary (nothing marks it unavailable).
 */
function poolUpstreams(route: GatewayRoute): Record<string, unknown> {
  const pool = route.pool!;
  if (pool.some((m) => m.backup)) {
    const ordered = [...pool.filter((m) => !m.backup), ...pool.filter((m) => m.backup)];
    return { upstreams: ordered.map((m) => ({ dial: dialOf(m.target) })), load_balancing: { selection_policy: { policy: 'first' } } };
  }
  return {
    upstreams: pool.flatMap((m) => Array.from({ length: m.weight }, () => ({ dial: dialOf(m.target) }))),
    load_balancing: { selection_policy: { policy: 'round_robin' } },
  };
}

/** Where SCRIPT_FILENAME points: nothing is served from it (the upstream routes by REQUEST_URI), but PHP-FPM wants a root. */
export const CADDY_FASTCGI_ROOT = 'htdocs';

/**
 * The fastcgi transport, as php_fastcgi sets it up: SCRIPT_NAME split at ".php", REQUEST_URI the
 * client's URI with its query string (Caddy always sends it). dial_timeout bounds the connect,
 * read_timeout every read of the answer (a missing answer is a 504 after it), write_timeout the
 * request. Caddy 2.6 has no capture_stderr: what the backend writes to STDERR is dropped.
 */
function fastcgiTransport(route: GatewayRoute, input: RenderInput): Record<string, unknown> {
  const to = input.timeouts;
  return {
    protocol: 'fastcgi',
    root: `${input.prefix}/${CADDY_FASTCGI_ROOT}`,
    split_path: ['.php'],
    // A real php-fpm runs the file it is named: the transport's env overrides the SCRIPT_FILENAME Caddy builds.
    ...(route.scriptFilename !== undefined ? { env: { SCRIPT_FILENAME: route.scriptFilename } } : {}),
    dial_timeout: dur(to.connectMs),
    read_timeout: dur(to.readMs),
    write_timeout: dur(to.sendMs),
  };
}

function proxyRoute(route: GatewayRoute, input: RenderInput): unknown {
  const to = input.timeouts;
  if (route.protocol === 'fastcgi') {
    return {
      match: [{ path: [`${routePath(route.id)}*`] }],
      handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: dialFor(route) }], transport: fastcgiTransport(route, input) }],
      terminal: true,
    };
  }
  const transport: Record<string, unknown> = {
    protocol: 'http',
    dial_timeout: dur(to.connectMs),
    // Until the status line and headers are in (nginx: proxy_read_timeout for the head).
    response_header_timeout: dur(to.readMs),
    // Between two reads of the body, and two writes of the request body.
    read_timeout: dur(to.readMs),
    write_timeout: dur(to.sendMs),
    // Caddy pools upstream connections by default; only keepalive routes should.
    keep_alive: route.keepalive ? { enabled: true, max_idle_conns_per_host: 8 } : { enabled: false },
    // HTTP/2 in clear text with prior knowledge (h2c), as Caddyfile's `transport http { versions h2c 2 }`; gRPC needs nothing more.
    ...(route.protocol === 'h2' || route.protocol === 'grpc' ? { versions: ['h2c', '2'] } : {}),
  };
  if (route.tls) {
    transport.tls = caddyTransportTls(route.tls);
    // Caddy's read deadline covers the handshake's reads: give a handshake on a loaded machine the time nginx and HAProxy get.
    transport.read_timeout = dur(Math.max(to.readMs, TLS_CONNECT_TIMEOUT_S * 1000));
  }
  if (route.target.kind === 'dns' && input.resolver) {
    // Names are resolved when dialing, per request, through this resolver.
    transport.resolver = { addresses: [`udp/${hostPort(input.resolver.host, input.resolver.port)}`] };
  }
  // WebSocket upgrades pass through without any setting.
  return {
    match: [{ path: [`${routePath(route.id)}*`] }],
    handle: [{ handler: 'reverse_proxy', ...(route.pool ? poolUpstreams(route) : { upstreams: [{ dial: dialFor(route) }] }), transport }],
    terminal: true,
  };
}

/** The parts of the config that keep Caddy inside the prefix: no admin endpoint, no saved config, storage and logs under it. */
function housekeeping(prefix: string, level = 'DEBUG'): Record<string, unknown> {
  return {
    admin: { disabled: true, config: { persist: false } },
    storage: { module: 'file_system', root: `${prefix}/data` },
    logging: {
      logs: {
        default: {
          writer: { output: 'file', filename: `${prefix}/${CADDY_LOG}`, roll: false },
          encoder: { format: 'json' },
          level,
        },
      },
    },
  };
}

function render(input: RenderInput): RenderedConfig {
  const p = input.prefix;
  const routes = [
    {
      match: [{ path: [READY_PATH] }],
      handle: [{ handler: 'static_response', status_code: 200, body: 'ready' }],
      terminal: true,
    },
    ...input.routes.map((r) => proxyRoute(r, input)),
  ];
  const config = {
    ...housekeeping(p),
    apps: {
      http: {
        servers: {
          badgateway: {
            listen: [hostPort(input.listen.host, input.listen.port)],
            automatic_https: { disable: true },
            // Access log lines for every request (logger http.log.access).
            logs: {},
            routes,
          },
          // h2c clients (gRPC) on a listener of their own, with the same routes: Caddy speaks
          // HTTP/2 in clear text only where a server's protocols say h2c.
          ...(input.h2Listen
            ? { badgateway_h2c: { listen: [hostPort(input.h2Listen.host, input.h2Listen.port)], protocols: ['h1', 'h2c'], automatic_https: { disable: true }, logs: {}, routes } }
            : {}),
        },
      },
    },
  };
  return { files: { 'caddy.json': `${JSON.stringify(config, null, 2)}\n` }, main: 'caddy.json' };
}

/** `{{name}}` placeholders a user's Caddyfile may use. */
export const CADDY_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen: 'the address Caddy must serve (required): http://{{listen}} {',
  upstream: 'the chaos upstream, host:port (required): reverse_proxy {{upstream}}',
  healthy: 'a second upstream that always answers 200, host:port: reverse_proxy {{upstream}} {{healthy}}',
  prefix: 'a directory of the run, for any path Caddy writes',
  resolver: 'the DNS responder, host:port: transport http { resolvers {{resolver}} }',
};

/**
 * A user's Caddyfile: its placeholders filled in and our global options first
 * (admin off, logs as JSON to a file under the prefix). A global options block of
 * its own gets ours at its top.
 */
function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: CADDY_PLACEHOLDERS,
    hints: { listen: '`http://{{listen}} {` as the site address', upstream: '`reverse_proxy {{upstream}}` in the site block' },
    forbidden: ['admin', 'storage', 'pidfile'],
    forbiddenWhy: "badgateway turns Caddy's admin endpoint off and keeps its storage and logs under the run's prefix.",
  });
  const ours = [
    '\tadmin off',
    '\tstorage file_system {',
    `\t\troot ${v.prefix}/data`,
    '\t}',
    '\tauto_https off',
    '\tlog default {',
    `\t\toutput file ${v.prefix}/${CADDY_LOG} {`,
    '\t\t\troll_disabled',
    '\t\t}',
    '\t\tformat json',
    '\t\tlevel DEBUG',
    '\t}',
  ].join('\n');
  const lines = body.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  let out: string;
  if (first >= 0 && lines[first]!.trim() === '{') {
    lines.splice(first + 1, 0, ours);
    out = lines.join('\n');
  } else {
    out = `{\n${ours}\n}\n\n${body}`;
  }
  return { files: { Caddyfile: `# badgateway: ${file} with its placeholders filled in.\n${out}` }, main: 'Caddyfile' };
}

interface CaddyLine {
  level?: string;
  logger?: string;
  msg?: string;
  error?: string;
  status?: number;
  request?: { uri?: string; remote_port?: string; remote_ip?: string };
}

/** The reasons Caddy's table documents: the only ones its parser may give. */
export type CaddyReason = (typeof REASONS)[number]['reason'];

/**
 * Go net/http and Caddy error texts → normalized reasons, first match wins
 * (net/http's transport.go and transfer.go, net's dial and lookup errors, Caddy's reverseproxy).
 * An error text no entry matches gets no reason: a wrong reason is worse than none.
 */
export const CADDY_ERRORS: ReadonlyArray<{ readonly re: RegExp; readonly reason: CaddyReason }> = [
  // Name resolution happens inside the dial: "dial tcp: lookup <name> on <ns>: ...".
  { re: /lookup \S+(?: on \S+)?: no such host/, reason: 'dns-nxdomain' },
  { re: /lookup \S+(?: on \S+)?: (?:i\/o timeout|.*timeout)/, reason: 'dns-timeout' },
  { re: /lookup \S+(?: on \S+)?: /, reason: 'dns-failed' },
  { re: /dial \S+ \S*: connect: connection refused|dial unix \S+: connect: no such file or directory/, reason: 'connect-refused' },
  // EAGAIN from connect() on a unix socket: its accept queue is full (fcgi-pool-full).
  { re: /dial unix \S+: connect: resource temporarily unavailable/, reason: 'connect-queue-full' },
  { re: /dial \S+ \S*: (?:connect: )?(?:i\/o timeout|connection timed out)/, reason: 'connect-timeout' },
  { re: /timeout awaiting response headers/, reason: 'read-timeout' },
  // crypto/x509 and crypto/tls, as the http transport's handshake returns them.
  { re: /x509: certificate has expired or is not yet valid/, reason: 'tls-cert-expired' },
  { re: /x509: certificate signed by unknown authority|tls: failed to verify certificate: x509: .*unknown authority/, reason: 'tls-cert-untrusted' },
  { re: /x509: certificate is valid for .*, not |x509: cannot validate certificate for \S+ because it doesn't contain any IP SANs/, reason: 'tls-name-mismatch' },
  { re: /tls: protocol version not supported|tls: no supported versions|tls: no cipher suite supported|tls: handshake failure.*version/, reason: 'tls-protocol-mismatch' },
  { re: /remote error: tls: |tls: first record does not look like a TLS handshake/, reason: 'tls-handshake-failed' },
  { re: /connection reset by peer/, reason: 'upstream-reset' },
  { re: /server response headers exceeded \d+ bytes/, reason: 'header-too-big' },
  { re: /multiple Content-Length headers/, reason: 'duplicate-header' },
  { re: /malformed HTTP response/, reason: 'no-valid-http' },
  { re: /malformed HTTP (?:status code|version)/, reason: 'invalid-status' },
  // FastCGI transport: a CGI Status header whose code is not a number (Caddy parses it with strconv.Atoi).
  { re: /^strconv\.Atoi: parsing "[^"]*": invalid syntax$/, reason: 'invalid-status' },
  // FastCGI transport: a record header Caddy cannot read (its fcgi client's errors start "fcgi: ").
  { re: /^fcgi: invalid header version$/, reason: 'fastcgi-invalid-record' },
  // transfer.go: `bad Content-Length "abc"`, `unsupported transfer encoding: "gzip"`, `too many transfer encodings: [...]`.
  {
    re: /malformed MIME header|invalid header field|invalid Content-Length|bad Content-Length|unsupported transfer encoding|too many transfer encodings/,
    reason: 'invalid-header',
  },
  { re: /invalid byte in chunk length|malformed chunked encoding|chunk length/, reason: 'invalid-chunked' },
  // golang.org/x/net/http2's Transport: what the upstream's frames did to the stream or the connection.
  { re: /stream error: stream ID \d+; \w+; received from peer/, reason: 'h2-stream-reset' },
  { re: /GOAWAY/, reason: 'h2-goaway' },
  { re: /stream error: stream ID \d+; \w+|connection error: \w+/, reason: 'h2-protocol-error' },
  { re: /i\/o timeout|deadline exceeded/, reason: 'read-timeout' },
  // "transport connection broken: <inner>" alone says nothing: only the inner errors named here are a close.
  { re: /unexpected EOF|^EOF$|: EOF$|server closed idle connection|use of closed network connection|broken pipe/, reason: 'upstream-closed-early' },
  { re: /no upstreams available/, reason: 'no-live-upstreams' },
];

/** A Go net/http or Caddy error text → normalized reason. */
export function caddyReasonOf(err: string): CaddyReason | undefined {
  return CADDY_ERRORS.find((e) => e.re.test(err))?.reason;
}

/** Reasons a mid-body error keeps; any other upstream error there is a cut body. */
const MID_BODY_KEPT: ReadonlySet<CaddyReason> = new Set(['upstream-reset', 'read-timeout', 'invalid-chunked']);

/**
 * The body broke after the head was relayed: the same error text means a cut body, not a failed exchange.
 * A failed write to the client ("writing: ...", or 2.6's bare "write tcp ...: write: ...") or a canceled
 * request context is the client going away, not the upstream: no reason. Newer Caddy prefixes an upstream
 * read error with "reading: ".
 */
function midBodyReason(err: string): CaddyReason | undefined {
  if (/^writing: |context canceled|\bwrite: /.test(err)) return undefined;
  const r = caddyReasonOf(err.replace(/^reading: /, ''));
  return r !== undefined && MID_BODY_KEPT.has(r) ? r : 'upstream-truncated';
}

function parseLogLine(line: string): LogEntry<CaddyReason> | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let j: CaddyLine;
  try {
    j = JSON.parse(line.slice(start)) as CaddyLine;
  } catch {
    return undefined;
  }
  // Every Caddy line that matters names its logger (http.log.error, http.log.access, http.handlers.reverse_proxy);
  // other JSON logs (Traefik's, say) do not, and are not Caddy's to explain.
  if (typeof j !== 'object' || j === null || typeof j.logger !== 'string') return undefined;
  const level = j.level ?? 'info';
  const target = j.request?.uri;
  const logger = j.logger;
  if (logger.startsWith('http.log.access')) return { raw: line, level: 'access', target };
  const err = j.error ?? (logger === 'http.log.error' ? j.msg : undefined);
  if (err === undefined) return target ? { raw: line, level, target } : undefined;
  // The body broke after the head was relayed ("reading from backend", then "aborting with incomplete response").
  const reason = j.msg === 'aborting with incomplete response' || j.msg === 'reading from backend' ? midBodyReason(err) : caddyReasonOf(err);
  return { raw: line, level, reason, target };
}

const REASONS = [
  {
    reason: 'connect-refused',
    example: 'dial tcp 127.0.0.1:9001: connect: connection refused',
    meaning: 'nothing listens at the upstream address; Caddy answers 502 at once (an empty body). With transport fastcgi the same Go parser reads the CGI head: a line without a colon is a 502.',
    causes: ['the backend process is down or restarting', 'wrong port or socket path in the upstream dial address'],
    directives: ['lb_try_duration / lb_try_interval (retry other or the same upstreams for that long)', 'fail_duration (passive health checks)'],
    scenarios: ['connect-refused', 'fcgi-invalid-header-line', 'fcgi-bad-type'],
  },
  {
    reason: 'connect-queue-full',
    // Caddy 2.6.2 (bookworm host) with transport fastcgi in front of a unix socket whose accept queue was full.
    example: 'dialing backend: dial unix /tmp/badgateway-run-4LlBjl/fcgi-pool-full.sock: connect: resource temporarily unavailable',
    meaning: 'the unix socket\'s accept queue is full, so connect() fails at once (EAGAIN) and Caddy answers 502 with an empty body: the "pool is full" of a PHP-FPM behind transport fastcgi.',
    causes: ['every PHP-FPM worker is busy (pm.max_children reached) and its listen.backlog is used up', 'a backend stopped accepting while connections keep coming'],
    directives: ['lb_try_duration / lb_try_interval (retry for that long: the queue may drain)', 'php-fpm: pm.max_children, listen.backlog'],
    scenarios: ['fcgi-pool-full'],
  },
  {
    reason: 'connect-timeout',
    example: 'dial tcp 127.0.0.1:9001: i/o timeout',
    meaning: 'the TCP handshake did not complete within dial_timeout (3 s by default). Caddy 2.6 answers 502, not 504.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['transport http { dial_timeout }', 'lb_try_duration'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'read-timeout',
    example: 'net/http: timeout awaiting response headers',
    meaning: 'the upstream sent no complete head within response_header_timeout: Caddy answers 504. Mid-body, read_timeout cuts the response ("read tcp ...: i/o timeout"). Neither is set by default: Caddy waits as long as the client does. With transport fastcgi, read_timeout bounds every read of the answer: a FastCGI backend that says nothing gets a 504 ("read tcp ...: i/o timeout", "read unix @->...: i/o timeout" on a socket).',
    causes: ['a stuck or slow backend', 'a long computation without streaming'],
    directives: ['transport http { response_header_timeout }', 'transport http { read_timeout }'],
    scenarios: ['never-respond', 'slow-response', 'slow-headers', 'body-short-hold-open', 'fcgi-never-respond'],
  },
  {
    reason: 'upstream-reset',
    example: 'read tcp 127.0.0.1:41234->127.0.0.1:9000: read: connection reset by peer',
    meaning: 'the upstream reset the connection (RST) before the response head: Caddy answers 502. Mid-body the cut is logged as "aborting with incomplete response".',
    causes: ['the backend process crashed or was killed', 'a load balancer or conntrack dropped the flow'],
    directives: ['lb_try_duration (retries only failed dials, not a request already sent)'],
    scenarios: ['reset-after-request', 'reset-on-accept'],
  },
  {
    reason: 'upstream-closed-early',
    example: 'net/http: HTTP/1.x transport connection broken: unexpected EOF',
    meaning: 'the upstream closed the connection before a complete head ("EOF" when nothing came at all): Caddy answers 502. Go\'s transport retries a GET, HEAD or OPTIONS that failed on a reused idle connection before any byte came back; a POST it does not. With transport fastcgi the error is a bare "EOF", whether the backend closed, reset the connection, or ended the request (END_REQUEST) without a CGI head.',
    causes: ['the backend crashed while handling the request', 'the backend closed an idle pooled connection as Caddy reused it', 'a port that closes every connection'],
    directives: ['transport http { keepalive } (shorter than the backend idle timeout)', 'transport http { keepalive off }'],
    scenarios: ['empty-reply', 'partial-head-then-close', 'close-on-accept', 'keepalive-stale-post', 'fcgi-end-without-stdout', 'fcgi-reset-after-params'],
  },
  {
    reason: 'upstream-truncated',
    example: 'aborting with incomplete response',
    meaning: 'the upstream closed the connection mid-body, after Caddy had relayed the head. With Content-Length the client gets a truncated 200; Caddy before 2.7.6 ends a chunked response cleanly, so the client sees a complete-looking short body (2.7.6 and later abort the connection). Before 2.7.6 this line does not name the request.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: ['flush_interval', 'upgrade to Caddy 2.7.6 or later so the client sees the cut'],
    scenarios: ['body-cut-fin-length', 'body-cut-fin-chunked', 'body-cut-reset-length', 'body-cut-reset-chunked'],
  },
  {
    reason: 'invalid-status',
    example: 'net/http: HTTP/1.x transport connection broken: malformed HTTP status code "2OO"',
    meaning: 'the status line is malformed, or is not a status line at all (an HTTP/0.9 reply): Caddy answers 502. With transport fastcgi, a CGI Status header whose code is not a number is logged as the Go error "strconv.Atoi: parsing \"2OO\": invalid syntax" (502).',
    causes: ['a hand-written HTTP server', 'an HTTP/0.9 or non-HTTP service on the port'],
    directives: [],
    scenarios: ['garbage-status-line', 'http09-reply', 'fcgi-status-garbage'],
  },
  {
    reason: 'no-valid-http',
    example: 'net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x15\\x03\\x03\\x00\\x02\\x02("',
    meaning: 'the reply is not HTTP/1.x at all (TLS, HTTP/2 frames): Caddy answers 502 and quotes the bytes.',
    causes: ['TLS on the upstream port: use an https:// upstream or transport http { tls }', 'an HTTP/2-only upstream: transport http { versions h2c }'],
    directives: ['transport http { tls }', 'transport http { versions }'],
    scenarios: ['tls-to-plain', 'http2-to-plain'],
  },
  {
    reason: 'invalid-header',
    example: 'net/http: HTTP/1.x transport connection broken: malformed MIME header: missing colon: "X-Broken-Header-Without-Colon"',
    meaning: 'a response header line Go cannot parse: Caddy answers 502. Header names with a space or control character are dropped instead, and a NUL byte in a value is relayed.',
    causes: ['a hand-written HTTP server'],
    directives: [],
    scenarios: ['header-no-colon'],
  },
  {
    reason: 'duplicate-header',
    example: 'net/http: HTTP/1.x transport connection broken: http: message cannot contain multiple Content-Length headers; got ["2" "5"]',
    meaning: 'two different Content-Length values: a framing error Go refuses; Caddy answers 502.',
    causes: ['a proxy chain that adds its own Content-Length', 'a hand-written HTTP server'],
    directives: [],
    scenarios: ['duplicate-content-length'],
  },
  {
    reason: 'header-too-big',
    example: 'net/http: HTTP/1.x transport connection broken: net/http: server response headers exceeded 1024 bytes; aborted',
    meaning: 'the response head is larger than max_response_header_size (10 MB by default): Caddy answers 502.',
    causes: ['large cookies or tokens in Set-Cookie', 'a debug header dumping state'],
    directives: ['transport http { max_response_header }'],
    scenarios: [],
  },
  {
    reason: 'invalid-chunked',
    example: 'invalid byte in chunk length',
    meaning: 'the chunked body is malformed. Caddy has already sent the head: before 2.7.6 it ends the response cleanly with what it had (often an empty 200), and the line names no request.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: ['invalid-chunk-size'],
  },
  {
    reason: 'fastcgi-invalid-record',
    example: 'fcgi: invalid header version',
    meaning: 'transport fastcgi: a FastCGI record whose header says another version than 1; Caddy answers 502 at once (an empty body). A record of a type FastCGI does not have is not refused: Caddy reads its content as STDOUT, so the CGI head fails to parse instead ("malformed MIME header": invalid-header).',
    causes: ['something other than a FastCGI responder on the port (an HTTP server, another protocol)', 'a stream shifted by a broken FastCGI library or a truncated write'],
    directives: ['reverse_proxy { transport fastcgi } (the upstream must speak FastCGI 1.0)'],
    scenarios: ['fcgi-bad-version'],
  },
  {
    reason: 'no-live-upstreams',
    example: 'no upstreams available',
    meaning: 'every upstream is marked unhealthy or is at its limit (passive health checks: fail_duration / max_fails; active health checks; max_requests), so Caddy has none to try and answers 503.',
    causes: ['earlier failures marked the only upstream down for fail_duration', 'an active health check (health_uri) fails', 'every upstream is at max_requests'],
    directives: ['fail_duration', 'max_fails', 'health_uri', 'lb_try_duration'],
    scenarios: [],
  },
  {
    reason: 'dns-nxdomain',
    example: 'dial tcp: lookup nxdomain.badgateway.test on 10.0.0.2:53: no such host',
    meaning: 'the upstream name does not resolve (NXDOMAIN, or an answer with no address: Go says "no such host" for both): Caddy answers 502.',
    causes: ['a missing or deleted DNS record', 'a typo in the upstream host name', 'a record with only AAAA (or only A) for the family asked'],
    directives: ['transport http { resolvers }', 'dynamic a (upstreams resolved in the background, with refresh)'],
    scenarios: ['dns-nxdomain', 'dns-nodata', 'dns-flapping'],
  },
  {
    reason: 'dns-failed',
    example: 'dial tcp: lookup servfail.badgateway.test on 10.0.0.2:53: server misbehaving',
    meaning: 'the resolver answered SERVFAIL or REFUSED (Go says "server misbehaving" for both): Caddy answers 502.',
    causes: ['the authoritative servers are down or misconfigured', 'a resolver that refuses to recurse for this client'],
    directives: ['transport http { resolvers }'],
    scenarios: ['dns-servfail', 'dns-refused'],
  },
  {
    reason: 'dns-timeout',
    example: 'dial tcp: lookup silent.badgateway.test: i/o timeout',
    meaning: 'the resolver did not answer before dial_timeout, which bounds the lookup too: Caddy answers 502.',
    causes: ['the resolver is down or unreachable', 'UDP to the resolver is dropped'],
    directives: ['transport http { dial_timeout }', 'transport http { resolvers }'],
    scenarios: ['dns-silent'],
  },
  {
    reason: 'h2-stream-reset',
    // Caddy 2.6.2 (versions h2c 2) in front of h2-rst-before-headers, with a gRPC call.
    example: 'http2: Transport: cannot retry err [stream error: stream ID 3; REFUSED_STREAM; received from peer] after Request.Body was written; define Request.GetBody to avoid this error',
    meaning: 'the HTTP/2 upstream reset the stream (RST_STREAM, its code named) before the response head: Caddy answers 502; Go\'s HTTP/2 transport would retry a REFUSED_STREAM only for a request without a body.',
    causes: ['the backend refused or cancelled the stream (overload, max concurrent streams, shutdown)'],
    directives: ['transport http { versions h2c 2 }', 'lb_try_duration / lb_retries'],
    scenarios: ['grpc-over-rst-before-headers'],
  },
  {
    reason: 'h2-goaway',
    example: 'http2: Transport: cannot retry err [http2: Transport received Server\'s graceful shutdown GOAWAY] after Request.Body was written; define Request.GetBody to avoid this error',
    meaning: 'the HTTP/2 upstream sent GOAWAY with a last-stream-id below the request\'s stream: Caddy answers 502 for a request with a body; a bodyless one Go retries on a new connection.',
    causes: ['a backend shutting down gracefully', 'a backend that closes connections after a maximum age or request count'],
    directives: ['transport http { versions h2c 2 }', 'lb_try_duration / lb_retries'],
    scenarios: ['grpc-over-goaway-below-stream'],
  },
  {
    reason: 'h2-protocol-error',
    example: 'stream error: stream ID 3; PROTOCOL_ERROR; mix of request and response pseudo headers',
    meaning: 'Go\'s HTTP/2 transport rejected the upstream\'s frames (an invalid pseudo-header, a window or setting out of range: "connection error: FLOW_CONTROL_ERROR"): Caddy answers 502 with an empty body.',
    causes: ['a hand-written or broken HTTP/2 server', 'a proxy in between that rewrites HTTP/2 frames'],
    directives: ['transport http { versions h2c 2 } (or versions 1.1 for a backend whose HTTP/2 is broken)'],
    scenarios: ['h2-invalid-pseudo-header', 'h2-settings-window-too-big'],
  },
  {
    reason: 'tls-cert-expired',
    // Caddy 2.6.2 (bookworm) in front of tls-expired.
    example: 'x509: certificate has expired or is not yet valid: current time 2026-12-02T00:08:38Z is after 2026-12-01T00:08:24Z',
    meaning: 'the upstream certificate is expired or not valid yet; Caddy verifies by default and answers 502 with an empty body.',
    causes: ['a certificate that was not renewed', 'a clock far off'],
    directives: ['transport http { tls }', 'tls_insecure_skip_verify (turns the check off: do not)'],
    scenarios: ['tls-expired-verify-on', 'tls-not-yet-valid-verify-on'],
  },
  {
    reason: 'tls-cert-untrusted',
    example: 'x509: certificate signed by unknown authority',
    meaning: 'the upstream certificate does not chain to tls_trusted_ca_certs (or, without it, to the system trust store); 502.',
    causes: ['an internal CA not given to Caddy', 'a self-signed upstream certificate'],
    directives: ['tls_trusted_ca_certs (2.8+: tls_trust_pool file)', 'tls_insecure_skip_verify'],
    scenarios: ['tls-unknown-ca-verify-on', 'tls-self-signed-verify-on'],
  },
  {
    reason: 'tls-name-mismatch',
    example: 'x509: certificate is valid for wrong.badgateway.test, not upstream.badgateway.test',
    meaning: 'the certificate is not issued for tls_server_name; without tls_server_name Caddy checks it against the dial address, so an upstream dialled by IP fails with "cannot validate certificate for 127.0.0.1 because it doesn\'t contain any IP SANs" whatever else is right; 502.',
    causes: ['tls_server_name unset with an upstream dialled by IP address', 'the upstream serves another name\'s certificate'],
    directives: ['tls_server_name', 'tls_trusted_ca_certs'],
    scenarios: ['tls-wrong-name-verify-on', 'tls-healthy'],
  },
  {
    reason: 'tls-protocol-mismatch',
    example: 'remote error: tls: protocol version not supported',
    meaning: 'the upstream speaks no TLS version Go\'s client offers (TLS 1.2 and 1.3 by default): a TLS 1.0-only upstream ends the handshake with an alert; 502.',
    causes: ['a legacy upstream that speaks only TLS 1.0/1.1'],
    directives: ['transport http { tls }'],
    scenarios: ['tls-only-1-0'],
  },
  {
    reason: 'tls-handshake-failed',
    example: 'remote error: tls: unrecognized name',
    meaning: 'the upstream ended the handshake with an alert, e.g. "unrecognized name" when Caddy sends no SNI (an upstream dialled by IP, without tls_server_name); 502.',
    causes: ['tls_server_name unset in front of an upstream that routes by SNI', 'an upstream that wants a client certificate (tls_client_auth)'],
    directives: ['tls_server_name', 'tls_client_auth'],
    scenarios: ['tls-sni-required'],
  },
] as const satisfies readonly ReasonInfo[];

/**
 * `caddy version` (`2.6.2` from Debian, `v2.8.4 h1:...` from Caddy's own builds), then
 * `caddy build-info` (`go\tgo1.19.8`): `2.6.2+go1.19.8`, or the release alone without build info.
 */
function parseVersion(output: string): string | undefined {
  const release = /^\s*v?(\d+\.\d+\.\d+)/m.exec(output)?.[1];
  if (!release) return undefined;
  const go = /^go\s+go(\d+\.\d+(?:\.\d+)?)/m.exec(output)?.[1];
  return go ? `${release}+go${go}` : release;
}

export const caddy: GatewayAdapter = {
  id: 'caddy',
  supportsTlsUpstream: true,
  binary: 'caddy',
  installHint: 'apt-get install caddy (Debian/Ubuntu), dnf install caddy (Fedora), brew install caddy (macOS)',
  // Debian's packages, one image per release (scripts/build-gateway-image.sh caddy --release ...);
  // trixie's 2.6.2 is bookworm's release built with a newer Go, which rejects what 1.19 relayed.
  measuredOn: [
    { version: '2.6.2+go1.19.8', image: 'badgateway/caddy:bookworm' },
    { version: '2.6.2+go1.24.4', image: 'badgateway/caddy:trixie' },
    { version: '2.11.4+go1.26.5', image: 'badgateway/caddy:sid' },
  ],
  defaultImage: 'caddy:2',
  localImage: 'badgateway/caddy:bookworm',
  versionArgs: ['version'],
  // The Go toolchain decides part of what Caddy does with malformed upstream headers (net/http's
  // parser), so the version carries it: `2.6.2+go1.19.8`.
  buildInfoArgs: ['build-info'],
  versionExample: 'v2.6.2 h1:wKoFIxpmOJLGl3QXoo6PNbYvGW4xLEgo32GPBEjWL8o=\n\ngo\tgo1.19.8\npath\tgithub.com/caddyserver/caddy/v2/cmd/caddy\n',
  parseVersion,
  render,
  supportsPools: true,
  supportsFastcgi: true,
  supportsH2Upstream: true,
  supportsGrpc: true,
  args: (_prefix, configPath) => ['run', '--config', configPath, ...(configPath.endsWith('.json') ? [] : ['--adapter', 'caddyfile'])],
  testArgs: (_prefix, configPath) => ['validate', '--config', configPath, ...(configPath.endsWith('.json') ? [] : ['--adapter', 'caddyfile'])],
  env: (prefix) => ({ HOME: prefix, XDG_DATA_HOME: `${prefix}/data`, XDG_CONFIG_HOME: `${prefix}/config` }),
  logFiles: [CADDY_LOG],
  parseLogLine,
  // The examples are Go's error text, which 2.6's error log carries as its message; the mid-body one is the
  // reverse proxy's message instead, whose error field only says what broke.
  exampleLine: (example) =>
    JSON.stringify(
      example === 'aborting with incomplete response'
        ? { level: 'error', logger: 'http.handlers.reverse_proxy', msg: example, error: 'unexpected EOF' }
        : { level: 'error', logger: 'http.log.error', msg: example },
    ),
  reasons: REASONS,
  fromUserConfig,
};

export default caddy;
