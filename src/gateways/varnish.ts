/**
 * Varnish Cache: VCL rendering for a route table, shared-memory log parsing into reasons. Pure.
 *
 * Every route is a backend of its own (with the run's connect, first-byte and between-bytes
 * timeouts) and every request is passed (`return (pass)`), never cached: badgateway tests what a
 * gateway does with a broken response, and a cache would answer the second probe from the first.
 * Varnish answers a failed fetch with its built-in `vcl_backend_error`: 503 "Backend fetch failed".
 *
 * Varnish writes no log file: its log is a ring in shared memory under its working directory
 * (`-n`, under the run's prefix). The harness dumps it with `varnishlog -d -g raw` whenever it
 * reads the logs (GatewayAdapter.logDump): one line per record, each with its transaction id
 * (vxid). A client request's `ReqURL` and its backend fetch's `BereqURL` both carry ?bgp=<n>;
 * `FetchError` records, which say what went wrong with the backend, carry only the fetch's vxid,
 * so the vxid is the line's connection id and they follow the BereqURL line (src/harness/attribute.ts).
 *
 * Varnish resolves a backend's `.host` once, when the VCL is compiled, through the system
 * resolver: it cannot use badgateway's DNS responder or re-resolve per request, so DNS
 * scenarios are skipped (`supportsResolver: false`).
 */
import { InputError } from '../errors.js';
import { fillUserConfig } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';

/** The shared-memory log's directory (varnishd -n), relative to the prefix. */
export const VARNISH_WORKDIR = 'varnish';
/** Where each dump of the shared-memory log goes, relative to the prefix. */
const LOG_FILE = 'logs/varnishlog.log';
/**
 * The records worth keeping: the request each transaction is about, the statuses, and every
 * error. VCL_Error: a VCL failure (e.g. an invalid header set in VCL); Error: a client-side
 * failure such as a lost session.
 */
const LOG_TAGS = ['ReqURL', 'BereqURL', 'RespStatus', 'BerespStatus', 'FetchError', 'Error', 'VCL_Error', 'BackendOpen', 'BackendClose'];

function sec(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A backend's VCL name: its position keeps two ids that differ only in punctuation apart. */
export function backendName(route: GatewayRoute, i: number): string {
  return `be${i}_${route.id.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** Why a route cannot be rendered for Varnish, or undefined when it can. */
export function varnishUnsupported(route: GatewayRoute): string | undefined {
  if (route.target.kind === 'dns') {
    return "Varnish resolves a backend's host once, when its VCL is compiled, through the system resolver: it cannot be pointed at badgateway's DNS responder or re-resolve per request";
  }
  return undefined;
}

/** A VCL string literal (no escapes in VCL's "..." strings: refuse what would break out of one). */
function str(s: string): string {
  if (/["\n\r]/.test(s)) throw new InputError('BG_GATEWAY_UNSUPPORTED', `varnish: ${JSON.stringify(s)} cannot be written as a VCL string (no quote or line break allowed).`);
  return `"${s}"`;
}

function backend(route: GatewayRoute, i: number, to: RenderInput['timeouts']): string {
  const t = route.target;
  const where = t.kind === 'tcp' ? [`.host = ${str(t.host)};`, `.port = "${t.port}";`] : t.kind === 'unix' ? [`.path = ${str(t.path)};`] : [];
  const lines = [
    ...where,
    `.connect_timeout = ${sec(to.connectMs)};`,
    // first_byte_timeout: waiting for the response head; between_bytes_timeout: a stall
    // mid-body. Both play nginx's proxy_read_timeout.
    `.first_byte_timeout = ${sec(to.readMs)};`,
    `.between_bytes_timeout = ${sec(to.readMs)};`,
  ];
  return `backend ${backendName(route, i)} {\n${lines.map((l) => `  ${l}`).join('\n')}\n}`;
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function recvRoute(route: GatewayRoute, i: number): string {
  const body = [`set req.backend_hint = ${backendName(route, i)};`];
  // The documented WebSocket recipe: pipe the upgrade, so the 101 and the frames after it pass
  // as bytes (vcl_pipe below restores the hop-by-hop headers a pipe would drop).
  if (route.websocket) body.push('if (req.http.Upgrade ~ "(?i)websocket") {', '  return (pipe);', '}');
  body.push('return (pass);');
  return `  if (req.url ~ "^${regexEscape(routePath(route.id))}") {\n${body.map((l) => `    ${l}`).join('\n')}\n  }`;
}

function render(input: RenderInput): RenderedConfig {
  for (const r of input.routes) {
    const why = varnishUnsupported(r);
    if (why) throw new InputError('BG_GATEWAY_UNSUPPORTED', `varnish cannot serve route ${r.id}: ${why}.`);
  }
  const to = input.timeouts;
  const noReuse = input.routes.map((r, i) => [r, i] as const).filter(([r]) => !r.keepalive);
  const vcl = `vcl 4.1;
# Rendered by badgateway for one suite run. Varnish listens on ${input.listen.host}:${input.listen.port} (varnishd -a);
# its working directory and shared-memory log are under ${input.prefix}/${VARNISH_WORKDIR}.

# No default backend: a request that matches no route gets 404 from vcl_recv.
backend default none;

${input.routes.map((r, i) => backend(r, i, to)).join('\n\n')}

sub vcl_recv {
  if (req.url == "${READY_PATH}") {
    return (synth(200, "ready"));
  }
${input.routes.map(recvRoute).join('\n')}
  return (synth(404, "no route"));
}

sub vcl_pipe {
  if (req.http.Upgrade) {
    set bereq.http.Upgrade = req.http.Upgrade;
    set bereq.http.Connection = req.http.Connection;
  }
}
${
  noReuse.length
    ? `
sub vcl_backend_fetch {
  # Varnish keeps every backend connection for reuse; a route without keepalive closes it after
  # one request, as nginx does by default.
  if (${noReuse.map(([r, i]) => `bereq.backend == ${backendName(r, i)}`).join(' ||\n      ')}) {
    set bereq.http.Connection = "close";
  }
}
`
    : ''
}`;
  return { files: { 'varnish.vcl': vcl }, main: 'varnish.vcl' };
}

/** `{{name}}` placeholders a user's VCL may use. Varnish's listen address is on its command line (-a), so there is no {{listen}}. */
export const VARNISH_PLACEHOLDERS: Readonly<Record<string, string>> = {
  upstream_host: 'the chaos upstream\'s address (required): backend default { .host = "{{upstream_host}}"; .port = "{{upstream_port}}"; }',
  upstream_port: "the chaos upstream's port",
  healthy_host: "a second upstream that always answers 200: its address (.host)",
  healthy_port: "the second upstream's port (.port)",
  prefix: 'a directory of the run, for any path Varnish writes',
};

function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const vcl = fillUserConfig(text, file, v, {
    placeholders: VARNISH_PLACEHOLDERS,
    hints: { listen: '', upstream: '`backend default { .host = "{{upstream_host}}"; .port = "{{upstream_port}}"; }`' },
    forbidden: [],
    forbiddenWhy: '',
    listenOnCommandLine: true,
    requiredAny: { upstream: ['upstream_host'] },
    extra: { upstream_host: v.upstream.host, upstream_port: String(v.upstream.port), healthy_host: v.healthy.host, healthy_port: String(v.healthy.port) },
  });
  return { files: { 'varnish.vcl': vcl }, main: 'varnish.vcl' };
}

/** The reasons Varnish's table documents: the only ones its parser may give. */
export type VarnishReason = (typeof REASONS)[number]['reason'];

interface Pattern {
  readonly re: RegExp;
  readonly reason: VarnishReason;
}

// FetchError texts as Varnish 7.1 and 7.7 write them (bin/varnishd/http1/cache_http1_fetch.c,
// cache_http1_vfp.c, cache_backend.c), measured through the built-in suite. Ordered: the first match wins.
const PATTERNS: readonly Pattern[] = [
  // "backend <name>: fail errno 111 (Connection refused)".
  { re: /: fail errno 111 \(/, reason: 'connect-refused' },
  { re: /: fail errno 110 \(/, reason: 'connect-timeout' },
  { re: /^first byte timeout/, reason: 'read-timeout' },
  // A body read that hit between_bytes_timeout (the socket's receive timeout: EAGAIN).
  { re: /^Resource temporarily unavailable/, reason: 'read-timeout' },
  { re: /Connection reset by peer|Broken pipe/, reason: 'upstream-reset' },
  // EOF before a complete response head, whether the backend sent FIN or RST, or bytes that never made a head.
  { re: /^HTC eof/, reason: 'upstream-closed-early' },
  { re: /^overflow/, reason: 'header-too-big' },
  { re: /^http format error/, reason: 'invalid-header' },
  // EOF inside the body: a chunked one ("chunked read err") or one with a Content-Length.
  { re: /^chunked read err|^straight insufficient bytes|^eof socket fail/, reason: 'upstream-truncated' },
  { re: /^chunked /, reason: 'invalid-chunked' },
];

/**
 * The one client-visible `Error` a backend fetch logs for a head Varnish parsed but cannot take:
 * it cannot tell how the body is framed (Content-Length with chunked), or it took a 1xx interim
 * response for the final one.
 */
const BODY_CANNOT = /^Body cannot be fetched/;

export function reasonOfFetchError(text: string): VarnishReason | undefined {
  return PATTERNS.find((p) => p.re.test(text))?.reason;
}

/** `varnishlog -g raw`: `<vxid> <tag> <c|b|-> <data>`. */
const RAW = /^\s*(\d+) (\w+)\s+([cb-]) ?(.*)$/;
/** Grouped varnishlog, as an operator would paste it: `-   FetchError     <data>` (with `|` or `*` for nested transactions). */
const GROUPED = /^[-*|\s]*[-*]+\s+(\w+)\s+(.*)$/;

function parseLogLine(line: string): LogEntry<VarnishReason> | undefined {
  let vxid: string | undefined;
  let tag: string;
  let data: string;
  const raw = RAW.exec(line);
  if (raw) {
    vxid = raw[1];
    tag = raw[2]!;
    data = raw[4]!;
  } else {
    const g = GROUPED.exec(line);
    if (!g) return undefined;
    tag = g[1]!;
    data = g[2]!;
  }
  switch (tag) {
    case 'ReqURL':
    case 'BereqURL':
      return { raw: line, level: 'info', target: data.trim(), connection: vxid };
    case 'FetchError':
      return { raw: line, level: 'error', reason: reasonOfFetchError(data), connection: vxid };
    case 'Error':
    case 'VCL_Error':
      return { raw: line, level: 'error', reason: BODY_CANNOT.test(data) ? 'invalid-header' : undefined, connection: vxid };
    default:
      return { raw: line, level: 'info', connection: vxid };
  }
}

const REASONS = [
  {
    reason: 'connect-refused',
    example: 'FetchError     b backend be7_connect_refused: fail errno 111 (Connection refused)',
    meaning: 'the backend refused the connection (errno 111). Varnish answers 503 "Backend fetch failed" from its built-in vcl_backend_error.',
    causes: ['the backend process is down or restarting', 'wrong .host/.port or .path in the backend definition'],
    directives: ['.connect_timeout', 'return (retry) in vcl_backend_error (max_retries)', 'a probe (health check) and a director with another backend'],
    scenarios: ['connect-refused'],
  },
  {
    reason: 'connect-timeout',
    example: 'FetchError     b backend be0_accept_queue_full: fail errno 110 (Connection timed out)',
    meaning: 'the TCP handshake did not complete within .connect_timeout; the client gets 503.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['.connect_timeout (backend) or connect_timeout (parameter)'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'read-timeout',
    example: 'FetchError     b first byte timeout',
    meaning: 'the backend sent no response head within .first_byte_timeout (the client gets 503), or stalled mid-body longer than .between_bytes_timeout, logged as "Resource temporarily unavailable" (the streamed response is cut).',
    causes: ['a stuck or slow backend', 'a body that never completes'],
    directives: ['.first_byte_timeout', '.between_bytes_timeout', 'bereq.first_byte_timeout and bereq.between_bytes_timeout (VCL)'],
    scenarios: ['never-respond', 'slow-response', 'body-short-hold-open'],
  },
  {
    reason: 'upstream-reset',
    example: 'FetchError     b Connection reset by peer',
    meaning: 'the backend reset the connection (RST) in the middle of the body; the streamed response is cut. An RST before a complete head is logged as "HTC eof (-1)" like a FIN (upstream-closed-early).',
    causes: ['the backend crashed or was killed while streaming'],
    directives: ['beresp.do_stream'],
    scenarios: ['body-cut-reset-length', 'body-cut-reset-chunked'],
  },
  {
    reason: 'upstream-closed-early',
    example: 'FetchError     b HTC eof (-1)',
    meaning: 'the connection ended (FIN or RST: Varnish does not tell them apart here) before a complete response head, or brought bytes that never made one (HTTP/0.9, TLS, HTTP/2); the client gets 503. A GET that fails so on a reused connection is retried once on a new one.',
    causes: ['the backend crashed while handling the request', 'the backend closed a kept-alive connection Varnish reused', 'a non-HTTP/1 service on the port'],
    directives: ['backend_idle_timeout (parameter) shorter than the backend\'s keep-alive timeout', 'return (retry) in vcl_backend_error'],
    scenarios: ['empty-reply', 'reset-after-request', 'partial-head-then-close', 'close-on-accept', 'reset-on-accept', 'http09-reply', 'tls-to-plain', 'http2-to-plain', 'keepalive-stale-get', 'keepalive-stale-post'],
  },
  {
    reason: 'upstream-truncated',
    example: 'FetchError     b straight insufficient bytes',
    meaning: 'the body ended before its Content-Length ("straight insufficient bytes") or inside a chunk ("chunked read err"); with streaming (the default) the client already has the head and gets a truncated body.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body sent'],
    directives: ['beresp.do_stream'],
    scenarios: ['body-cut-fin-length', 'body-cut-fin-chunked', 'body-cut-reset-length', 'body-cut-reset-chunked', 'body-short-hold-open'],
  },
  {
    reason: 'header-too-big',
    example: 'FetchError     b overflow',
    meaning: 'the response head did not fit: longer than http_resp_hdr_len / http_resp_size, or more header lines than http_max_hdr; the client gets 503.',
    causes: ['large cookies or tokens', 'many headers added by the application'],
    directives: ['http_resp_hdr_len', 'http_resp_size', 'http_max_hdr', 'workspace_backend'],
    scenarios: ['header-too-big', 'too-many-headers'],
  },
  {
    reason: 'invalid-header',
    example: 'FetchError     b http format error',
    meaning: 'Varnish refused the response head: a header line it cannot parse or a malformed status line ("http format error"), or a head whose body it cannot frame ("Body cannot be fetched": Content-Length with chunked, or a 1xx interim response taken as the final one). The client gets 503.',
    causes: ['a hand-written HTTP server', 'a raw control character or NUL in a header', 'Content-Length together with Transfer-Encoding: chunked', 'a 100 Continue or 103 Early Hints before the response'],
    directives: [],
    scenarios: ['header-no-colon', 'header-space-before-colon', 'header-control-char', 'header-nul-byte', 'garbage-status-line', 'content-length-and-chunked', 'interim-100', 'interim-103'],
  },
  {
    reason: 'invalid-chunked',
    example: 'FetchError     b chunked header non-hex',
    meaning: 'a chunk size is not hex: a 503 when it arrives before Varnish has started the response, otherwise the streamed response is cut.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: ['invalid-chunk-size'],
  },
] as const satisfies readonly ReasonInfo[];

export const varnish: GatewayAdapter = {
  id: 'varnish',
  binary: 'varnishd',
  installHint: 'apt-get install varnish (Debian/Ubuntu; stop the varnish service it starts), dnf install varnish (Fedora), brew install varnish (macOS)',
  // Debian's packages: bookworm's as a process on the host (no bookworm image holds Varnish), trixie's in its image.
  measuredOn: [
    { version: '7.1.1', image: 'process: Debian bookworm package 7.1.1-2+deb12u1' },
    { version: '7.7.0', image: 'badgateway/varnish:trixie' },
  ],
  // No official image can be pulled here, and the rendered arguments name Debian's layout: the local image.
  defaultImage: 'badgateway/varnish:trixie',
  localImage: 'badgateway/varnish:trixie',
  versionArgs: ['-V'],
  versionExample: 'varnishd (varnish-7.1.1 revision 7cee1c581bead20e88d101ab3d72afb29f14d87a)\nCopyright (c) 2006 Verdens Gang AS\n',
  parseVersion: (output) => /varnish-(\d+\.\d+\.\d+)/.exec(output)?.[1],
  render,
  // -F: foreground (the manager and its child share our process group). -n: the working
  // directory under the prefix. -T none: no management port (nothing listens but -a).
  args: (prefix, configPath, run) => [
    '-F',
    '-n',
    `${prefix}/${VARNISH_WORKDIR}`,
    '-a',
    run ? `${run.listen.host}:${run.listen.port}` : '127.0.0.1:6081',
    '-T',
    'none',
    '-f',
    configPath,
    '-s',
    'malloc,64m',
  ],
  // -C compiles the VCL to C (on stderr) without starting: a VCL error exits 2 with the compiler's message.
  testArgs: (prefix, configPath) => ['-C', '-n', `${prefix}/${VARNISH_WORKDIR}-check`, '-f', configPath],
  logFiles: [LOG_FILE],
  logDump: {
    binary: 'varnishlog',
    file: LOG_FILE,
    // -d: the whole log from its head, then exit; -g raw: one line per record with its vxid.
    args: (prefix) => ['-d', '-g', 'raw', '-n', `${prefix}/${VARNISH_WORKDIR}`, '-i', LOG_TAGS.join(',')],
    // A transaction's records reach the log when it ends, a moment after the client has its response.
    settleMs: 200,
  },
  parseLogLine,
  exampleLine: (example) => `     32771 ${example}`,
  supportsResolver: false,
  noResolverWhy: "varnish resolves a backend's host once, when its VCL is compiled, through the system resolver only: it cannot use badgateway's DNS responder or follow a name that changes",
  // Varnish pools backend connections by address (ip:port or socket path), whichever backend opened them.
  sharesConnectionPools: true,
  reasons: REASONS,
  fromUserConfig,
};

export default varnish;
