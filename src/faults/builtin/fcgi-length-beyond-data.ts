import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-length-beyond-data",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a STDOUT record that declares 65535 bytes and carries 47, then FIN.",
  explain: "The record header promises more content than ever arrives, so the gateway is left inside a record when the connection closes: a truncated write from a dying worker, or a broken FastCGI library. nginx logs the close as premature (\"upstream prematurely closed FastCGI stdout\") and answers 502, since no whole CGI head arrived.",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-record": {"type": "stdout", "content": "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", "contentLength": 65535}},
    {"delay": 20},
    "close",
  ],
  wire: {
    bytes: [{"hex": "01 06 0001 ffff 00 00"}, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n"],
    end: "fin",
  },
});
