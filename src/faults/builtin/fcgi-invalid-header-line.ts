import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-invalid-header-line",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: CGI output with a header line that has no colon.",
  explain: "The CGI head in STDOUT is not valid: a line without a colon, as from a script that prints before its headers are done. nginx answers 502 with \"upstream sent invalid header while reading response header from upstream\".",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stdout": "Status: 200 OK\r\nContent-Type: text/plain\r\nthis line has no colon\r\n\r\nok\n"},
    {"fcgi-stdout": ""},
    {"fcgi-end": {}},
  ],
  wire: {
    bytes: [{"hex": "01 06 0001 0047 01 00"}, "Status: 200 OK\r\nContent-Type: text/plain\r\nthis line has no colon\r\n\r\nok\n", {"hex": "00 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000"}],
    end: "fin",
  },
});
