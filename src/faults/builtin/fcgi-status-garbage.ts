import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-status-garbage",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a CGI Status header whose code is not a number (\"Status: 2OO OK\", letters O).",
  explain: "The CGI Status header carries the HTTP status; here it does not parse as three digits. nginx answers 502 with \"upstream sent invalid status \\\"2OO OK\\\" while reading response header from upstream\"; other gateways are measured with the adapters.",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stdout": "Status: 2OO OK\r\nContent-Type: text/plain\r\n\r\nok\n"},
    {"fcgi-stdout": ""},
    {"fcgi-end": {}},
  ],
  wire: {
    bytes: [{"hex": "01 06 0001 002f 01 00"}, "Status: 2OO OK\r\nContent-Type: text/plain\r\n\r\nok\n", {"hex": "00 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000"}],
    end: "fin",
  },
});
