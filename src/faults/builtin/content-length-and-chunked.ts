import { defineFault } from '../fault.js';

export default defineFault({
  id: "content-length-and-chunked",
  layer: "exchange",
  summary: "Both Content-Length and Transfer-Encoding: chunked.",
  explain: "Another smuggling shape: chunked must win and Content-Length be dropped, or the response rejected. Watch which body the client gets.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" },
    "close",
  ],
  wire: {
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    end: "fin",
  },
});
