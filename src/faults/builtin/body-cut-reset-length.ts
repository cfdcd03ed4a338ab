import { defineFault } from '../fault.js';

export default defineFault({
  id: "body-cut-reset-length",
  layer: "exchange",
  summary: "Content-Length: 1000, then 100 bytes, then RST.",
  explain: "Same as body-cut-fin-length but the upstream resets: the client still sees a truncated 200; the gateway logs a reset while reading upstream.",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { repeat: "x", times: 100 }] },
    { delay: 20 },
    "reset",
  ],
  wire: { bytes: ["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { repeat: "x", times: 100 }], end: "reset" },
});
