import { defineFault } from '../fault.js';

export default defineFault({
  id: "header-no-colon",
  layer: "exchange",
  summary: "A response header line without a colon.",
  explain: "An invalid header line: strict gateways answer 502 (\"upstream sent invalid header\"), lenient ones drop the line.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Broken-Header-Without-Colon\r\n\r\nok" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Broken-Header-Without-Colon\r\n\r\nok", end: "fin" },
});
