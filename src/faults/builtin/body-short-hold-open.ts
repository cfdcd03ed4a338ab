import { defineFault } from '../fault.js';

export default defineFault({
  id: "body-short-hold-open",
  layer: "exchange",
  summary: "Content-Length: 1000, then 100 bytes, and the connection held open.",
  explain: "The body never completes and never fails: the gateway waits for its read timeout, then cuts the client off mid-body (a truncated 200 after the timeout, not a 504).",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { repeat: "x", times: 100 }] },
    "hang",
  ],
  wire: {
    bytes: ["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { repeat: "x", times: 100 }],
    end: "timeout",
    timeoutMs: 300,
  },
});
