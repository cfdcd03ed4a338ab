import { defineFault } from '../fault.js';

export default defineFault({
  id: "body-cut-fin-chunked",
  layer: "exchange",
  summary: "A chunked body cut before its last chunk, then FIN.",
  explain: "Crash mid-stream on a chunked response: a truncated 200 at the client (the gateway cannot send the terminating chunk it never got).",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", { chunk: { repeat: "x", times: 100 } }] },
    { delay: 20 },
    "close",
  ],
  wire: {
    bytes: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "64\r\n", { repeat: "x", times: 100 }, "\r\n"],
    end: "fin",
  },
});
