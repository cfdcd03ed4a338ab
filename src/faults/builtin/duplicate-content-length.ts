import { defineFault } from '../fault.js';

export default defineFault({
  id: "duplicate-content-length",
  layer: "exchange",
  summary: "Two Content-Length headers with different values.",
  explain: "A response-smuggling shape. RFC 9112 says a recipient must treat it as an error; gateway versions differ (nginx began rejecting duplicates in 1.23.0).",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok", end: "fin" },
});
