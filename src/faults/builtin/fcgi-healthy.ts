import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-healthy",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a normal answer (Status: 200, a small body), as PHP-FPM gives it.",
  explain: "The control for FastCGI: the request read to the end of STDIN, then CGI output in STDOUT, the empty STDOUT record and END_REQUEST (appStatus 0, FCGI_REQUEST_COMPLETE). Every gateway should relay it as a 200. Records are padded to 8 bytes, as PHP-FPM and nginx pad them.",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-respond": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok\n"}},
  ],
  wire: {
    bytes: [{"hex": "01 06 0001 002f 01 00"}, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", {"hex": "00 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000"}],
    end: "fin",
  },
});
