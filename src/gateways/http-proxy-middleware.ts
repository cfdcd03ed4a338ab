/**
 * http-proxy-middleware 3 on express 5, the way backends-for-frontends are built: one
 * `createProxyMiddleware` per route (pathFilter on /s/<id>/, so the path reaches the upstream
 * whole), node:http underneath (http-proxy 1.18). Rendered as a CommonJS entry that the
 * process runtime runs with badgateway's own Node (src/gateways/node-proxy.ts).
 *
 * Timeouts: `proxyTimeout` is the upstream request's socket idle timeout (set to the read
 * timeout); on it http-proxy aborts the request, which surfaces as ECONNRESET "socket hang up",
 * so the entry marks that request as timed out. There is no connect or send timeout of its own.
 * `timeout` times the client's socket, not the upstream's, and is left unset.
 *
 * The log is a plugin's listener on the proxy's `error` event (the error before or after the head;
 * a plugin keeps the middleware's own error response, which `on.error` would replace) and an
 * `error` listener on the upstream response (a body cut after the head went out).
 */
import type { GatewayAdapter, LogEntry, ReasonInfo, RenderInput, RenderedConfig } from './gateway.js';
import {
  NODE_BINARY,
  NODE_PROXY_LOG,
  nodeProxyExampleLine,
  nodeProxyFromUserConfig,
  nodeProxyRequires,
  nodeProxyTestArgs,
  parseNodeProxyLine,
  parseNodeProxyVersion,
  renderEntry,
  versionScript,
  type NodeProxyPackages,
} from './node-proxy.js';

const ID = 'http-proxy-middleware';

export const HPM_PACKAGES: NodeProxyPackages = { main: 'http-proxy-middleware', install: { express: '5', 'http-proxy-middleware': '3' } };

const APP = String.raw`
const http = require('node:http');
const express = load('express');
const { createProxyMiddleware } = load('http-proxy-middleware');
const app = express();
app.get(CONFIG.ready, (_req, res) => res.send('ready'));
// The proxy's error log: what went wrong, for which request, and whether the head had gone out.
function logErrors(proxyServer) {
  proxyServer.on('proxyReq', (proxyReq, req) => {
    proxyReq.once('timeout', () => { req.bgTimeout = 'proxyTimeout'; });
  });
  proxyServer.on('proxyRes', (proxyRes, req) => {
    req.bgResponded = true;
    proxyRes.once('error', (err) => log({ phase: 'body', url: req.originalUrl || req.url, ...errFields(err) }));
  });
  proxyServer.on('error', (err, req) => {
    log({ phase: req.bgResponded ? 'body' : 'head', url: req.originalUrl || req.url, ...errFields(err), ...(req.bgTimeout ? { timeout: req.bgTimeout } : {}) });
  });
}
const upgrades = [];
for (const r of CONFIG.routes) {
  const proxy = createProxyMiddleware({
    target: r.kind === 'unix' ? { socketPath: r.socketPath, host: 'localhost', protocol: 'http:' } : r.origin,
    pathFilter: r.path,
    // Our own agent per route: node:http's global agent keeps connections alive since Node 19.
    agent: new http.Agent({ keepAlive: r.keepalive }),
    proxyTimeout: CONFIG.timeouts.readMs,
    // A plugin, not on.error: an on.error handler replaces the middleware's own error response.
    plugins: [logErrors],
  });
  app.use(proxy);
  if (r.websocket) upgrades.push([r.path, proxy]);
}
const server = http.createServer(app);
server.on('upgrade', (req, socket, head) => {
  const hit = upgrades.find(([p]) => req.url.startsWith(p));
  if (hit) hit[1].upgrade(req, socket, head);
  else socket.destroy();
});
server.listen(CONFIG.listen.port, CONFIG.listen.host);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
`;

function render(input: RenderInput): RenderedConfig {
  return renderEntry(ID, HPM_PACKAGES, input, APP);
}

type HpmReason = (typeof REASONS)[number]['reason'];

const REASONS = [
  {
    reason: 'connect-refused',
    example: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9001',
    meaning: 'nothing listens at the upstream address (ENOENT for a missing unix socket): the middleware answers 504 at once.',
    causes: ['the backend process is down or restarting', 'wrong port or socket path in target'],
    directives: ['target', 'on.error (answer something else)'],
    scenarios: ['connect-refused'],
  },
  {
    reason: 'read-timeout',
    example: 'timeout ECONNRESET: socket hang up',
    meaning: 'the upstream socket was idle for proxyTimeout: http-proxy aborts the request ("socket hang up", which the entry marks as its timeout) and the middleware answers 504. Mid-body the response is cut.',
    causes: ['a stuck or slow backend', 'a long computation without streaming'],
    directives: ['proxyTimeout'],
    scenarios: ['never-respond', 'slow-response'],
  },
  {
    reason: 'upstream-reset',
    example: 'ECONNRESET: read ECONNRESET',
    meaning: 'the upstream reset the connection (RST) before the response head: the middleware answers 504.',
    causes: ['the backend process crashed or was killed', 'a load balancer or conntrack dropped the flow'],
    directives: [],
    scenarios: ['reset-after-request'],
  },
  {
    reason: 'upstream-closed-early',
    example: 'ECONNRESET: socket hang up',
    meaning: 'the upstream closed the connection before a complete head: Node says "socket hang up" and the middleware answers 504.',
    causes: ['the backend crashed while handling the request', 'the backend closed an idle pooled connection as it was reused'],
    directives: ['agent keepAlive / freeSocketTimeout'],
    scenarios: ['empty-reply', 'close-on-accept'],
  },
  {
    reason: 'upstream-truncated',
    example: 'body ECONNRESET: aborted',
    meaning: 'the upstream closed or reset the connection mid-body, after the head was relayed: the client gets a cut body.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: [],
    scenarios: ['body-cut-fin-length'],
  },
  {
    reason: 'invalid-status',
    example: 'HPE_INVALID_STATUS: Parse Error: Invalid status code',
    meaning: "Node's parser (llhttp) refuses the status line: the middleware answers 502.",
    causes: ['a hand-written HTTP server'],
    directives: ['insecureHTTPParser (node --insecure-http-parser)'],
    scenarios: ['garbage-status-line'],
  },
  {
    reason: 'no-valid-http',
    example: 'HPE_INVALID_CONSTANT: Parse Error: Expected HTTP/',
    meaning: 'the reply does not start with HTTP/ (TLS, HTTP/2 frames, HTTP/0.9): the middleware answers 502.',
    causes: ['TLS on the upstream port: use an https:// target', 'an HTTP/2-only or non-HTTP service on the port'],
    directives: ['target (https://)'],
    scenarios: ['tls-to-plain', 'http2-to-plain'],
  },
  {
    reason: 'invalid-header',
    example: 'HPE_INVALID_HEADER_TOKEN: Parse Error: Invalid header value char',
    meaning: "a response header line Node's parser refuses (a control byte, no colon, a space before the colon, Content-Length with chunked): the middleware answers 502.",
    causes: ['a hand-written HTTP server'],
    directives: ['insecureHTTPParser (node --insecure-http-parser)'],
    scenarios: ['header-no-colon'],
  },
  {
    reason: 'duplicate-header',
    example: 'HPE_UNEXPECTED_CONTENT_LENGTH: Parse Error: Duplicate Content-Length',
    meaning: 'two Content-Length values: the middleware answers 500 (its error answer is 502 only for HPE_INVALID_* codes).',
    causes: ['a proxy chain that adds its own Content-Length', 'a hand-written HTTP server'],
    directives: [],
    scenarios: ['duplicate-content-length'],
  },
  {
    reason: 'header-too-big',
    example: 'HPE_HEADER_OVERFLOW: Parse Error: Header overflow',
    meaning: "the response head (or its header count) is larger than Node's limit (16 KiB by default): the middleware answers 500.",
    causes: ['large cookies or tokens in Set-Cookie', 'a debug header dumping state'],
    directives: ['node --max-http-header-size', 'agent maxHeaderSize'],
    scenarios: ['header-too-big'],
  },
  {
    reason: 'invalid-chunked',
    example: 'body HPE_INVALID_CHUNK_SIZE: Parse Error: Invalid character in chunk size',
    meaning: 'the chunked body is malformed: the head has gone out, so the client gets a cut response.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: ['invalid-chunk-size'],
  },
] as const satisfies readonly ReasonInfo[];

export const httpProxyMiddleware: GatewayAdapter = {
  id: ID,
  binary: NODE_BINARY,
  installHint: `npm install --save-dev express@5 http-proxy-middleware@3 (in the project you run badgateway from); the proxy runs on badgateway's own Node`,
  // From npm (package-lock pins it), in the process runtime, on the two Nodes CI runs: the whole suite five times on each.
  measuredOn: [
    { version: '3.0.11+node20.20', image: 'process runtime, Node v20.20.2' },
    { version: '3.0.11+node24.22', image: 'process runtime, Node v24.22.3' },
  ],
  defaultImage: 'badgateway/node:bookworm',
  localImage: 'badgateway/node:bookworm',
  versionArgs: ['-e', versionScript(HPM_PACKAGES)],
  versionExample: 'http-proxy-middleware 3.0.11\nnode v20.20.2\n',
  parseVersion: (out) => parseNodeProxyVersion(HPM_PACKAGES.main, out),
  requires: () => nodeProxyRequires(ID, HPM_PACKAGES),
  render,
  args: (_prefix, configPath) => [configPath],
  testArgs: nodeProxyTestArgs,
  logFiles: [NODE_PROXY_LOG],
  parseLogLine: (line): LogEntry<HpmReason> | undefined => parseNodeProxyLine(ID, REASONS, line),
  exampleLine: (example) => nodeProxyExampleLine(ID, example),
  // Node resolves names with getaddrinfo (the system resolver): it cannot be pointed at ours.
  supportsResolver: false,
  supportsContainer: false,
  reasons: REASONS,
  fromUserConfig: nodeProxyFromUserConfig,
};

export default httpProxyMiddleware;
