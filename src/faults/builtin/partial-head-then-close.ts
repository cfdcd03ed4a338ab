import { defineFault } from '../fault.js';

export default defineFault({
  id: "partial-head-then-close",
  layer: "exchange",
  summary: "Sends half a header block, then closes (FIN).",
  explain: "A crash while writing headers: the gateway has no complete response and answers 502 (\"upstream prematurely closed connection while reading response header\").",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Type: text/pl" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nContent-Type: text/pl", end: "fin" },
});
