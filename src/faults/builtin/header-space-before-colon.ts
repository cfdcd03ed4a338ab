import { defineFault } from '../fault.js';

export default defineFault({
  id: "header-space-before-colon",
  layer: "exchange",
  summary: "A response header with whitespace between the name and the colon.",
  explain: "RFC 9112 says a server must reject such a line in a request and a proxy must strip the whitespace or reject it in a response; gateways disagree.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Spaced : value\r\n\r\nok" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Spaced : value\r\n\r\nok", end: "fin" },
});
