/**
 * nginx: config rendering for a route table, error-log parsing into reasons.
 * Pure. Every path nginx writes (pid, logs, temp files) lives under the prefix.
 */
import { parseIngressAccessLine } from './ingress-nginx-log.js';
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';
import { nginxTlsLines } from './tls-render.js';

const LOG_FORMAT =
  `log_format badgateway escape=json '{"time":"$time_iso8601","request":"$request","status":$status,` +
  `"upstream_status":"$upstream_status","upstream_addr":"$upstream_addr","request_time":$request_time,` +
  `"upstream_response_time":"$upstream_response_time","body_bytes_sent":$body_bytes_sent,"connection":"$connection"}';`;

function sec(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function upstreamName(i: number): string {
  return `badgateway_pool_${i}`;
}

/**
 * What Debian's /etc/nginx/fastcgi_params sends (inline: the prefix holds no include files), plus
 * SCRIPT_FILENAME as PHP setups add it. REQUEST_URI carries the client's URI with its query string:
 * the upstream routes FastCGI requests by its path, and the probe's ?bgp=N tag rides along.
 */
const FASTCGI_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['QUERY_STRING', '$query_string'],
  ['REQUEST_METHOD', '$request_method'],
  ['CONTENT_TYPE', '$content_type'],
  ['CONTENT_LENGTH', '$content_length'],
  ['SCRIPT_NAME', '$fastcgi_script_name'],
  ['SCRIPT_FILENAME', '$document_root$fastcgi_script_name'],
  ['REQUEST_URI', '$request_uri'],
  ['DOCUMENT_URI', '$document_uri'],
  ['DOCUMENT_ROOT', '$document_root'],
  ['SERVER_PROTOCOL', '$server_protocol'],
  ['REQUEST_SCHEME', '$scheme'],
  ['GATEWAY_INTERFACE', 'CGI/1.1'],
  ['SERVER_SOFTWARE', 'nginx/$nginx_version'],
  ['REMOTE_ADDR', '$remote_addr'],
  ['REMOTE_PORT', '$remote_port'],
  ['SERVER_ADDR', '$server_addr'],
  ['SERVER_PORT', '$server_port'],
  ['SERVER_NAME', '$server_name'],
];

function fastcgiLines(route: GatewayRoute): string[] {
  const t = route.target;
  const pass = t.kind === 'tcp' ? hostPort(t.host, t.port) : t.kind === 'unix' ? `unix:${t.path}` : `${t.name}:${t.port}`;
  // A real php-fpm runs the file it is named: the route's script, not the document root's path.
  const value = (k: string, v: string) => (k === 'SCRIPT_FILENAME' && route.scriptFilename !== undefined ? route.scriptFilename : v);
  return [`fastcgi_pass ${pass};`, ...FASTCGI_PARAMS.map(([k, v]) => `fastcgi_param ${k} ${value(k, v)};`)];
}

function locationFor(route: GatewayRoute, i: number, connectMs: number): string {
  const lines: string[] = [];
  const t = route.target;
  const scheme = route.tls ? 'https' : 'http';
  if (route.protocol === 'fastcgi') {
    lines.push(...fastcgiLines(route));
  } else if (route.protocol === 'grpc') {
    // nginx's only HTTP/2 upstream client: grpc_pass speaks h2c (grpc://), or h2 over TLS (grpcs://).
    lines.push(`grpc_pass ${route.tls ? 'grpcs' : 'grpc'}://${t.kind === 'tcp' ? hostPort(t.host, t.port) : t.kind === 'unix' ? `unix:${t.path}` : `${t.name}:${t.port}`};`);
  } else if (route.keepalive) {
    lines.push(`proxy_pass ${scheme}://${upstreamName(i)};`, 'proxy_http_version 1.1;', 'proxy_set_header Connection "";');
  } else if (route.pool) {
    lines.push(`proxy_pass ${scheme}://${upstreamName(i)};`);
  } else if (t.kind === 'tcp') {
    lines.push(`proxy_pass ${scheme}://${hostPort(t.host, t.port)};`);
  } else if (t.kind === 'unix') {
    lines.push(`proxy_pass ${scheme}://unix:${t.path}:;`);
  } else {
    // A variable in proxy_pass makes nginx resolve the name per request through `resolver`.
    lines.push(`set $badgateway_target "${t.name}:${t.port}";`, `proxy_pass ${scheme}://$badgateway_target;`);
  }
  if (route.tls) lines.push(...nginxTlsLines(route.tls, { connectMs, module: route.protocol === 'grpc' ? 'grpc' : 'proxy' }));
  if (route.websocket) {
    lines.push('proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection $badgateway_connection_upgrade;');
  }
  return `    location ${routePath(route.id)} {\n${lines.map((l) => `      ${l}`).join('\n')}\n    }`;
}

/**
 * A route's pool as an upstream group: round robin by weight, `backup` servers only when every
 * other one has failed. nginx's defaults are kept, as a config that just lists servers gets them:
 * proxy_next_upstream error timeout (a GET that fails before any response byte reached the client
 * goes to the next server; a POST does not, non_idempotent being off), max_fails=1 fail_timeout=10s
 * (one failure takes a server out for 10 s), proxy_next_upstream_tries 0 (every server once).
 */
function poolBlock(r: GatewayRoute, name: string): string {
  const servers = r.pool!.map((m) => {
    const t = m.target;
    const addr = t.kind === 'tcp' ? hostPort(t.host, t.port) : t.kind === 'unix' ? `unix:${t.path}` : `${t.name}:${t.port} resolve`;
    return `    server ${addr}${m.weight !== 1 ? ` weight=${m.weight}` : ''}${m.backup ? ' backup' : ''};\n`;
  });
  return `  upstream ${name} {\n${servers.join('')}${r.keepalive ? '    keepalive 8;\n' : ''}  }\n`;
}

function pools(routes: readonly GatewayRoute[]): string {
  return routes
    .map((r, i) => {
      if (r.pool) return poolBlock(r, upstreamName(i));
      if (!r.keepalive || r.protocol === 'fastcgi') return '';
      const t = r.target;
      const server = t.kind === 'tcp' ? hostPort(t.host, t.port) : t.kind === 'unix' ? `unix:${t.path}` : `${t.name}:${t.port} resolve`;
      return `  upstream ${upstreamName(i)} {\n    server ${server};\n    keepalive 8;\n  }\n`;
    })
    .join('');
}

/**
 * The listener for h2c clients (gRPC): \`listen ... http2\`, which every nginx since 1.9.5 reads;
 * 1.25.1 and later warn that it is deprecated in favour of \`http2 on\`, which 1.22 does not know,
 * and the rendered config does not know the version. A listen of its own, so the main one stays HTTP/1.x.
 */
function h2Listen(input: RenderInput): string {
  return input.h2Listen ? `    listen ${hostPort(input.h2Listen.host, input.h2Listen.port)} http2;\n` : '';
}

function render(input: RenderInput): RenderedConfig {
  const p = input.prefix;
  const to = input.timeouts;
  const resolver = input.resolver ? `  resolver ${hostPort(input.resolver.host, input.resolver.port)} valid=1s ipv6=off;\n  resolver_timeout ${sec(to.resolverMs)};\n` : '';
  const conf = `# Rendered by badgateway for one suite run. Every path is under ${p}.
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/logs/error.log info;

events {
  worker_connections 4096;
}

http {
  ${LOG_FORMAT}
  access_log ${p}/logs/access.log badgateway;
  client_body_temp_path ${p}/tmp/client_body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;

  # Short timeouts keep a suite fast; scenarios that test them say so.
  proxy_connect_timeout ${sec(to.connectMs)};
  proxy_read_timeout ${sec(to.readMs)};
  proxy_send_timeout ${sec(to.sendMs)};
  fastcgi_connect_timeout ${sec(to.connectMs)};
  fastcgi_read_timeout ${sec(to.readMs)};
  fastcgi_send_timeout ${sec(to.sendMs)};
  grpc_connect_timeout ${sec(to.connectMs)};
  grpc_read_timeout ${sec(to.readMs)};
  grpc_send_timeout ${sec(to.sendMs)};
${resolver}
  map $http_upgrade $badgateway_connection_upgrade {
    default upgrade;
    '' close;
  }

${pools(input.routes)}
  server {
    listen ${hostPort(input.listen.host, input.listen.port)};
${h2Listen(input)}    server_name badgateway;

    location = ${READY_PATH} {
      access_log off;
      return 200 "ready\\n";
    }

${input.routes.map((r, i) => locationFor(r, i, to.connectMs)).join('\n\n')}
  }
}
`;
  return { files: { 'nginx.conf': conf }, main: 'nginx.conf' };
}

/** `{{name}}` placeholders a user's config may use. */
export const NGINX_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen: 'the address nginx must listen on (required): listen {{listen}};',
  upstream: 'the chaos upstream, host:port (required): proxy_pass http://{{upstream}}; or server {{upstream}};',
  healthy: 'a second upstream that always answers 200, host:port: server {{healthy}} backup;',
  prefix: 'a directory of the run, for any path nginx writes',
  resolver: 'the DNS responder, host:port: resolver {{resolver}};',
};

function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: NGINX_PLACEHOLDERS,
    hints: { listen: '`listen {{listen}};` in the server block', upstream: '`proxy_pass http://{{upstream}};` or `server {{upstream}};` in an upstream block' },
    forbidden: ['pid', 'daemon'],
    forbiddenWhy: "badgateway sets it to keep nginx in the foreground with its pid under the run's prefix.",
  });
  // Our error log (info level) comes first so attribution works whatever the user's config logs.
  const head = `# badgateway: ${file} with its placeholders filled in.\npid ${v.prefix}/nginx.pid;\nerror_log ${v.prefix}/logs/error.log info;\n`;
  return { files: { 'nginx.conf': head + body }, main: 'nginx.conf' };
}

/** The reasons nginx's table documents: the only ones its parser may give. */
export type NginxReason = (typeof REASONS)[number]['reason'];

interface Pattern {
  readonly re: RegExp;
  readonly reason: NginxReason;
}

// Ordered: the first match wins. Messages as nginx writes them (src/http/ngx_http_upstream.c, ngx_http_proxy_module.c).
const PATTERNS: readonly Pattern[] = [
  { re: /\(111: Connection refused\) while connecting to upstream/, reason: 'connect-refused' },
  { re: /connect\(\) to unix:.* failed \((2|111): /, reason: 'connect-refused' },
  { re: /connect\(\) to unix:.* failed \(11: Resource temporarily unavailable\)/, reason: 'connect-queue-full' },
  { re: /upstream timed out \(110: [^)]*\) while connecting to upstream/, reason: 'connect-timeout' },
  // The TLS handshake counts against proxy_connect_timeout (ngx_http_upstream_ssl_init_connection).
  { re: /upstream timed out \(110: [^)]*\) while SSL handshaking to upstream/, reason: 'connect-timeout' },
  // ngx_http_upstream_ssl_handshake: X509_V_ERR_* by number, then the name check (ngx_ssl_check_host).
  { re: /upstream SSL certificate verify error: \((9|10):/, reason: 'tls-cert-expired' },
  { re: /upstream SSL certificate verify error: \((2|18|19|20|21):/, reason: 'tls-cert-untrusted' },
  { re: /upstream SSL certificate does not match/, reason: 'tls-name-mismatch' },
  { re: /SSL_do_handshake\(\) failed \(SSL: .*(unsupported protocol|wrong version number|protocol version|no protocols available|legacy sigalg|no shared cipher|no cipher)/, reason: 'tls-protocol-mismatch' },
  { re: /SSL_do_handshake\(\) failed/, reason: 'tls-handshake-failed' },
  { re: /upstream timed out \(110: [^)]*\) while (reading response header|reading upstream)/, reason: 'read-timeout' },
  { re: /upstream timed out \(110: [^)]*\) while sending request/, reason: 'send-timeout' },
  { re: /\(104: Connection reset by peer\)/, reason: 'upstream-reset' },
  { re: /\(32: Broken pipe\)/, reason: 'upstream-reset' },
  { re: /upstream prematurely closed connection while reading response header/, reason: 'upstream-closed-early' },
  { re: /upstream prematurely closed connection while reading upstream/, reason: 'upstream-truncated' },
  { re: /upstream sent too big header/, reason: 'header-too-big' },
  { re: /upstream sent invalid header/, reason: 'invalid-header' },
  { re: /upstream sent duplicate header line/, reason: 'duplicate-header' },
  { re: /upstream sent "Content-Length" and "Transfer-Encoding"/, reason: 'invalid-header' },
  { re: /upstream sent no valid HTTP\/1\.0 header/, reason: 'no-valid-http' },
  { re: /upstream sent invalid chunked response/, reason: 'invalid-chunked' },
  { re: /upstream sent invalid status/, reason: 'invalid-status' },
  { re: /upstream sent more data than specified/, reason: 'upstream-extra-data' },
  { re: /could not be resolved \(3: Host not found\)/, reason: 'dns-nxdomain' },
  { re: /could not be resolved \(2: Server failure\)/, reason: 'dns-servfail' },
  { re: /could not be resolved \(5: Operation refused\)/, reason: 'dns-refused' },
  { re: /could not be resolved \(110: Operation timed out\)/, reason: 'dns-timeout' },
  { re: /could not be resolved/, reason: 'dns-failed' },
  { re: /no live upstreams/, reason: 'no-live-upstreams' },
  // ngx_http_grpc_module.c: RST_STREAM and GOAWAY from the HTTP/2 upstream.
  { re: /upstream rejected request with error \d+/, reason: 'h2-stream-reset' },
  { re: /upstream sent goaway with error \d+/, reason: 'h2-goaway' },
  // ngx_http_fastcgi_module.c: records it cannot read, and what the backend wrote to stderr.
  { re: /upstream sent (?:unsupported FastCGI protocol version|invalid FastCGI record type|unexpected FastCGI record):/, reason: 'fastcgi-invalid-record' },
  { re: /FastCGI sent in stderr: "Primary script unknown/, reason: 'fastcgi-primary-script-unknown' },
  { re: /FastCGI sent in stderr:/, reason: 'fastcgi-stderr' },
];

const LINE = /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(\w+)\] \d+#\d+: (?:\*(\d+) )?(.*)$/;

function parseLogLine(line: string): LogEntry<NginxReason> | undefined {
  const m = LINE.exec(line);
  if (!m) {
    // ingress-nginx prints its access lines between the error lines: attributed, no reason.
    const a = parseIngressAccessLine(line);
    return a && { raw: line, level: a.status >= 500 ? 'error' : 'info', target: a.target };
  }
  const [, , level, connection, message] = m;
  const req = /, request: "(?:[A-Z]+) (\S+) HTTP\/[\d.]+"/.exec(message!);
  const reason = PATTERNS.find((p) => p.re.test(message!))?.reason;
  return { raw: line, level: level!, reason, target: req?.[1], connection };
}

const REASONS = [
  {
    reason: 'tls-cert-expired',
    // nginx 1.22.1 (bookworm) with proxy_ssl_verify on, in front of tls-expired (tls-not-yet-valid: "(9:certificate is not yet valid)").
    example: 'upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream',
    meaning: 'with proxy_ssl_verify on, the upstream certificate is outside its validity period; nginx closes the connection and the client gets 502. With proxy_ssl_verify off (the default) nginx logs nothing and relays the response.',
    causes: ['a certificate that was not renewed', 'a clock far off on the gateway or the upstream', 'a certificate issued with a start date in the future'],
    directives: ['proxy_ssl_verify', 'proxy_ssl_trusted_certificate'],
    scenarios: ['tls-expired-verify-on', 'tls-not-yet-valid-verify-on'],
  },
  {
    reason: 'tls-cert-untrusted',
    example: 'upstream SSL certificate verify error: (21:unable to verify the first certificate) while SSL handshaking to upstream',
    meaning: 'with proxy_ssl_verify on, the upstream certificate does not chain to proxy_ssl_trusted_certificate: "(18:self-signed certificate)", or "(21:unable to verify the first certificate)" for another CA; 502.',
    causes: ['proxy_ssl_trusted_certificate names another CA than the one that signed the upstream', 'a self-signed upstream certificate', 'the upstream does not send its intermediate certificates'],
    directives: ['proxy_ssl_trusted_certificate', 'proxy_ssl_verify_depth', 'proxy_ssl_verify'],
    scenarios: ['tls-unknown-ca-verify-on', 'tls-self-signed-verify-on'],
  },
  {
    reason: 'tls-name-mismatch',
    example: 'upstream SSL certificate does not match "upstream.badgateway.test" while SSL handshaking to upstream',
    meaning: 'with proxy_ssl_verify on, the certificate is not issued for proxy_ssl_name (by default the proxy_pass host); 502.',
    causes: ['proxy_ssl_name unset, so nginx checks the certificate against the IP address or upstream block name in proxy_pass', 'the upstream serves another site\'s certificate'],
    directives: ['proxy_ssl_name', 'proxy_ssl_server_name', 'proxy_ssl_verify'],
    scenarios: ['tls-wrong-name-verify-on'],
  },
  {
    reason: 'tls-protocol-mismatch',
    example: 'SSL_do_handshake() failed (SSL: error:0A00014D:SSL routines::legacy sigalg disallowed or unsupported) while SSL handshaking to upstream',
    meaning: 'nginx and the upstream share no TLS version, cipher or signature algorithm the OpenSSL security level allows (an upstream that speaks only TLS 1.0 fails so on Debian\'s OpenSSL 3); logged at crit, 502.',
    causes: ['a legacy upstream that speaks only TLS 1.0/1.1', 'proxy_ssl_protocols or proxy_ssl_ciphers narrower than the upstream\'s'],
    directives: ['proxy_ssl_protocols', 'proxy_ssl_ciphers', 'proxy_ssl_conf_command'],
    scenarios: ['tls-only-1-0'],
  },
  {
    reason: 'tls-handshake-failed',
    example: 'SSL_do_handshake() failed (SSL: error:0A000458:SSL routines::tlsv1 unrecognized name:SSL alert number 112) while SSL handshaking to upstream',
    meaning: 'the upstream ended the handshake with an alert: "unrecognized name" when nginx sends no SNI (proxy_ssl_server_name is off by default) to an upstream that needs one; 502.',
    causes: ['an upstream behind SNI routing (a CDN, a shared ingress) while proxy_ssl_server_name is off', 'an upstream that wants a client certificate nginx does not present'],
    directives: ['proxy_ssl_server_name', 'proxy_ssl_name', 'proxy_ssl_certificate / proxy_ssl_certificate_key'],
    scenarios: ['tls-sni-required'],
  },
  {
    reason: 'connect-refused',
    example: 'connect() failed (111: Connection refused) while connecting to upstream',
    meaning: 'nothing listens at the upstream address: connect() was refused (or the unix socket file is missing).',
    causes: ['the backend process is down or restarting', 'wrong port or socket path in the upstream', 'the backend listens on another interface (0.0.0.0 vs 127.0.0.1, IPv4 vs IPv6)'],
    directives: ['proxy_next_upstream error', 'max_fails / fail_timeout (server)', 'backup (server)'],
    scenarios: ['connect-refused'],
  },
  {
    reason: 'connect-queue-full',
    // nginx 1.22.1 (Debian bookworm) in front of a unix socket whose accept queue was full (listen backlog 1, never accepting).
    example: 'connect() to unix:/tmp/a1m/pf/fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream',
    meaning: 'the unix socket\'s accept queue is full, so connect() fails at once (EAGAIN) and the client gets 502 without any wait: the "pool is full" 502 of PHP-FPM behind a unix socket (over TCP the same overload drops SYNs and ends as connect-timeout).',
    causes: ['every PHP-FPM worker is busy (pm.max_children reached) and the listen queue (listen.backlog, capped by net.core.somaxconn) is used up', 'a backend stopped accepting (stuck, or SIGSTOPped) while connections keep coming'],
    directives: ['fastcgi_next_upstream error', 'php-fpm: pm.max_children, listen.backlog', 'net.core.somaxconn'],
    scenarios: ['fcgi-pool-full'],
  },
  {
    reason: 'connect-timeout',
    example: 'upstream timed out (110: Connection timed out) while connecting to upstream',
    meaning: 'the TCP handshake did not complete within proxy_connect_timeout; the client gets 504.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets', 'the host is down on a routed network'],
    directives: ['proxy_connect_timeout', 'proxy_next_upstream timeout'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'read-timeout',
    example: 'upstream timed out (110: Connection timed out) while reading response header from upstream',
    meaning: 'the upstream sent nothing for proxy_read_timeout: before the header the client gets 504; mid-body the response is cut.',
    causes: ['a stuck or slow backend', 'a long computation without streaming', 'a body that never completes'],
    directives: ['proxy_read_timeout', 'proxy_next_upstream timeout', 'fastcgi_read_timeout'],
    scenarios: ['never-respond', 'slow-response', 'body-short-hold-open', 'fcgi-never-respond'],
  },
  {
    reason: 'send-timeout',
    example: 'upstream timed out (110: Connection timed out) while sending request to upstream',
    meaning: 'the upstream did not take the request body within proxy_send_timeout.',
    causes: ['the backend stopped reading (full receive window)'],
    directives: ['proxy_send_timeout', 'proxy_request_buffering'],
    scenarios: [],
  },
  {
    reason: 'upstream-reset',
    example: 'recv() failed (104: Connection reset by peer) while reading response header from upstream',
    meaning: 'the upstream reset the connection (RST): ECONNRESET while nginx read the response or sent the request.',
    causes: ['the backend process crashed or was killed', 'the backend closed a keep-alive connection nginx was reusing', 'a load balancer or conntrack dropped the flow'],
    directives: ['proxy_next_upstream error', 'keepalive_timeout (upstream block) shorter than the backend idle timeout', 'fastcgi_next_upstream error'],
    scenarios: ['reset-after-request', 'reset-on-accept', 'body-cut-reset-length', 'body-cut-reset-chunked', 'fcgi-reset-after-params'],
  },
  {
    reason: 'upstream-closed-early',
    example: 'upstream prematurely closed connection while reading response header from upstream',
    meaning: 'the upstream closed the connection (FIN) before sending a complete response header.',
    causes: ['the backend crashed while handling the request', 'the backend closed an idle keep-alive connection as nginx reused it', 'a non-HTTP service on the port'],
    directives: ['proxy_next_upstream error', 'keepalive_timeout (upstream block)', 'proxy_http_version', 'fastcgi_next_upstream error'],
    scenarios: ['empty-reply', 'partial-head-then-close', 'close-on-accept', 'keepalive-stale', 'fcgi-reset-after-params-unix'],
  },
  {
    reason: 'upstream-truncated',
    example: 'upstream prematurely closed connection while reading upstream',
    meaning: 'the upstream closed the connection mid-body: the client already has the status line and gets a truncated body.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: ['proxy_buffering', 'proxy_max_temp_file_size'],
    scenarios: ['body-cut-fin-length', 'body-cut-fin-chunked'],
  },
  {
    reason: 'header-too-big',
    example: 'upstream sent too big header while reading response header from upstream',
    meaning: 'the response header did not fit proxy_buffer_size.',
    causes: ['large cookies or tokens in Set-Cookie', 'many headers added by the application', 'a debug header dumping state'],
    directives: ['proxy_buffer_size', 'proxy_buffers'],
    scenarios: ['header-too-big', 'too-many-headers'],
  },
  {
    reason: 'invalid-header',
    example: 'upstream sent invalid header: "X-Spaced : value..." while reading response header from upstream',
    meaning: 'a response header line nginx cannot parse (no colon, bad characters, or conflicting framing headers).',
    causes: ['a hand-written HTTP server', 'a header value with a raw control character or NUL', 'Content-Length with Transfer-Encoding'],
    directives: ['ignore_invalid_headers (applies to request headers only)'],
    scenarios: ['header-no-colon', 'header-space-before-colon', 'header-nul-byte', 'header-control-char', 'content-length-and-chunked', 'fcgi-invalid-header-line'],
  },
  {
    reason: 'duplicate-header',
    example: 'upstream sent duplicate header line: "Content-Length: 5", previous value: "Content-Length: 2" while reading response header from upstream',
    meaning: 'the response repeats a header that must be unique (e.g. two Content-Length values); nginx 1.23.0 and later reject it.',
    causes: ['a framework and a middleware both setting Content-Length'],
    directives: [],
    scenarios: ['duplicate-content-length'],
  },
  {
    reason: 'no-valid-http',
    example: 'upstream sent no valid HTTP/1.0 header while reading response header from upstream',
    meaning: 'the reply does not start with an HTTP/1.x status line; nginx relays it to the client as an HTTP/0.9 response (no status line) instead of answering 502.',
    causes: ['a non-HTTP service on the upstream port', 'TLS or HTTP/2 on a port nginx treats as plain HTTP/1.x'],
    directives: ['proxy_pass https:// (for a TLS backend)', 'grpc_pass (for an HTTP/2 backend)'],
    scenarios: ['http09-reply', 'tls-to-plain', 'http2-to-plain', 'garbage-status-line'],
  },
  {
    reason: 'invalid-chunked',
    example: 'upstream sent invalid chunked response while reading upstream',
    meaning: 'the chunked body is malformed; the client already has the status line and gets a truncated body.',
    causes: ['a broken chunked encoder', 'a proxy in between mangling the body'],
    directives: [],
    scenarios: ['invalid-chunk-size'],
  },
  {
    reason: 'invalid-status',
    example: 'upstream sent invalid status "2OO OK" while reading response header from upstream',
    meaning: 'the status line is malformed.',
    causes: ['a hand-written HTTP server'],
    directives: [],
    scenarios: ['garbage-status-line', 'fcgi-status-garbage'],
  },
  {
    reason: 'upstream-extra-data',
    example: 'upstream sent more data than specified in "Content-Length" header while reading upstream',
    meaning: 'the upstream sent more body bytes than its Content-Length said; nginx drops the rest and the connection.',
    causes: ['a wrong Content-Length', 'two different Content-Length headers'],
    directives: [],
    scenarios: ['duplicate-content-length'],
  },
  {
    reason: 'dns-nxdomain',
    example: 'nxdomain.badgateway.test could not be resolved (3: Host not found)',
    meaning: 'the upstream name does not exist (NXDOMAIN, or no A record).',
    causes: ['a deleted or mistyped DNS record', 'a service name not yet registered'],
    directives: ['resolver', 'resolver_timeout', 'valid= (resolver)'],
    scenarios: ['dns-nxdomain', 'dns-nodata'],
  },
  {
    reason: 'dns-servfail',
    example: 'servfail.badgateway.test could not be resolved (2: Server failure)',
    meaning: 'the resolver answered SERVFAIL.',
    causes: ['a broken authoritative server', 'DNSSEC validation failure'],
    directives: ['resolver'],
    scenarios: ['dns-servfail'],
  },
  {
    reason: 'dns-refused',
    example: 'refused.badgateway.test could not be resolved (5: Operation refused)',
    meaning: 'the resolver refused the query.',
    causes: ['a resolver that does not serve this zone or this client'],
    directives: ['resolver'],
    scenarios: ['dns-refused'],
  },
  {
    reason: 'dns-timeout',
    example: 'silent.badgateway.test could not be resolved (110: Operation timed out)',
    meaning: 'the resolver did not answer within resolver_timeout.',
    causes: ['the resolver is down or unreachable', 'UDP to port 53 dropped'],
    directives: ['resolver_timeout', 'resolver'],
    scenarios: ['dns-silent'],
  },
  {
    reason: 'dns-failed',
    example: 'example.test could not be resolved (1: Format error)',
    meaning: 'the upstream name could not be resolved for another reason.',
    causes: ['see the error text in parentheses'],
    directives: ['resolver'],
    scenarios: [],
  },
  {
    reason: 'no-live-upstreams',
    example: 'no live upstreams while connecting to upstream',
    meaning: 'every server of the upstream group is marked failed; nginx did not even try.',
    causes: ['earlier failures reached max_fails within fail_timeout', 'every server of the group refused or reset, and fail_timeout (10 s by default) has not passed yet'],
    directives: ['max_fails', 'fail_timeout', 'backup'],
    scenarios: ['pool-all-down', 'pool-comes-back'],
  },
  {
    reason: 'h2-stream-reset',
    // nginx 1.22.1 (grpc_pass) in front of h2-rst-before-headers (error 7 = REFUSED_STREAM).
    example: 'upstream rejected request with error 7 while reading response header from upstream',
    meaning: 'the HTTP/2 upstream (grpc_pass) reset the stream with RST_STREAM; the number is its error code (2 INTERNAL_ERROR, 7 REFUSED_STREAM, 8 CANCEL). Before the response head the client gets 502; mid-body nginx resets the client\'s stream.',
    causes: ['the gRPC server cancelled or refused the call (overload, shutdown, max concurrent streams)', 'a server-side deadline or panic that resets the stream'],
    directives: ['grpc_next_upstream', 'grpc_read_timeout'],
    scenarios: ['grpc-over-rst-before-headers', 'grpc-over-rst-mid-data'],
  },
  {
    reason: 'h2-goaway',
    example: 'upstream sent goaway with error 0 while reading response header from upstream',
    meaning: 'the HTTP/2 upstream (grpc_pass) sent GOAWAY before answering the request\'s stream; nginx answers 502 and does not retry on its own.',
    causes: ['a gRPC server shutting down gracefully (GOAWAY NO_ERROR with a last-stream-id below the call)', 'a server closing connections after a maximum age'],
    directives: ['grpc_next_upstream error', 'keepalive_requests / keepalive_timeout (upstream block)'],
    scenarios: ['grpc-over-goaway-below-stream'],
  },
  {
    reason: 'fastcgi-invalid-record',
    example: 'upstream sent unsupported FastCGI protocol version: 2 while reading response header from upstream',
    meaning: 'a FastCGI record nginx cannot read: a version other than 1, a type FastCGI does not have ("invalid FastCGI record type: 99"), or END_REQUEST before any STDOUT ("unexpected FastCGI record: 3"); the client gets 502.',
    causes: ['something other than a FastCGI responder on the fastcgi_pass address (an HTTP server, a stray byte shifting the stream)', 'a PHP-FPM worker that ended the request without printing anything'],
    directives: ['fastcgi_pass', 'fastcgi_next_upstream invalid_header'],
    scenarios: ['fcgi-bad-version', 'fcgi-bad-type', 'fcgi-end-without-stdout'],
  },
  {
    reason: 'fastcgi-stderr',
    // The last STDERR record of fcgi-stderr-flood (128 bytes), as nginx 1.26.3 logged it.
    example: `FastCGI sent in stderr: "${'x'.repeat(128)}" while reading response header from upstream`,
    meaning: 'the backend wrote to FastCGI stderr; nginx logs each STDERR record as an error line (cut to what fits its log line) and relays the response as usual.',
    causes: ['PHP warnings and notices with log_errors on and no error_log file (PHP-FPM passes them to the web server)', 'catch_workers_output'],
    directives: ['fastcgi_intercept_errors (for the status, not the stderr)', 'php-fpm: log_errors, error_log, fastcgi.logging'],
    scenarios: ['fcgi-stderr-flood'],
  },
  {
    reason: 'fastcgi-primary-script-unknown',
    example: 'FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream',
    meaning: 'PHP-FPM found no file at SCRIPT_FILENAME; it writes "Primary script unknown" to stderr and answers 404 "File not found.", which nginx relays.',
    causes: ['SCRIPT_FILENAME built from the wrong root ($document_root of another server block, a missing root directive)', 'the PHP file is not there, or PHP-FPM (its chroot, its user) cannot read it', 'try_files missing, so requests for absent .php files reach PHP-FPM'],
    directives: ['fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name', 'root', 'try_files $uri =404', 'fastcgi_intercept_errors'],
    scenarios: ['fcgi-primary-script-unknown'],
  },
] as const satisfies readonly ReasonInfo[];

export const nginx: GatewayAdapter = {
  id: 'nginx',
  supportsTlsUpstream: true,
  binary: 'nginx',
  installHint: 'apt-get install nginx-light (Debian/Ubuntu), dnf install nginx (Fedora), brew install nginx (macOS)',
  // Debian's packages, one image per release (scripts/build-gateway-image.sh nginx --release ...).
  measuredOn: [
    { version: '1.22.1', image: 'badgateway/nginx:bookworm' },
    { version: '1.26.3', image: 'badgateway/nginx:trixie' },
    { version: '1.30.6', image: 'badgateway/nginx:sid' },
  ],
  defaultImage: 'nginx:stable',
  localImage: 'badgateway/nginx:bookworm',
  versionArgs: ['-v'],
  versionExample: 'nginx version: nginx/1.22.1\n',
  parseVersion: (output) => /nginx\/(\d+\.\d+\.\d+)/.exec(output)?.[1],
  render,
  supportsFastcgi: true,
  supportsPools: true,
  supportsGrpc: true,
  noH2UpstreamWhy: 'nginx speaks HTTP/2 to an upstream only with grpc_pass (the grpc-* scenarios); proxy_pass speaks HTTP/1.x',
  args: (prefix, configPath) => ['-p', prefix + '/', '-c', configPath, '-g', 'daemon off;'],
  testArgs: (prefix, configPath) => ['-t', '-q', '-p', prefix + '/', '-c', configPath],
  logFiles: ['logs/error.log'],
  parseLogLine,
  // The examples are the message part, which is what people search for; the parser wants the whole line.
  exampleLine: (example) => `2000/01/01 00:00:00 [error] 1#1: *1 ${example}`,
  reasons: REASONS,
  fromUserConfig,
};

export default nginx;
