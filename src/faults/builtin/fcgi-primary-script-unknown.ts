import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-primary-script-unknown",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: PHP-FPM's \"Primary script unknown\": STDERR, then a 404 \"File not found.\" in STDOUT.",
  explain: "What PHP-FPM sends when SCRIPT_FILENAME names no file (a wrong root or fastcgi_param SCRIPT_FILENAME): the message \"Primary script unknown\" in STDERR, then STDOUT with \"Status: 404 Not Found\", PHP's default \"Content-type: text/html; charset=UTF-8\" and the body \"File not found.\\n\", the empty STDOUT and END_REQUEST. nginx logs it as FastCGI sent in stderr: \"Primary script unknown\" while reading response header from upstream, and relays the 404: not a 502, but the most searched FastCGI error line. The bytes follow the output nginx users report; whether PHP-FPM ends the STDERR message with a newline is to be checked against a real php-fpm (issue #11, the faithful scenarios).",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stderr": "Primary script unknown"},
    {"fcgi-respond": {"status": 404, "headers": {"Content-type": "text/html; charset=UTF-8"}, "body": "File not found.\n"}},
  ],
  wire: {
    bytes: [{"hex": "01 07 0001 0016 02 00"}, "Primary script unknown", {"hex": "0000 01 06 0001 0051 07 00"}, "Status: 404 Not Found\r\nContent-type: text/html; charset=UTF-8\r\n\r\nFile not found.\n", {"hex": "00000000000000 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000"}],
    end: "fin",
  },
});
