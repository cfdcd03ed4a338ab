import { defineFault } from '../fault.js';

export default defineFault({
  id: "too-many-headers",
  layer: "exchange",
  summary: "2000 small response headers (about 51 KiB of header block).",
  explain: "Many small headers overflow the header buffer just like one big one, and also hit header-count limits in gateways that have them.",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", { repeat: "X-Many: 0123456789abcdef\r\n", times: 2000 }, "\r\nok"] },
    "close",
  ],
  wire: {
    bytes: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", { repeat: "X-Many: 0123456789abcdef\r\n", times: 2000 }, "\r\nok"],
    end: "fin",
    headerLines: { "X-Many": 2000 },
  },
});
