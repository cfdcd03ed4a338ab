import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-no-end-request",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a whole answer and the empty STDOUT, then FIN without END_REQUEST.",
  explain: "The response is complete as CGI output, but the application never says the request ended: a FastCGI client must treat the close as the request failing or the response as complete, and gateways differ. nginx needs END_REQUEST to finish a FastCGI request and logs the close before it as premature; which status the client gets once the body was sent is measured per gateway with the adapters.",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stdout": "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n"},
    {"fcgi-stdout": ""},
    {"delay": 20},
    "close",
  ],
  wire: {
    bytes: [{"hex": "01 06 0001 002f 01 00"}, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", {"hex": "00 01 06 0001 0000 00 00"}],
    end: "fin",
  },
});
