import { defineFault } from '../fault.js';

export default defineFault({
  id: "keepalive-idle-close",
  layer: "exchange",
  summary: "Answers with keep-alive, then closes an idle connection after exactly idleMs (default 1000).",
  explain: "The keep-alive race behind many intermittent 502s: when the gateway reuses a pooled connection just as the upstream closes it, the request dies. Gateways retry idempotent requests on another connection; a POST gets a 502.",
  steps: [
    { respond: { status: 200, body: "ok\n" } },
    { "keep-alive": { idleMs: "${idleMs}" } },
  ],
  params: { idleMs: 1000 },
  // A keep-alive request: the answer, then a FIN once the connection has been idle for idleMs.
  wire: {
    request: "GET /keepalive-idle-close?idleMs=150 HTTP/1.1\r\nHost: test\r\n\r\n",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
    end: "fin",
    durationMs: { atLeast: 148 },
  },
});
