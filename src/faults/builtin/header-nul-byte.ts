import { defineFault } from '../fault.js';

export default defineFault({
  id: "header-nul-byte",
  layer: "exchange",
  summary: "A response header value that contains a NUL byte.",
  explain: "NUL is never valid in a header. Gateways that parse strictly answer 502 with \"upstream sent invalid header\".",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Nul: before\u0000after\r\n\r\nok" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Nul: before\x00after\r\n\r\nok", end: "fin" },
});
