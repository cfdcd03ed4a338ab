import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-stdout-cut-close",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: Content-Length 1000 in STDOUT, 100 bytes of body, then FIN: no empty STDOUT, no END_REQUEST.",
  explain: "A PHP worker that dies mid-output (killed by request_terminate_timeout, a segfault, the OOM killer): the CGI head reached the gateway, so the client has a 200 whose body is short. nginx's FastCGI module treats the connection closing before END_REQUEST as the upstream closing prematurely (its log says \"upstream prematurely closed FastCGI stdout\"); the exact line and client status per gateway are measured when the gateway adapters render fastcgi_pass.",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stdout": ["Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n", {"repeat": "x", "times": 100}]},
    {"delay": 20},
    "close",
  ],
  wire: {
    bytes: [{"hex": "01 06 0001 00a6 02 00"}, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n", {"repeat": "x", "times": 100}, {"hex": "0000"}],
    end: "fin",
  },
});
