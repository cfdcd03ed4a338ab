import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-end-without-stdout",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: END_REQUEST at once, without a single STDOUT record.",
  explain: "An application that exits cleanly having printed nothing, not even CGI headers (a PHP script that calls exit before any output with output buffering misconfigured, or a crashed worker whose master still ends the request). The gateway has no response head at all: nginx answers 502 (\"upstream prematurely closed FastCGI stdout while reading response header from upstream\"); other gateways are measured with the adapters.",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-end": {"appStatus": 0, "protocolStatus": "request-complete"}},
  ],
  wire: {
    bytes: [{"hex": "01 03 0001 0008 00 00  00000000 00 000000"}],
    end: "fin",
  },
});
