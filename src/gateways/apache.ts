/**
 * Apache httpd (mod_proxy + mod_proxy_http, mod_proxy_fcgi for FastCGI routes): config rendering for a route
 * table, error-log parsing into reasons. Pure. The config is self-contained: it
 * loads exactly the modules it needs, and every path httpd writes (pid, logs,
 * runtime files, mutexes) lives under the prefix.
 *
 * Attribution: mod_unique_id gives every request a log ID. The access log
 * writes it next to the request line (`%L "%r"`), the error log writes it on
 * every line about that request (`[req %L]`), so error lines carry the log ID
 * as their connection and the access line ties the ID to ?bgp=<n>.
 */
import { apacheTlsLines, apacheTlsSection, TLS_CONNECT_TIMEOUT_S } from './tls-render.js';
import { InputError } from '../errors.js';
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';

/** Where Debian's apache2 package puts its modules. */
export const APACHE_MODULE_DIR = '/usr/lib/apache2/modules';

const MODULES: ReadonlyArray<readonly [string, string]> = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['unixd_module', 'mod_unixd.so'],
  ['log_config_module', 'mod_log_config.so'],
  ['unique_id_module', 'mod_unique_id.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
  ['proxy_fcgi_module', 'mod_proxy_fcgi.so'],
];

/** mod_ssl, for routes to a TLS upstream (SSLProxyEngine). */
const SSL_MODULES: ReadonlyArray<readonly [string, string]> = [
  ['socache_shmcb_module', 'mod_socache_shmcb.so'],
  ['ssl_module', 'mod_ssl.so'],
];

/** What a balancer:// pool needs on top (loaded only when a route has a pool): shared memory for the members' state, the balancer, its default lbmethod. */
const BALANCER_MODULES: ReadonlyArray<readonly [string, string]> = [
  ['slotmem_shm_module', 'mod_slotmem_shm.so'],
  ['proxy_balancer_module', 'mod_proxy_balancer.so'],
  ['lbmethod_byrequests_module', 'mod_lbmethod_byrequests.so'],
];

const ERROR_LOG_FORMAT = '"[%{cu}t] [%-m:%l] [pid %P:tid %T] [req %-L] %-E: %M"';
const ACCESS_LOG_FORMAT = '"[%{%Y-%m-%dT%H:%M:%S}t] [req %L] \\"%r\\" %>s %B %D"';

/** HTTP/2 to upstreams (mod_proxy_http2), loaded only when a route speaks it. */
const H2_PROXY_MODULES: ReadonlyArray<readonly [string, string]> = [['proxy_http2_module', 'mod_proxy_http2.so']];
/** HTTP/2 from clients (mod_http2), loaded only for the h2c listener. */
const H2_MODULES: ReadonlyArray<readonly [string, string]> = [['http2_module', 'mod_http2.so']];

function isH2(route: GatewayRoute): boolean {
  return route.protocol === 'h2' || route.protocol === 'grpc';
}

/**
 * The listener for h2c clients (gRPC): a virtual host of its own speaking h2c with prior knowledge
 * (H2Direct), which inherits the main server's ProxyPass lines; the main listener stays HTTP/1.x.
 */
function h2Listener(input: RenderInput): string {
  if (!input.h2Listen) return '';
  const at = hostPort(input.h2Listen.host, input.h2Listen.port);
  return `Listen ${at}\n<VirtualHost ${at}>\n  Protocols h2c http/1.1\n  H2Direct on\n</VirtualHost>\n`;
}

/** Modules may be built in (Debian builds mod_unixd in): load each only when it is not there yet. */
function loadModules(mods: ReadonlyArray<readonly [string, string]>): string {
  return mods.map(([name, file]) => `<IfModule !${name}>\n  LoadModule ${name} ${APACHE_MODULE_DIR}/${file}\n</IfModule>`).join('\n');
}

function sec(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}` : `${ms}ms`;
}

/** Why a route cannot be rendered for Apache, or undefined when it can. */
export function apacheUnsupported(route: GatewayRoute): string | undefined {
  if (route.target.kind === 'dns') {
    return 'Apache resolves upstream names with the system resolver only (no per-proxy resolver directive), so it cannot be pointed at badgateway\'s DNS responder';
  }
  return undefined;
}

function proxyPassFor(route: GatewayRoute, to: RenderInput['timeouts']): string {
  const t = route.target;
  const path = routePath(route.id);
  let url: string;
  // mod_proxy_fcgi sends REQUEST_URI as the client sent it (query included), whatever the URL's path.
  // mod_proxy_http2: h2c:// is HTTP/2 in clear text with prior knowledge; a gRPC call needs nothing more.
  const scheme = route.protocol === 'fastcgi' ? 'fcgi' : isH2(route) ? (route.tls ? 'h2' : 'h2c') : route.tls ? 'https' : 'http';
  if (t.kind === 'tcp') url = `${scheme}://${hostPort(t.host, t.port)}${path}`;
  else if (t.kind === 'unix') url = `unix:${t.path}|${scheme}://localhost${path}`;
  else throw new InputError('BG_GATEWAY_UNSUPPORTED', `apache: route ${route.id}: ${apacheUnsupported(route)}.`);
  const params = [
    `connectiontimeout=${sec(to.connectMs)}`,
    // The handshake with a TLS backend runs under timeout=: give it the 3 s the other gateways get.
    `timeout=${sec(route.tls ? Math.max(to.readMs, TLS_CONNECT_TIMEOUT_S * 1000) : to.readMs)}`,
    // A failed connect would otherwise put the worker in error state for 60 s and answer 503 without trying.
    'retry=0',
  ];
  // Apache pools backend connections by default; only keepalive routes should.
  if (!route.keepalive) params.push('disablereuse=On');
  if (route.websocket) params.push('upgrade=websocket');
  const pass = `ProxyPass "${path}" "${url}" ${params.join(' ')}` + (route.tls ? `\n${apacheTlsSection(url, route.tls)}` : '');
  // mod_proxy_fcgi sends SCRIPT_FILENAME as proxy:fcgi://...; a real php-fpm needs the file it runs.
  if (route.protocol === 'fastcgi' && route.scriptFilename !== undefined) {
    return `${pass}\n<Location "${path}">\n  ProxyFCGISetEnvIf "true" SCRIPT_FILENAME "${route.scriptFilename}"\n</Location>`;
  }
  return pass;
}

/**
 * A route's pool as a mod_proxy_balancer balancer: a BalancerMember per server, loadfactor for
 * its weight, status=+H (hot standby) for a backup, lbmethod=byrequests (the default, said
 * out loud). Apache's defaults are kept: a member whose connect fails is put in error state and
 * skipped for retry=60 s, and the request goes to another member (maxattempts: one per other
 * member); a failure after the request was sent is not retried. The per-request timeouts are
 * the single routes' ones.
 */
function balancerFor(route: GatewayRoute, to: RenderInput['timeouts']): string {
  const path = routePath(route.id);
  const name = `balancer://bg-${route.id}`;
  const members = route.pool!.map((m) => {
    const t = m.target;
    if (t.kind !== 'tcp') throw new InputError('BG_GATEWAY_UNSUPPORTED', `apache: route ${route.id}: a pool member must be a TCP address.`);
    const params = [`connectiontimeout=${sec(to.connectMs)}`, `timeout=${sec(to.readMs)}`];
    if (m.weight !== 1) params.push(`loadfactor=${m.weight}`);
    if (m.backup) params.push('status=+H');
    if (!route.keepalive) params.push('disablereuse=On');
    if (route.websocket) params.push('upgrade=websocket');
    return `  BalancerMember "${route.tls ? 'https' : 'http'}://${hostPort(t.host, t.port)}" ${params.join(' ')}`;
  });
  const tls = route.tls ? apacheTlsLines(route.tls).map((l) => `\n  ${l}`).join('') : '';
  return `<Proxy "${name}">\n${members.join('\n')}\n  ProxySet lbmethod=byrequests${tls}\n</Proxy>\nProxyPass "${path}" "${name}${path}"`;
}

function render(input: RenderInput): RenderedConfig {
  const p = input.prefix;
  const to = input.timeouts;
  for (const r of input.routes) {
    const why = apacheUnsupported(r);
    if (why) throw new InputError('BG_GATEWAY_UNSUPPORTED', `apache cannot serve route ${r.id}: ${why}.`);
  }
  const conf = `# Rendered by badgateway for one suite run. Every path httpd writes is under ${p}.
ServerRoot "${p}"
${loadModules([...MODULES, ...(input.routes.some((r) => r.pool) ? BALANCER_MODULES : []), ...(input.routes.some(isH2) ? H2_PROXY_MODULES : []), ...(input.h2Listen ? H2_MODULES : []), ...(input.routes.some((r) => r.tls) ? SSL_MODULES : [])])}

ServerName badgateway
Listen ${hostPort(input.listen.host, input.listen.port)}
PidFile "${p}/apache.pid"
DefaultRuntimeDir "${p}/tmp"
Mutex file:${p}/tmp default
# Workers run as nobody when started by root (ignored otherwise).
User #65534
Group #65534

# One child process, so a keepalive route has one connection pool.
StartServers 1
ServerLimit 1
ThreadLimit 200
ThreadsPerChild 200
MaxRequestWorkers 200
MinSpareThreads 1
MaxSpareThreads 400
MaxConnectionsPerChild 0

ErrorLog "${p}/logs/error.log"
LogLevel warn proxy:info proxy_http:info proxy_fcgi:info${input.routes.some(isH2) ? ' proxy_http2:info' : ''}${input.routes.some((r) => r.tls) ? ' ssl:info' : ''}
ErrorLogFormat ${ERROR_LOG_FORMAT}
LogFormat ${ACCESS_LOG_FORMAT} badgateway
CustomLog "${p}/logs/access.log" badgateway

# Short timeouts keep a suite fast; scenarios that test them say so.
ProxyTimeout ${Math.max(1, Math.ceil(to.readMs / 1000))}
ProxyRequests Off
ProxyPreserveHost Off

DocumentRoot "${p}/htdocs"
<Directory />
  Require all denied
</Directory>
<Directory "${p}/htdocs">
  Require all granted
</Directory>
<Location "/s/">
  Require all granted
</Location>

${input.routes.map((r) => (r.pool ? balancerFor(r, to) : proxyPassFor(r, to))).join('\n')}
${h2Listener(input)}`;
  return { files: { 'apache.conf': conf, [`htdocs${READY_PATH}`]: 'ready\n' }, main: 'apache.conf' };
}

/** `{{name}}` placeholders a user's config may use. */
export const APACHE_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen: 'the address httpd must listen on (required): Listen {{listen}}',
  upstream: 'the chaos upstream, host:port (required): ProxyPass "/" "http://{{upstream}}/"',
  healthy: 'a second upstream that always answers 200, host:port: BalancerMember http://{{healthy}} status=+H',
  prefix: 'a directory of the run, for any path httpd writes',
  modules: `the directory of httpd's modules (${APACHE_MODULE_DIR}): LoadModule proxy_module {{modules}}/mod_proxy.so`,
};

function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: APACHE_PLACEHOLDERS,
    hints: { listen: '`Listen {{listen}}`', upstream: '`ProxyPass "/" "http://{{upstream}}/"` or `BalancerMember http://{{upstream}}`' },
    forbidden: ['PidFile', 'ErrorLog', 'ErrorLogFormat'],
    forbiddenWhy: "badgateway sets it to keep httpd's pid and error log under the run's prefix, in a format it can attribute.",
    caseInsensitive: true,
    extra: { modules: APACHE_MODULE_DIR },
  });
  const loaded = (mod: string) => new RegExp(`^\\s*LoadModule\\s+${mod}\\s`, 'mi').test(body);
  const mods = MODULES.filter(([name]) => !loaded(name) && !(name === 'mpm_event_module' && /^\s*LoadModule\s+mpm_\w+_module\s/mi.test(body)));
  const head = `# badgateway: ${file} with its placeholders filled in.
ServerRoot "${v.prefix}"
${loadModules(mods)}
PidFile "${v.prefix}/apache.pid"
DefaultRuntimeDir "${v.prefix}/tmp"
Mutex file:${v.prefix}/tmp default
ErrorLog "${v.prefix}/logs/error.log"
LogLevel warn proxy:info proxy_http:info
ErrorLogFormat ${ERROR_LOG_FORMAT}
LogFormat ${ACCESS_LOG_FORMAT} badgateway
CustomLog "${v.prefix}/logs/access.log" badgateway
`;
  return { files: { 'apache.conf': head + body }, main: 'apache.conf' };
}

/**
 * The OS/APR error in the line's prefix, e.g. `(104)Connection reset by peer: `.
 * 70007 APR_TIMEUP, 70008 APR_INCOMPLETE, 70014 APR_EOF, 20014 APR_EGENERAL.
 */
function errnoOf(message: string): number | undefined {
  const e = /^\((-?\d+)\)/.exec(message)?.[1];
  return e === undefined ? undefined : Number(e);
}

const RESET = new Set([104, 32]);
const TIMEOUT = new Set([70007, 110]);

/** The reasons Apache's table documents: the only ones its parser may give. */
export type ApacheReason = (typeof REASONS)[number]['reason'];

/** Messages as httpd 2.4 writes them (modules/proxy/mod_proxy_http.c, proxy_util.c, server/protocol.c). */
function reasonOf(message: string): ApacheReason | undefined {
  const code = /AH(\d{5}):/.exec(message)?.[1];
  if (code === undefined) return undefined;
  const errno = errnoOf(message);
  switch (code) {
    // "error reading status line from remote server": nothing usable before the status line.
    case '01102':
      if (errno !== undefined && TIMEOUT.has(errno)) return 'read-timeout';
      if (errno !== undefined && RESET.has(errno)) return 'upstream-reset';
      return 'upstream-closed-early';
    // "error reading response": the body broke after the head was relayed.
    case '01110':
      if (errno !== undefined && TIMEOUT.has(errno)) return 'read-timeout';
      if (errno !== undefined && RESET.has(errno)) return 'upstream-reset';
      if (errno === 20014) return 'invalid-chunked';
      return 'upstream-truncated';
    // "Error reading headers from backend": EOF inside the head, or a byte the parser refuses.
    case '10404':
      if (errno === 70014) return 'upstream-closed-early';
      if (errno !== undefined && RESET.has(errno)) return 'upstream-reset';
      if (errno !== undefined && TIMEOUT.has(errno)) return 'read-timeout';
      return 'invalid-header';
    // "bad HTTP/1.1 header returned by ..." (ProxyBadHeader IsError).
    case '01106':
      return 'invalid-header';
    // "Response header name '...' contains invalid characters, aborting request" (500).
    case '02429':
    case '02430':
      return 'invalid-header';
    // "header size is over the limit allowed by ResponseFieldSize".
    case '10124':
    case '01103':
      return 'header-too-big';
    // "HTTP: failed to make connection to backend": refused or timed out (the server-level AH00957 line before it says which).
    case '01114':
    // mod_proxy_fcgi's own "failed to make connection to backend".
    case '01079':
      return 'connect-failed';
    case '00957':
    case '02454':
      return errno !== undefined && TIMEOUT.has(errno) ? 'connect-timeout' : 'connect-refused';
    // "Unexpected Upgrade: ... (expecting websocket)".
    case '00898':
      // "Error during SSL Handshake with remote server": mod_ssl's own ssl:info lines say why, but name no request.
      return /Unexpected Upgrade/.test(message) ? 'invalid-upgrade' : /Error during SSL Handshake with remote server/.test(message) ? 'tls-handshake-failed' : undefined;
    // "pass request body failed": writing the request to the backend broke. The AH01084 line
    // carries the errno (a reset on accept shows up here when the reset wins the race with
    // the request write); AH01097, the request's summary line, usually has none.
    case '01084':
    case '01097':
      if (errno !== undefined && TIMEOUT.has(errno)) return 'send-timeout';
      if (errno !== undefined && RESET.has(errno)) return 'upstream-reset';
      return undefined;
    // mod_proxy_fcgi.c: a record it cannot read ("Got bogus version 2", "Got bogus record 99").
    case '01068':
    case '01072':
      return 'fastcgi-invalid-record';
    // "Got error '...'": one line per FastCGI STDERR record.
    case '01071':
      return /Got error 'Primary script unknown/.test(message) ? 'fastcgi-primary-script-unknown' : 'fastcgi-stderr';
    // "Error parsing script headers": the CGI head in STDOUT (a line without a colon).
    case '01070':
      return 'invalid-header';
    // "Error dispatching request to <backend>: (<what it was doing>)": the errno says what broke.
    // EOF while reading a record header cannot tell a missing head from a short body: both are
    // early closes unless httpd says it was reading the body.
    case '01075':
      if (errno !== undefined && TIMEOUT.has(errno)) return 'read-timeout';
      if (errno !== undefined && RESET.has(errno)) return 'upstream-reset';
      if (errno === 70014) return /\(reading response body\)/.test(message) ? 'upstream-truncated' : 'upstream-closed-early';
      return undefined;
    default:
      return undefined;
  }
}

const LINE = /^\[([^\]]*)\] \[([\w.]+):(\w+)\] \[pid \d+(?::tid \d+)?\] \[req ([^\]]*)\] (.*)$/;
const ACCESS = /^\[([^\]]*)\] \[req ([^\]]*)\] "(?:[A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;

/**
 * A line in httpd's default ErrorLogFormat, or a bare message (pasted into `explain`):
 * `[Tue Nov 24 ...] [proxy_http:error] [pid 1:tid 2] (104)Connection reset by peer: [client 10.0.0.1:5555] AH01102: ...`.
 * It names no request, so it only carries a reason.
 */
function parseForeignLine(line: string): LogEntry<ApacheReason> | undefined {
  if (!/AH\d{5}:/.test(line)) return undefined;
  const level = /\[[\w.]+:(\w+)\]/.exec(line)?.[1] ?? 'error';
  const message = line
    .replace(/^(?:\[[^\]]*\]\s*)+/, '')
    .replace(/\[client [^\]]*\]\s*/g, '');
  return { raw: line, level, reason: reasonOf(message) };
}

function parseLogLine(line: string): LogEntry<ApacheReason> | undefined {
  const a = ACCESS.exec(line);
  if (a) {
    const [, , id, target] = a;
    return { raw: line, level: 'access', target, connection: id === '-' ? undefined : id };
  }
  const m = LINE.exec(line);
  if (!m) return parseForeignLine(line);
  const [, , , level, id, message] = m;
  return { raw: line, level: level!, reason: reasonOf(message!), connection: id === '-' ? undefined : id };
}

const REASONS = [
  {
    reason: 'tls-handshake-failed',
    // Apache 2.4.62 (bookworm) in front of every tls-* fault whose handshake fails, tlsVerify default and on.
    example: 'AH00898: Error during SSL Handshake with remote server returned by /s/tls-expired/',
    meaning: 'the TLS handshake with the backend failed, and httpd answers 500 (not 502), after "AH01084: pass request body failed". The request\'s lines never say why: an expired or untrusted certificate, a name that does not match, a protocol or an alert all read alike; mod_ssl\'s own lines at LogLevel ssl:info name the cause but no request. Note that SSLProxyCheckPeerName and SSLProxyCheckPeerExpire are on by default even with SSLProxyVerify none: an expired certificate, or one whose dNSNames and CN do not hold the backend URL\'s host, fails here; a backend addressed by IP needs that address as a dNSName or the CN (mod_ssl 2.4 compares no iPAddress SAN).',
    causes: ['the backend certificate has no SAN for the host in the ProxyPass URL (an IP address, most often)', 'SSLProxyVerify require with a certificate that does not chain to SSLProxyCACertificateFile', 'an expired backend certificate (SSLProxyCheckPeerExpire on by default)', 'a backend that needs SNI: httpd sends none for an IP address'],
    directives: ['SSLProxyEngine', 'SSLProxyVerify', 'SSLProxyCACertificateFile', 'SSLProxyCheckPeerName / SSLProxyCheckPeerCN / SSLProxyCheckPeerExpire', 'SSLProxyProtocol', 'SSLProxyMachineCertificateFile', 'LogLevel ssl:info'],
    scenarios: ['tls-expired', 'tls-healthy'],
  },
  {
    reason: 'connect-failed',
    example: 'AH01114: HTTP: failed to make connection to backend: 127.0.0.1',
    meaning: 'httpd could not connect to the backend and answered 503 (not 502 or 504). The request\'s line does not say why; the server-level AH00957 line just before it does (refused or timed out).',
    causes: ['nothing listens at the backend address (refused)', 'the backend accept queue is full, so the handshake times out after connectiontimeout', 'wrong port or socket path in ProxyPass'],
    directives: ['ProxyPass connectiontimeout=', 'ProxyPass retry= (a failed worker is put in error state for 60 s by default and answers 503 without trying)', 'BalancerMember status=+H (hot standby)'],
    scenarios: ['connect-refused', 'accept-queue-full'],
  },
  {
    reason: 'connect-refused',
    example: '(111)Connection refused: AH00957: http: attempt to connect to 127.0.0.1:9001 (127.0.0.1:9001) failed',
    meaning: 'nothing listens at the backend address. httpd logs this line without naming the request; the request\'s own line is AH01114 (connect-failed).',
    causes: ['the backend process is down or restarting', 'wrong port or socket path in ProxyPass'],
    directives: ['ProxyPass retry=', 'ProxyPass connectiontimeout='],
    scenarios: [],
  },
  {
    reason: 'connect-timeout',
    example: '(110)Connection timed out: AH00957: http: attempt to connect to 127.0.0.1:9001 (127.0.0.1:9001) failed',
    meaning: 'the TCP handshake did not complete within connectiontimeout. Logged without naming the request; the request\'s own line is AH01114 (connect-failed).',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['ProxyPass connectiontimeout=', 'ProxyPass retry='],
    scenarios: [],
  },
  {
    reason: 'read-timeout',
    example: '(70007)The timeout specified has expired: AH01102: error reading status line from remote server 127.0.0.1:9000',
    meaning: 'the backend sent nothing for ProxyTimeout (or ProxyPass timeout=). Before the status line httpd answers 502 Proxy Error (nginx: 504); mid-body the response is cut. Over FastCGI (mod_proxy_fcgi) the line is "(70007)The timeout specified has expired: AH01075: Error dispatching request to ...: (polling)" and the client gets 504.',
    causes: ['a stuck or slow backend', 'a long computation without streaming'],
    directives: ['ProxyTimeout', 'ProxyPass timeout=', 'Timeout'],
    scenarios: ['never-respond', 'slow-response', 'body-short-hold-open', 'fcgi-never-respond'],
  },
  {
    reason: 'send-timeout',
    example: '(70007)The timeout specified has expired: AH01084: pass request body failed to 127.0.0.1:9000 (127.0.0.1)',
    meaning: 'the backend did not take the request in time (AH01084 says why, AH01097 names the request).',
    causes: ['the backend stopped reading'],
    directives: ['ProxyTimeout', 'ProxyPass timeout='],
    scenarios: [],
  },
  {
    reason: 'upstream-reset',
    example: '(104)Connection reset by peer: AH01102: error reading status line from remote server 127.0.0.1:9000',
    meaning: 'the backend reset the connection (RST) while httpd read the response: before the status line the client gets 502; mid-body (AH01110) a truncated body. Over FastCGI: "(104)Connection reset by peer: AH01075: Error dispatching request to ...", 503.',
    causes: ['the backend process crashed or was killed', 'the backend closed a pooled connection httpd was reusing', 'a load balancer or conntrack dropped the flow'],
    directives: ['ProxyPass disablereuse=On', 'ProxyPass ttl= (shorter than the backend idle timeout)', 'SetEnv proxy-initial-not-pooled'],
    scenarios: ['reset-after-request', 'reset-on-accept', 'body-cut-reset-length', 'body-cut-reset-chunked', 'fcgi-reset-after-params'],
  },
  {
    reason: 'upstream-closed-early',
    example: '(20014)Internal error (specific information not available): AH01102: error reading status line from remote server 127.0.0.1:9000',
    meaning: 'the backend closed the connection before a complete status line and header; the client gets 502 Proxy Error, followed by "AH00898: Error reading from remote server". On a reused pooled connection httpd does not retry, whatever the method. Over FastCGI: "AH01067: Failed to read FastCGI header" then "(70014)End of file found: AH01075: Error dispatching request to ...": 503 before the CGI head; after it, the client keeps what was relayed (a short body, or a whole one when only END_REQUEST was missing), since the line cannot tell.',
    causes: ['the backend crashed while handling the request', 'the backend closed an idle pooled connection as httpd reused it', 'a non-HTTP service (TLS, HTTP/2) on the port'],
    directives: ['ProxyPass disablereuse=On', 'ProxyPass ttl=', 'SetEnv proxy-initial-not-pooled', 'ProxyPass retry='],
    scenarios: ['empty-reply', 'partial-head-then-close', 'close-on-accept', 'keepalive-stale-get', 'keepalive-stale-post', 'tls-to-plain', 'http2-to-plain', 'fcgi-reset-after-params-unix', 'fcgi-stdout-cut-close', 'fcgi-no-end-request'],
  },
  {
    reason: 'upstream-truncated',
    example: '(70008)Partial results are valid but processing is incomplete: AH01110: error reading response',
    meaning: 'the backend closed the connection mid-body: the client already has the status line and gets a truncated body. Over FastCGI: "(70014)End of file found: AH01075: Error dispatching request to ...: (reading response body)".',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: ['ProxyIOBufferSize', 'ProxyPass flushpackets='],
    scenarios: ['body-cut-fin-length', 'body-cut-fin-chunked', 'fcgi-length-beyond-data'],
  },
  {
    reason: 'invalid-chunked',
    example: '(20014)Internal error (specific information not available): AH01110: error reading response',
    meaning: 'the chunked body is malformed. httpd found it before relaying anything, so the client gets 502 instead of a truncated 200.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: ['invalid-chunk-size'],
  },
  {
    reason: 'header-too-big',
    example: "(28)No space left on device: AH10124: header size is over the limit allowed by ResponseFieldSize (8192 bytes). Bad response header: 'X-Huge: aaaa[...]aaaa'",
    meaning: 'one response header line is longer than the limit (8190 bytes by default); httpd answers 502 and adds an AH01106 "bad HTTP/1.1 header" line.',
    causes: ['large cookies or tokens in Set-Cookie', 'a debug header dumping state'],
    directives: ['ProxyPass responsefieldsize= (2.4.59+)', 'LimitRequestFieldSize (before 2.4.59)', 'ProxyIOBufferSize'],
    scenarios: ['header-too-big'],
  },
  {
    reason: 'invalid-header',
    example: 'AH01106: bad HTTP/1.1 header returned by /s/header-no-colon/ (GET)',
    meaning: 'a response header line httpd cannot parse: no colon or a NUL byte gives 502 (AH01106, AH10404); a header name with a space or control character gives 500 (AH02429 "Response header name ... contains invalid characters"). Over FastCGI a CGI head line without a colon is "AH01070: Error parsing script headers" (after "malformed header from script"), and the client gets 500 with no body.',
    causes: ['a hand-written HTTP server', 'a header value with a raw control character or NUL'],
    directives: ['ProxyBadHeader (IsError, Ignore, StartBody) for lines without a colon'],
    scenarios: ['header-no-colon', 'header-nul-byte', 'header-space-before-colon', 'header-control-char', 'fcgi-invalid-header-line'],
  },
  {
    reason: 'invalid-upgrade',
    example: 'AH00898: Unexpected Upgrade: n/a (expecting websocket) returned by /s/websocket-101-no-upgrade/',
    meaning: 'the backend answered 101 without the Upgrade the client asked for; httpd refuses to open the tunnel and answers 502.',
    causes: ['a backend that answers 101 without Upgrade and Connection headers'],
    directives: ['ProxyPass upgrade='],
    scenarios: ['websocket-101-no-upgrade'],
  },
  {
    reason: 'fastcgi-invalid-record',
    example: 'AH01068: Got bogus version 2',
    meaning: 'mod_proxy_fcgi read a record it cannot use: a version other than 1 (AH01068) or a type FastCGI does not have (AH01072 "Got bogus record 99"); httpd answers 503, not 502, and an AH01075 line follows.',
    causes: ['something other than a FastCGI responder at the fcgi:// address', 'a stray byte shifting the record stream'],
    directives: ['ProxyPass fcgi://', 'ProxyFCGIBackendType'],
    scenarios: ['fcgi-bad-version', 'fcgi-bad-type'],
  },
  {
    reason: 'fastcgi-stderr',
    // The last STDERR record of fcgi-stderr-flood (128 bytes), as httpd 2.4.71 logged it.
    example: `AH01071: Got error '${'x'.repeat(128)}'`,
    meaning: 'the backend wrote to FastCGI stderr; mod_proxy_fcgi logs each STDERR record as an error line ("Got error") and relays the response as usual.',
    causes: ['PHP warnings and notices with log_errors on and no error_log file (PHP-FPM passes them to the web server)'],
    directives: ['LogLevel proxy_fcgi:', 'php-fpm: log_errors, error_log'],
    scenarios: ['fcgi-stderr-flood'],
  },
  {
    reason: 'fastcgi-primary-script-unknown',
    example: "AH01071: Got error 'Primary script unknown'",
    meaning: 'PHP-FPM found no file at SCRIPT_FILENAME; it writes "Primary script unknown" to stderr and answers 404 "File not found.", which httpd relays.',
    causes: ['ProxyPass or SetHandler sending requests for files that do not exist to PHP-FPM', 'a DocumentRoot that differs from the one PHP-FPM sees (containers, chroot)'],
    directives: ['ProxyPassMatch ^/(.*\\.php)$ fcgi://...', 'SetHandler "proxy:unix:/run/php/php-fpm.sock|fcgi://localhost"', 'ProxyFCGIBackendType'],
    scenarios: ['fcgi-primary-script-unknown'],
  },
] as const satisfies readonly ReasonInfo[];

export const apache: GatewayAdapter = {
  id: 'apache',
  supportsTlsUpstream: true,
  binary: 'apache2',
  installHint: "apt-get install apache2 (Debian/Ubuntu; the rendered config expects Debian's apache2 binary and module directory)",
  // Debian's packages, one image per release (scripts/build-gateway-image.sh apache --release ...);
  // bookworm's security update 2.4.71, what apt installs on the host, is trixie's version.
  measuredOn: [
    { version: '2.4.68', image: 'badgateway/apache:bookworm' },
    { version: '2.4.69', image: 'badgateway/apache:sid' },
    { version: '2.4.71', image: 'badgateway/apache:trixie' },
  ],
  // Not the official httpd:2.4 image: its layout differs (binary httpd, modules in
  // /usr/local/apache2/modules, mod_unixd loadable), and the rendered config names Debian's
  // apache2 and module directory, where the expectations were measured. So the container
  // runtime runs the Debian apache2 that scripts/build-gateway-image.sh apache builds.
  defaultImage: 'badgateway/apache:bookworm',
  localImage: 'badgateway/apache:bookworm',
  versionArgs: ['-v'],
  versionExample: 'Server version: Apache/2.4.71 (Debian)\nServer built:   2026-11-12T08:58:41\n',
  parseVersion: (output) => /Apache\/(\d+\.\d+\.\d+)/.exec(output)?.[1],
  render,
  supportsPools: true,
  supportsFastcgi: true,
  supportsH2Upstream: true,
  supportsGrpc: true,
  args: (prefix, configPath) => ['-f', configPath, '-d', prefix, '-DFOREGROUND'],
  testArgs: (prefix, configPath) => ['-t', '-f', configPath, '-d', prefix],
  logFiles: ['logs/access.log', 'logs/error.log'],
  parseLogLine,
  reasons: REASONS,
  fromUserConfig,
  supportsResolver: false,
};

export default apache;
