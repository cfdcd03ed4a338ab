import { defineFault } from '../fault.js';

export default defineFault({
  id: "invalid-chunk-size",
  layer: "exchange",
  summary: "A chunked body whose chunk-size line is not hexadecimal.",
  explain: "The headers were fine, so a gateway that streams has already sent 200 to the client; the body then breaks (\"upstream sent invalid chunked response\") and the client sees a truncated response.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", end: "fin" },
});
