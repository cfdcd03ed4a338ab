import { defineFault } from '../fault.js';

export default defineFault({
  id: "body-cut-fin-length",
  layer: "exchange",
  summary: "Content-Length: 1000, then 100 bytes, then FIN.",
  explain: "Crash mid-body. The status line already went to the client, so the client gets a 200 whose body is short; the gateway logs \"upstream prematurely closed connection while reading upstream\".",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { repeat: "x", times: 100 }] },
    { delay: 20 },
    "close",
  ],
  wire: { bytes: ["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", { repeat: "x", times: 100 }], end: "fin" },
});
