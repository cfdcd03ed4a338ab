/**
 * Traefik v3: a static config (one entry point, the file provider, logs) and a
 * dynamic config (one router, service and servers transport per scenario) for a
 * route table; log parsing into reasons. Pure.
 *
 * No API, no dashboard, no metrics; ping is on with manual routing, so it is
 * served only through our own router at /__badgateway/ready on the one entry
 * point (without manual routing Traefik would open a `traefik` entry point on :8080).
 *
 * Logs: the access log (JSON, one object per request, with RequestPath for
 * ?bgp=<n>, DownstreamStatus, OriginStatus, ServiceAddr) and Traefik's own log
 * (JSON at DEBUG level), where a failed proxy attempt is one line such as
 * `{"level":"debug","error":"EOF",...,"message":"502 Bad Gateway"}` (Traefik v2
 * wrote `'502 Bad Gateway' caused by: EOF`). Those lines name no request: a dial
 * error names the upstream address, which the access log's ServiceAddr joins for
 * listener faults (each has its own port); other error lines are not attributed,
 * and the client side is what a run judges.
 *
 * Traefik reaches servers over TCP only (no unix sockets) and resolves names
 * with the system resolver only. No expectation in scenarios/ was measured on
 * Traefik yet (no binary or image where this was built).
 */
import { stringify } from 'yaml';
import { InputError } from '../errors.js';
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, ReasonInfo, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';

export const TRAEFIK_ACCESS_LOG = 'logs/access.log';
export const TRAEFIK_LOG = 'logs/traefik.log';
const ENTRY_POINT = 'badgateway';

function dur(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function serverUrl(route: GatewayRoute): string {
  const t = route.target;
  if (t.kind === 'tcp') return `http://${hostPort(t.host, t.port)}`;
  // Resolved per connection by Go's resolver, i.e. the system's (/etc/resolv.conf).
  if (t.kind === 'dns') return `http://${t.name}:${t.port}`;
  throw new InputError('BG_GATEWAY_UNSUPPORTED', `traefik cannot serve route ${route.id}: Traefik reaches HTTP servers over TCP only, not unix sockets.`);
}

/** Both files as plain objects (rendered to YAML). */
export function traefikConfigs(input: RenderInput): { static: Record<string, unknown>; dynamic: Record<string, unknown> } {
  const p = input.prefix;
  const to = input.timeouts;
  const forwardingTimeouts = {
    dialTimeout: dur(to.connectMs),
    // Until the response head (nginx's proxy_read_timeout before the header). Traefik has no
    // read timeout for the body from its file provider: a body that stalls is not cut.
    responseHeaderTimeout: dur(to.readMs),
  };
  const routers: Record<string, unknown> = {
    'badgateway-ready': { entryPoints: [ENTRY_POINT], rule: `Path(\`${READY_PATH}\`)`, service: 'ping@internal' },
  };
  const services: Record<string, unknown> = {};
  for (const r of input.routes) {
    routers[`r-${r.id}`] = { entryPoints: [ENTRY_POINT], rule: `PathPrefix(\`${routePath(r.id)}\`)`, service: `s-${r.id}` };
    // WebSocket upgrades pass through without any setting.
    services[`s-${r.id}`] = { loadBalancer: { servers: [{ url: serverUrl(r) }], passHostHeader: true, serversTransport: r.keepalive ? 'pooled' : 'unpooled' } };
  }
  return {
    static: {
      global: { checkNewVersion: false, sendAnonymousUsage: false },
      entryPoints: { [ENTRY_POINT]: { address: hostPort(input.listen.host, input.listen.port) } },
      providers: { file: { filename: `${p}/traefik-dynamic.yaml`, watch: false } },
      // Served only by the router above, on our entry point.
      ping: { manualRouting: true },
      // DEBUG: Traefik logs a failed proxy attempt ("502 Bad Gateway", error=...) at debug level only.
      log: { level: 'DEBUG', format: 'json', filePath: `${p}/${TRAEFIK_LOG}` },
      accessLog: { format: 'json', filePath: `${p}/${TRAEFIK_ACCESS_LOG}`, fields: { defaultMode: 'keep', headers: { defaultMode: 'drop' } } },
    },
    dynamic: {
      http: {
        routers,
        services,
        serversTransports: {
          // Traefik pools upstream connections by default; only keepalive routes should.
          pooled: { maxIdleConnsPerHost: 8, forwardingTimeouts },
          // A negative value disables connection reuse: one connection per request (nginx's default).
          unpooled: { maxIdleConnsPerHost: -1, forwardingTimeouts },
        },
      },
    },
  };
}

function render(input: RenderInput): RenderedConfig {
  const c = traefikConfigs(input);
  const head = (what: string) => `# Rendered by badgateway for one suite run (${what}). Every path Traefik writes is under ${input.prefix}.\n`;
  return {
    files: {
      'traefik.yaml': head('static config: no API, no dashboard, ping only through our router') + stringify(c.static, { lineWidth: 0, aliasDuplicateObjects: false }),
      'traefik-dynamic.yaml': head('dynamic config, file provider') + stringify(c.dynamic, { lineWidth: 0, aliasDuplicateObjects: false }),
    },
    main: 'traefik.yaml',
  };
}

/** `{{name}}` placeholders a user's dynamic config may use. */
export const TRAEFIK_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen: 'the address Traefik must listen on (required): entryPoints: { web: { address: "{{listen}}" } }',
  upstream: 'the chaos upstream, host:port (required): servers: [{ url: "http://{{upstream}}" }]',
  healthy: 'a second upstream that always answers 200, host:port: servers: [{ url: "http://{{healthy}}" }]',
  prefix: 'a directory of the run, for any path Traefik writes',
};

/**
 * A user's config is one YAML file with both parts: the static keys
 * (entryPoints, ...) and the dynamic `http:` section. badgateway splits it,
 * points the file provider at the dynamic part and sets logs and ping itself.
 */
function fromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: TRAEFIK_PLACEHOLDERS,
    hints: { listen: '`address: "{{listen}}"` in an entry point', upstream: '`url: "http://{{upstream}}"` in a service\'s servers' },
    forbidden: ['api:', 'providers:', 'log:', 'accessLog:', 'ping:'],
    forbiddenWhy: 'badgateway sets it: no API or dashboard, the file provider for your http: section, logs under the run\'s prefix in a format it can attribute, and ping only on its own readiness route.',
  });
  const lines = body.split('\n');
  // Top-level keys: `http:` and everything under it is dynamic configuration, the rest static.
  const staticPart: string[] = [];
  const dynamicPart: string[] = [];
  let inHttp = false;
  for (const line of lines) {
    if (/^\S/.test(line) && !/^#/.test(line)) inHttp = /^(http|tcp|udp|tls):/.test(line);
    (inHttp ? dynamicPart : staticPart).push(line);
  }
  const ours = stringify({
    providers: { file: { filename: `${v.prefix}/traefik-dynamic.yaml`, watch: false } },
    ping: { manualRouting: true },
    log: { level: 'DEBUG', format: 'json', filePath: `${v.prefix}/${TRAEFIK_LOG}` },
    accessLog: { format: 'json', filePath: `${v.prefix}/${TRAEFIK_ACCESS_LOG}`, fields: { defaultMode: 'keep', headers: { defaultMode: 'drop' } } },
  });
  return {
    files: {
      'traefik.yaml': `# badgateway: the static part of ${file}, with its placeholders filled in.\n${staticPart.join('\n')}\n${ours}`,
      'traefik-dynamic.yaml': `# badgateway: the dynamic part of ${file}.\n${dynamicPart.join('\n')}\n`,
    },
    main: 'traefik.yaml',
  };
}

/** The reasons Traefik's table documents: the only ones its parser may give. */
export type TraefikReason = (typeof REASONS)[number]['reason'];

interface Pattern {
  readonly re: RegExp;
  readonly reason: TraefikReason;
}

/**
 * Go's error texts (net, net/http, net/textproto) as Traefik logs them for a
 * failed proxy attempt, before any response byte reached the client. First match wins.
 */
const BEFORE: readonly Pattern[] = [
  { re: /connect: connection refused|dial unix .*: connect: no such file/, reason: 'connect-refused' },
  { re: /^dial tcp .*i\/o timeout|dial tcp .*: operation timed out/, reason: 'connect-timeout' },
  { re: /timeout awaiting response headers/, reason: 'read-timeout' },
  { re: /connection reset by peer|broken pipe/, reason: 'upstream-reset' },
  { re: /server response headers exceeded/, reason: 'header-too-big' },
  { re: /cannot contain multiple Content-Length headers/, reason: 'duplicate-header' },
  { re: /malformed HTTP status code/, reason: 'invalid-status' },
  { re: /malformed HTTP response|malformed HTTP version/, reason: 'no-valid-http' },
  { re: /malformed MIME header|invalid header|bad Content-Length|invalid Content-Length|unsupported transfer encoding|Transfer-Encoding/, reason: 'invalid-header' },
  { re: /malformed chunked encoding|invalid byte in chunk length|chunk length/, reason: 'invalid-chunked' },
  { re: /backend tried to switch protocol|101 switching protocols response with non-writable body/, reason: 'invalid-upgrade' },
  { re: /server closed idle connection|^(?:unexpected )?EOF$|: (?:unexpected )?EOF$/, reason: 'upstream-closed-early' },
];

/** Errors Go's ReverseProxy logs while copying a body the client already gets ("httputil: ReverseProxy read error during body copy: ..."). */
const DURING_BODY: readonly Pattern[] = [
  { re: /connection reset by peer/, reason: 'upstream-reset' },
  { re: /malformed chunked encoding|invalid byte in chunk length|chunk length/, reason: 'invalid-chunked' },
  { re: /i\/o timeout/, reason: 'read-timeout' },
  { re: /unexpected EOF|EOF$/, reason: 'upstream-truncated' },
];

function reasonFor(error: string, duringBody: boolean): TraefikReason | undefined {
  return (duringBody ? DURING_BODY : BEFORE).find((p) => p.re.test(error))?.reason;
}

const BODY_COPY = /ReverseProxy read error during body copy: (.*)$/;

/** The upstream address a dial error names, for attribution through the access log's ServiceAddr. */
function dialedAddress(error: string): string | undefined {
  return /dial tcp (\S+?):? (?:connect|i\/o|operation)/.exec(error)?.[1]?.replace(/:$/, '');
}

/** A proxy error: its status line text and the error, from any of the formats Traefik writes. */
function proxyError(line: string): { level: string; status?: number; error: string } | undefined {
  const t = line.trim();
  if (t.startsWith('{')) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(t) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const message = (typeof o.message === 'string' ? o.message : typeof o.msg === 'string' ? o.msg : '').trim();
    const level = typeof o.level === 'string' ? o.level : 'debug';
    const body = BODY_COPY.exec(message);
    if (body) return { level, error: `body copy: ${body[1]}` };
    const status = /^'?(\d{3}) [A-Za-z ]+'?(?: caused by: (.*))?$/.exec(message);
    if (!status) return undefined;
    const error = typeof o.error === 'string' ? o.error : (status[2] ?? '');
    return { level, status: Number(status[1]), error };
  }
  // The common (console) format: `2026-07-24T10:00:00Z DBG .../proxy.go:123 > 502 Bad Gateway error=EOF`.
  const common = /^(?:\S+ )?(TRC|DBG|INF|WRN|ERR)\s.*?> (.*)$/.exec(t);
  if (common) {
    const msg = common[2]!;
    const body = BODY_COPY.exec(msg);
    if (body) return { level: common[1]!, error: `body copy: ${body[1]}` };
    const m = /^(\d{3}) [A-Za-z ]+? error=(?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(msg);
    if (m) return { level: common[1]!, status: Number(m[1]), error: (m[2] ?? m[3] ?? '').replace(/\\"/g, '"') };
    return undefined;
  }
  // Traefik v2 (logrus): `time="..." level=debug msg="'502 Bad Gateway' caused by: EOF"`, or the message alone.
  const v2 = /(?:level=(\w+) .*?msg="?)?'?(\d{3}) [A-Za-z ]+'? caused by: (.*?)"?$/.exec(t);
  if (v2) return { level: v2[1] ?? 'debug', status: Number(v2[2]), error: v2[3]!.replace(/\\"/g, '"') };
  const body = BODY_COPY.exec(t);
  if (body) return { level: 'debug', error: `body copy: ${body[1]}` };
  return undefined;
}

function parseLogLine(line: string): LogEntry<TraefikReason> | undefined {
  const t = line.trim();
  if (t.startsWith('{') && t.includes('"RequestPath"')) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      const addr = typeof o.ServiceAddr === 'string' && o.ServiceAddr !== '' ? o.ServiceAddr : undefined;
      return { raw: line, level: 'access', target: typeof o.RequestPath === 'string' ? o.RequestPath : undefined, connection: addr };
    } catch {
      return undefined;
    }
  }
  const e = proxyError(t);
  if (!e) return undefined;
  const duringBody = e.error.startsWith('body copy: ');
  const error = duringBody ? e.error.slice('body copy: '.length) : e.error;
  const reason = reasonFor(error, duringBody);
  return { raw: line, level: reason ? 'error' : e.level, reason, connection: duringBody ? undefined : dialedAddress(error) };
}

const LINE = (status: string, error: string) => `{"level":"debug","error":"${error}","time":"2026-11-24T10:00:00Z","caller":"github.com/traefik/traefik/v3/pkg/proxy/httputil/proxy.go:187","message":"${status}"}`;

const REASONS = [
  {
    reason: 'connect-refused',
    example: LINE('502 Bad Gateway', 'dial tcp 127.0.0.1:9001: connect: connection refused'),
    meaning: 'Go\'s dialer got ECONNREFUSED: nothing listens at the server\'s address. Traefik answers 502 and logs the error at debug level.',
    causes: ['the backend process is down or restarting', 'wrong port in the server URL', 'the backend listens on another interface'],
    directives: ['retry middleware (attempts)', 'healthCheck (service)', 'failover service'],
    scenarios: ['connect-refused'],
  },
  {
    reason: 'connect-timeout',
    example: LINE('504 Gateway Timeout', 'dial tcp 127.0.0.1:9001: i/o timeout'),
    meaning: 'the TCP handshake did not complete within the servers transport\'s forwardingTimeouts.dialTimeout (30 s by default); a timeout is a 504.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['serversTransport forwardingTimeouts.dialTimeout', 'retry middleware'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'read-timeout',
    example: LINE('504 Gateway Timeout', 'net/http: timeout awaiting response headers'),
    meaning: 'no response head within forwardingTimeouts.responseHeaderTimeout (none by default): 504. Traefik has no timeout for a body that stalls once the head is in (the read timeout exists only for its NGINX provider), so such a response hangs until the client or the entry point gives up.',
    causes: ['a stuck or slow backend', 'a long computation before the first byte'],
    directives: ['serversTransport forwardingTimeouts.responseHeaderTimeout', 'entryPoints transport.respondingTimeouts (client side)'],
    scenarios: ['never-respond', 'slow-response'],
  },
  {
    reason: 'upstream-reset',
    example: LINE('502 Bad Gateway', 'read tcp 127.0.0.1:53124->127.0.0.1:9000: read: connection reset by peer'),
    meaning: 'the backend reset the connection (RST): before the response head the client gets 502; during the body Go\'s ReverseProxy logs "read error during body copy" and the client gets a truncated body.',
    causes: ['the backend process crashed or was killed', 'the backend reset a pooled connection Traefik reused'],
    directives: ['serversTransport maxIdleConnsPerHost / forwardingTimeouts.idleConnTimeout', 'retry middleware'],
    scenarios: [],
  },
  {
    reason: 'upstream-closed-early',
    example: LINE('502 Bad Gateway', 'EOF'),
    meaning: 'the backend closed the connection (FIN) before any response byte: Go returns EOF and Traefik answers 502. Go retries a request on a pooled connection the server closed while idle when the request is idempotent, so a stale keep-alive connection usually goes unseen for GET.',
    causes: ['the backend crashed while handling the request', 'a non-HTTP service on the port', 'the backend closed a pooled connection as a non-idempotent request was sent on it'],
    directives: ['retry middleware', 'serversTransport forwardingTimeouts.idleConnTimeout (shorter than the backend\'s)', 'maxIdleConnsPerHost'],
    scenarios: ['empty-reply'],
  },
  {
    reason: 'upstream-truncated',
    example: '{"level":"debug","time":"2026-11-24T10:00:00Z","message":"httputil: ReverseProxy read error during body copy: unexpected EOF"}',
    meaning: 'the backend closed the connection mid-body; the client already has the status line and gets a truncated body. The line is Go\'s ReverseProxy\'s and names no request.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'header-too-big',
    example: LINE('502 Bad Gateway', 'net/http: server response headers exceeded 1048576 bytes; aborted'),
    meaning: 'the response head is larger than Go\'s limit (MaxResponseHeaderBytes, 1 MiB by default).',
    causes: ['huge cookies or debug headers'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'duplicate-header',
    example: LINE('502 Bad Gateway', 'http: message cannot contain multiple Content-Length headers; got [\\"2\\" \\"5\\"]'),
    meaning: 'two different Content-Length values: Go refuses the response.',
    causes: ['a framework and a middleware both setting Content-Length'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'invalid-header',
    example: LINE('502 Bad Gateway', 'net/http: HTTP/1.x transport connection broken: malformed MIME header line: X-Broken'),
    meaning: 'Go\'s HTTP/1 client could not parse a response header line (no colon, a bad byte) or its framing headers.',
    causes: ['a hand-written HTTP server', 'a header value with a raw control character'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'no-valid-http',
    example: LINE('502 Bad Gateway', 'net/http: HTTP/1.x transport connection broken: malformed HTTP response \\"garbage\\"'),
    meaning: 'the reply does not start with an HTTP/1.x status line: Go refuses it and Traefik answers 502.',
    causes: ['a non-HTTP service on the server port', 'TLS or HTTP/2 on a server Traefik reaches as plain HTTP/1.1'],
    directives: ['server url https:// or h2c:// (for such a backend)', 'serversTransport'],
    scenarios: [],
  },
  {
    reason: 'invalid-status',
    example: LINE('502 Bad Gateway', 'net/http: HTTP/1.x transport connection broken: malformed HTTP status code \\"2OO\\"'),
    meaning: 'the status line has a malformed code.',
    causes: ['a hand-written HTTP server'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'invalid-chunked',
    example: '{"level":"debug","time":"2026-11-24T10:00:00Z","message":"httputil: ReverseProxy read error during body copy: malformed chunked encoding"}',
    meaning: 'the chunked body is malformed; the client already has the status line and gets a truncated body.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: [],
  },
  {
    reason: 'invalid-upgrade',
    example: LINE('500 Internal Server Error', 'backend tried to switch protocol \\"\\" when \\"websocket\\" was requested'),
    meaning: 'the backend answered 101 with an Upgrade other than the one the client asked for (or none): Go\'s ReverseProxy refuses to open the tunnel, and Traefik answers 500.',
    causes: ['a backend that answers 101 without Upgrade and Connection headers'],
    directives: [],
    scenarios: [],
  },
] as const satisfies readonly ReasonInfo[];

export const traefik: GatewayAdapter = {
  id: 'traefik',
  binary: 'traefik',
  installHint: 'Debian and npm do not package it; a release binary from github.com/traefik/traefik/releases, brew install traefik (macOS)',
  defaultImage: 'traefik:v3.7',
  // No Debian package and no build script: without a registry, load an image and pass --image.
  localImage: 'traefik:v3.7',
  versionArgs: ['version'],
  versionExample: 'Version:      3.7.9\nCodename:     ramequin\nGo version:   go1.25.4\n',
  parseVersion: (output) => /Version:\s+v?(\d+\.\d+\.\d+)/.exec(output)?.[1],
  render,
  args: (_prefix, configPath) => [`--configFile=${configPath}`],
  // Traefik has no config-test mode: `version` only proves the binary runs. A config it
  // rejects shows up at startup, and the run stops with Traefik's log tail.
  testArgs: () => ['version'],
  logFiles: [TRAEFIK_ACCESS_LOG, TRAEFIK_LOG],
  parseLogLine,
  supportsResolver: false,
  supportsUnixUpstream: false,
  reasons: REASONS,
  fromUserConfig,
};

export default traefik;
