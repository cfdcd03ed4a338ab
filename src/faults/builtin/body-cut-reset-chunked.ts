import { defineFault } from '../fault.js';

export default defineFault({
  id: "body-cut-reset-chunked",
  layer: "exchange",
  summary: "A chunked body cut before its last chunk, then RST.",
  explain: "As body-cut-fin-chunked, with a reset instead of a clean close.",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", { chunk: { repeat: "x", times: 100 } }] },
    { delay: 20 },
    "reset",
  ],
  wire: {
    bytes: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "64\r\n", { repeat: "x", times: 100 }, "\r\n"],
    end: "reset",
  },
});
