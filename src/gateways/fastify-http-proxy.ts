/**
 * @fastify/http-proxy 11 on fastify 5: one registration per route (prefix and rewritePrefix
 * /s/<id>, so the path reaches the upstream whole), @fastify/reply-from and undici underneath.
 * Rendered as a CommonJS entry that the process runtime runs with badgateway's own Node
 * (src/gateways/node-proxy.ts).
 *
 * Timeouts are undici's: connectTimeout (connect), headersTimeout (until the head is in) and
 * bodyTimeout (between two body reads), from the run's connect and read timeouts. undici keeps
 * upstream connections alive on every route (its pool has no off switch short of a header).
 *
 * The log is reply-from's `onError` (the error before the head; reply-from wraps undici's error
 * and answers by the wrapper's status: 504 on a timeout, 503 when the name does not resolve,
 * 500 otherwise) and an `error` listener on the upstream body stream (a cut after the head).
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

const ID = 'fastify-http-proxy';

export const FASTIFY_PACKAGES: NodeProxyPackages = { main: '@fastify/http-proxy', install: { fastify: '5', '@fastify/http-proxy': '11' } };

const APP = String.raw`
const fastify = load('fastify')({ logger: false });
const httpProxy = load('@fastify/http-proxy');
fastify.get(CONFIG.ready, async () => 'ready');
for (const r of CONFIG.routes) {
  const prefix = r.path.replace(/\/$/, '');
  fastify.register(httpProxy, {
    upstream: r.kind === 'unix' ? 'unix+http://' + encodeURIComponent(r.socketPath) : r.origin,
    prefix,
    rewritePrefix: prefix,
    websocket: r.websocket,
    undici: {
      connectTimeout: CONFIG.timeouts.connectMs,
      headersTimeout: CONFIG.timeouts.readMs,
      bodyTimeout: CONFIG.timeouts.readMs,
    },
    replyOptions: {
      onError(reply, { error }) {
        log({ phase: reply.sent || reply.raw.headersSent ? 'body' : 'head', url: reply.request.raw.url, ...errFields(error) });
        reply.send(error);
      },
      onResponse(request, reply, res) {
        res.stream.once('error', (err) => log({ phase: 'body', url: request.raw.url, ...errFields(err) }));
        reply.send(res.stream);
      },
    },
  });
}
fastify.listen({ port: CONFIG.listen.port, host: CONFIG.listen.host }).catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
`;

function render(input: RenderInput): RenderedConfig {
  return renderEntry(ID, FASTIFY_PACKAGES, input, APP);
}

type FastifyReason = (typeof REASONS)[number]['reason'];

const REASONS = [
  {
    reason: 'connect-refused',
    example: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9001',
    meaning: 'nothing listens at the upstream address (ENOENT for a missing unix socket): reply-from answers 500 at once.',
    causes: ['the backend process is down or restarting', 'wrong port or socket path in upstream'],
    directives: ['upstream', 'replyOptions.onError (answer something else)'],
    scenarios: ['connect-refused'],
  },
  {
    reason: 'connect-timeout',
    example: 'UND_ERR_CONNECT_TIMEOUT: Connect Timeout Error',
    meaning: 'the TCP handshake did not complete within undici\'s connectTimeout: reply-from answers 504.',
    causes: ['the backend accept queue is full (overload) so SYNs are dropped', 'a firewall drops packets'],
    directives: ['undici.connectTimeout'],
    scenarios: ['accept-queue-full'],
  },
  {
    reason: 'read-timeout',
    example: 'UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error',
    meaning: "no complete head within undici's headersTimeout: reply-from answers 504. Mid-body, bodyTimeout cuts the response (UND_ERR_BODY_TIMEOUT).",
    causes: ['a stuck or slow backend', 'a long computation without streaming'],
    directives: ['undici.headersTimeout', 'undici.bodyTimeout'],
    scenarios: ['never-respond', 'slow-response'],
  },
  {
    reason: 'upstream-reset',
    example: 'ECONNRESET: read ECONNRESET',
    meaning: 'the upstream reset the connection (RST) before the response head: reply-from answers 500.',
    causes: ['the backend process crashed or was killed', 'a load balancer or conntrack dropped the flow'],
    directives: [],
    scenarios: ['reset-after-request'],
  },
  {
    reason: 'upstream-closed-early',
    example: 'UND_ERR_SOCKET: other side closed',
    meaning: 'the upstream closed the connection before a complete head ("other side closed"): reply-from answers 500.',
    causes: ['the backend crashed while handling the request', 'the backend closed an idle pooled connection as undici reused it'],
    directives: ['undici.keepAliveTimeout (shorter than the backend idle timeout)'],
    scenarios: ['empty-reply', 'close-on-accept'],
  },
  {
    reason: 'upstream-truncated',
    example: 'body UND_ERR_SOCKET: other side closed',
    meaning: 'the upstream closed the connection mid-body, after the head was relayed: the client gets a cut body.',
    causes: ['the backend crashed while streaming', 'a Content-Length larger than the body actually sent'],
    directives: [],
    scenarios: ['body-cut-fin-length'],
  },
  {
    reason: 'invalid-status',
    example: 'Response does not match the HTTP/1.1 protocol (Invalid status code)',
    meaning: "undici's parser (llhttp) refuses the status line: reply-from answers 500.",
    causes: ['a hand-written HTTP server'],
    directives: [],
    scenarios: ['garbage-status-line'],
  },
  {
    reason: 'no-valid-http',
    example: 'Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)',
    meaning: 'the reply does not start with HTTP/ (TLS, HTTP/2 frames, HTTP/0.9): reply-from answers 500.',
    causes: ['TLS on the upstream port: use an https:// upstream', 'an HTTP/2-only or non-HTTP service on the port'],
    directives: ['upstream (https://)', 'http2'],
    scenarios: ['tls-to-plain', 'http2-to-plain'],
  },
  {
    reason: 'invalid-header',
    example: 'Response does not match the HTTP/1.1 protocol (Invalid header value char)',
    meaning: "a response header line undici's parser refuses: reply-from answers 500.",
    causes: ['a hand-written HTTP server'],
    directives: [],
    scenarios: ['header-no-colon'],
  },
  {
    reason: 'header-too-big',
    example: 'UND_ERR_HEADERS_OVERFLOW: Headers Overflow Error',
    meaning: "the response head is larger than undici's maxHeaderSize (16 KiB by default): reply-from answers 500.",
    causes: ['large cookies or tokens in Set-Cookie', 'a debug header dumping state'],
    directives: ['undici.maxHeaderSize'],
    scenarios: ['header-too-big'],
  },
  {
    reason: 'invalid-chunked',
    example: 'body Response does not match the HTTP/1.1 protocol (Invalid character in chunk size)',
    meaning: 'the chunked body is malformed: the head has gone out, so the client gets a cut response.',
    causes: ['a broken chunked encoder'],
    directives: [],
    scenarios: ['invalid-chunk-size'],
  },
] as const satisfies readonly ReasonInfo[];

export const fastifyHttpProxy: GatewayAdapter = {
  id: ID,
  binary: NODE_BINARY,
  installHint: `npm install --save-dev fastify@5 @fastify/http-proxy@11 (in the project you run badgateway from); the proxy runs on badgateway's own Node`,
  // From npm (package-lock pins it), in the process runtime, on the two Nodes CI runs: the whole suite five times on each.
  measuredOn: [
    { version: '11.6.3+node20.20', image: 'process runtime, Node v20.20.2' },
    { version: '11.6.3+node24.22', image: 'process runtime, Node v24.22.3' },
  ],
  defaultImage: 'badgateway/node:bookworm',
  localImage: 'badgateway/node:bookworm',
  versionArgs: ['-e', versionScript(FASTIFY_PACKAGES)],
  versionExample: '@fastify/http-proxy 11.6.3\nnode v20.20.2\n',
  parseVersion: (out) => parseNodeProxyVersion(FASTIFY_PACKAGES.main, out),
  requires: () => nodeProxyRequires(ID, FASTIFY_PACKAGES),
  render,
  args: (_prefix, configPath) => [configPath],
  testArgs: nodeProxyTestArgs,
  logFiles: [NODE_PROXY_LOG],
  parseLogLine: (line): LogEntry<FastifyReason> | undefined => parseNodeProxyLine(ID, REASONS, line),
  exampleLine: (example) => nodeProxyExampleLine(ID, example),
  // undici resolves names with getaddrinfo (the system resolver): it cannot be pointed at ours.
  supportsResolver: false,
  supportsContainer: false,
  reasons: REASONS,
  fromUserConfig: nodeProxyFromUserConfig,
};

export default fastifyHttpProxy;
