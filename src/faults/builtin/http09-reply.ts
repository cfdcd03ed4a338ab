import { defineFault } from '../fault.js';

export default defineFault({
  id: "http09-reply",
  layer: "exchange",
  summary: "Answers with a bare body: no status line, no headers (HTTP/0.9 style).",
  explain: "A non-HTTP service on the upstream port. Some gateways answer 502 \"no valid HTTP header\"; nginx relays the bytes as an HTTP/0.9 response, so the client sees no status line at all.",
  steps: [
    { read: "body" },
    { write: "hello from a backend that does not speak HTTP/1.x\n" },
    "close",
  ],
  wire: { bytes: "hello from a backend that does not speak HTTP/1.x\n", end: "fin" },
});
