import { defineFault } from '../fault.js';

export default defineFault({
  id: "keepalive-stale",
  layer: "exchange",
  summary: "Answers the first request on a connection, then closes it when the next request arrives on it.",
  explain: "The deterministic form of the keep-alive race: every reused connection fails. Shows whether the gateway retries a request that died on a pooled connection, and for which methods.",
  steps: [
    { respond: { status: 200, body: "ok\n" } },
    { read: "head" },
    "close",
  ],
  // Two pipelined requests: the first is answered, the second gets a FIN and nothing else.
  wire: {
    request: "GET /keepalive-stale HTTP/1.1\r\nHost: test\r\n\r\nGET /keepalive-stale HTTP/1.1\r\nHost: test\r\n\r\n",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
    end: "fin",
  },
});
