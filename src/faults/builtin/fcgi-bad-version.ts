import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-bad-version",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a STDOUT record whose header says version 2, then FIN.",
  explain: "A record the gateway cannot parse: only version 1 exists (FastCGI 1.0). What a backend speaking something else (or a stray byte shifting the stream) looks like. nginx answers 502 with \"upstream sent unsupported FastCGI protocol version: 2\".",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-record": {"type": "stdout", "version": 2, "content": "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", "paddingLength": 1}},
    "close",
  ],
  wire: {
    bytes: [{"hex": "02 06 0001 002f 01 00"}, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", {"hex": "00"}],
    end: "fin",
  },
});
