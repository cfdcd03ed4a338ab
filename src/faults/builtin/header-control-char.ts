import { defineFault } from '../fault.js';

export default defineFault({
  id: "header-control-char",
  layer: "exchange",
  summary: "A response header name that contains a control character (0x01).",
  explain: "Header names are tokens; a control byte makes the line invalid. Gateways either reject the response (502) or drop the header.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Ctl\u0001Name: value\r\n\r\nok" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Ctl\x01Name: value\r\n\r\nok", end: "fin" },
});
